"""Piecewise-linear functions of x (relu's kin: hardtanh, relu6, leaky_relu, rrelu, threshold, hardshrink, softshrink,
hardsigmoid, prelu) as single nodes whose derivative is the slope of the piece x lies on. That backward,
slope_select(g, x, ...), which relu and the fused relus use too, is recorded as a function of x as well as of g, with a
zero derivative in x (as PyTorch's threshold_backward and its kin are): a gradient taken with create_graph=True then
depends on x, and its own gradient in x is zeros, as PyTorch gives, rather than a graph that does not reach x."""
from .. import _core
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function
from ..tensor import Tensor, _wrap


def piecewise_linear(x, value, inside, slope_in=1.0, slope_out=0.0):
    """value(x) (computed with tensor ops, not recorded), a piecewise-linear function of x whose slope is slope_in
    where the bool tensor inside(x) is True and slope_out elsewhere. A slope is a number or a tensor that broadcasts
    to x; a tensor one that requires grad (prelu's weight) must be x's factor on its pieces (value = slope * x
    there), which gives its gradient."""
    return _PiecewiseLinear.apply(x, value, inside, slope_in, slope_out)


def slope_select(g, x, inside, slope_in=1.0, slope_out=0.0):
    """g times the slope of the piece x lies on (see piecewise_linear), a function of g, x and tensor slopes."""
    return _SlopeSelect.apply(g, x, inside, slope_in, slope_out)


class _PiecewiseLinear(Function):
    """value(x); its gradient is slope_select's, and a tensor slope's is the gradient times x on its pieces."""

    @staticmethod
    def forward(ctx, x, value, inside, slope_in, slope_out):
        if ctx is not _NULL:  # (setting an attribute of the null ctx is a Python call)
            _keep(ctx, inside, slope_in, slope_out, x)
        return value(x)

    @staticmethod
    def backward(ctx, g):
        x, slope_in, slope_out = _kept(ctx)
        need = ctx.needs_input_grad
        gx = _SlopeSelect.apply(g, x, ctx.inside, slope_in, slope_out) if need[0] else None
        return (gx, None, None) + _slope_grads(ctx, g * x if need[3] or need[4] else None, x)


class _SlopeSelect(Function):
    """x is an input only so that the result depends on it: its derivative in x is zero (the slopes are constant on
    each piece; at the corners PyTorch's too is the one-sided slope its mask picks)."""

    @staticmethod
    def forward(ctx, g, x, inside, slope_in, slope_out):
        if ctx is not _NULL:
            _keep(ctx, inside, slope_in, slope_out, x, g)
        return _select(inside(x), g, slope_in, slope_out)

    @staticmethod
    def backward(ctx, gg):
        x, slope_in, slope_out, g = _kept(ctx)
        need = ctx.needs_input_grad
        gg_g = _SlopeSelect.apply(gg, x, ctx.inside, slope_in, slope_out) if need[0] else None
        zeros = _wrap(_core.full(list(ctx.input_shapes[1]), 0.0, "float16", gg._a.device)) if need[1] else None
        return (gg_g, zeros, None) + _slope_grads(ctx, gg * g if need[3] or need[4] else None, x)


def _keep(ctx, inside, slope_in, slope_out, *tensors):
    """Keeps the mask and the slopes on ctx: tensor slopes saved with the tensors (so an in-place change to one, such
    as an optimizer's step on prelu's weight, fails backward as in PyTorch), numbers as they are."""
    ctx.inside = inside
    ctx.numbers = tuple(None if isinstance(s, Tensor) else s for s in (slope_in, slope_out))
    ctx.save_for_backward(*tensors, *(s if isinstance(s, Tensor) else None for s in (slope_in, slope_out)))


def _kept(ctx):
    """(x, slope_in, slope_out, then the other tensors _keep saved)."""
    saved = ctx.saved_tensors
    slopes = [n if t is None else t for t, n in zip(saved[-2:], ctx.numbers)]
    return (saved[0], *slopes, *saved[1:-2])


def _slope_grads(ctx, g, x):
    """The gradients of the tensor slopes (arguments 3 and 4) of a node whose output is `g` times the slope: g on
    each slope's own pieces, summed to its shape."""
    need = ctx.needs_input_grad
    return tuple(sum_to(_SlopeSelect.apply(g, x, ctx.inside, *pieces), ctx.input_shapes[k]) if need[k] else None
                 for k, pieces in ((3, (1.0, 0.0)), (4, (0.0, 1.0))))


def _select(mask, g, slope_in, slope_out):
    """g * slope_in where mask, else g * slope_out, selected rather than multiplied by a 0/1 mask: an inf or NaN
    gradient arriving on a piece of slope 0 gives 0 there, not NaN (as PyTorch's)."""
    on, off = (_scaled(g, s) for s in (slope_in, slope_out))
    return _wrap(_core.where(mask._a, *(v if v.__class__ is float else v._a for v in (on, off))))


def _scaled(g, slope):
    if isinstance(slope, Tensor):
        return g * slope
    return 0.0 if slope == 0 else g if slope == 1 else g * float(slope)
