"""Row ops: softmax, log_softmax, layer_norm, rms_norm (computed in f32 per row, rounded once)."""
import numbers

from .. import _core
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..tensor import _wrap, tensor_method
from .bias_grad import bias_grad


def _softmax_dim(input, dim, name):
    if dim is None:  # PyTorch's legacy implicit choice
        return 0 if input.ndim in (0, 1, 3) else 1
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    return int(dim)


def _check_dtype(dtype, name):
    if dtype is not None and getattr(dtype, "name", str(dtype)).replace("torch.", "") not in ("float16", "half"):
        raise TypeError(f"{name}: results are float16 (got dtype={dtype!r})")


@tensor_method()
def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along dim, computed stably in f32 and rounded to f16 once. dim=None takes PyTorch's
    legacy choice (0 for 0-, 1- and 3-d input, else 1); dtype may only be float16."""
    _check_dtype(dtype, "softmax")
    return _Softmax.apply(input, _softmax_dim(input, dim, "softmax"))


@tensor_method()
def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along dim, computed stably in f32 and rounded to f16 once. dim=None takes PyTorch's legacy
    choice (0 for 0-, 1- and 3-d input, else 1); dtype may only be float16."""
    _check_dtype(dtype, "log_softmax")
    return _LogSoftmax.apply(input, _softmax_dim(input, dim, "log_softmax"))


# ---- autograd: backward formulas in differentiable tensor ops (y: the saved output).
class _RowSoftmax(Function):
    """softmax and log_softmax: the forward runs the subclass's `kernel` and saves the output, all
    (with dim) that their backward needs. Two classes, so that graph walkers (coreml) tell them apart."""

    @classmethod
    def forward(cls, ctx, x, dim):
        y = _wrap(cls.kernel(x._a, dim))
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y


class _Softmax(_RowSoftmax):
    kernel = staticmethod(_core.softmax)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(ctx.dim, keepdim=True)), None


class _LogSoftmax(_RowSoftmax):
    kernel = staticmethod(_core.log_softmax)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True), None


def _shape(normalized_shape):
    # A tuple or list first: isinstance against numbers.Integral is an ABC check (~0.2 us) that they fail slowly
    if normalized_shape.__class__ is not tuple and normalized_shape.__class__ is not list and \
            isinstance(normalized_shape, numbers.Integral):
        return [int(normalized_shape)]
    return [int(s) for s in normalized_shape]


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the trailing `normalized_shape` dimensions to mean 0 and variance 1 (biased variance, plus
    eps), then scales by weight and adds bias when given, as torch.nn.functional.layer_norm. Statistics in f32."""
    return _Norm.apply(input, weight, bias, _shape(normalized_shape), float(eps), False)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """eps=None uses the float16 machine epsilon (2**-10), like torch.finfo(input.dtype).eps."""
    return _Norm.apply(input, weight, None, _shape(normalized_shape), 2.0**-10 if eps is None else float(eps), True)


class _Norm(Function):
    """layer_norm (rms=False) and rms_norm over the trailing normalized_shape. The backward is one fused kernel
    where the backend has it; with create_graph it recomputes the statistics with tensor ops (mean, rsqrt) so
    that it is differentiable again."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def name(ctx):
        return "rms_norm" if ctx.rms else "layer_norm"

    @staticmethod
    def forward(ctx, x, weight, bias, shape, eps, rms):
        w = None if weight is None else weight._a
        if rms:
            y = _core.rms_norm(x._a, shape, w, eps)
        else:
            y = _core.layer_norm(x._a, shape, w, None if bias is None else bias._a, eps)
        if ctx is not _NULL:  # (the null ctx's methods are Python calls that do nothing: ~0.1 us each)
            ctx.shape, ctx.eps, ctx.rms = shape, eps, rms
            ctx.save_for_backward(x, weight, bias)
        return _wrap(y)

    @staticmethod
    def backward(ctx, g):
        x, w, bias = ctx.saved_tensors
        need = ctx.needs_input_grad
        if not _grad_enabled():  # first derivatives only: one fused kernel where the backend has it
            fused = _core.norm_backward(ctx.rms, x._a, g._a, ctx.shape, None if w is None else w._a, ctx.eps,
                                        w is not None and need[1], need[2])
            if fused is not None:
                gx, gw, gb = fused
                return (_wrap(gx) if need[0] else None, _wrap(gw) if w is not None and need[1] else None,
                        _wrap(gb) if need[2] else None)
        dims = tuple(range(x.ndim - len(ctx.shape), x.ndim))
        batch = tuple(range(x.ndim - len(ctx.shape)))
        if ctx.rms:
            xc = x
            rstd = ((x * x).mean(dims, keepdim=True) + ctx.eps).rsqrt()
        else:
            xc = x - x.mean(dims, keepdim=True)
            rstd = ((xc * xc).mean(dims, keepdim=True) + ctx.eps).rsqrt()
        xhat = xc * rstd
        gxhat = g if w is None else g * w
        inner = gxhat - (gxhat * xhat).mean(dims, keepdim=True) * xhat
        if not ctx.rms:
            inner = inner - gxhat.mean(dims, keepdim=True)
        gx = inner * rstd if ctx.needs_input_grad[0] else None
        over_batch = (lambda t: t.sum(batch)) if batch else (lambda t: t)  # sum(()) would reduce everything
        gw = over_batch(g * xhat) if w is not None and ctx.needs_input_grad[1] else None
        gb = bias_grad(g, batch, x, w, bias) if ctx.needs_input_grad[2] else None
        return gx, gw, gb

    @staticmethod
    def backward_into(ctx, g, acc):
        """The fused backward adding dx into x's gradient so far (a residual stream's: x + f(norm(x)) sums two),
        in the same pass: no add of its own. Returns the other inputs' gradients, or False where there is no
        fused kernel."""
        x, w, _ = ctx.saved_tensors
        need = ctx.needs_input_grad
        fused = _core.norm_backward(ctx.rms, x._a, g._a, ctx.shape, None if w is None else w._a, ctx.eps,
                                    w is not None and need[1], need[2], into=acc._a)
        if fused is None:
            return False
        _, gw, gb = fused
        return None, _wrap(gw) if w is not None and need[1] else None, _wrap(gb) if need[2] else None


__all__ = ["softmax", "log_softmax", "layer_norm", "rms_norm"]
