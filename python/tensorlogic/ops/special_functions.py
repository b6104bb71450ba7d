"""torch.special's functions beyond ops/special.py, each a kernel of the op table (cpp/kernels/special.h: computed in
f32, in double where terms cancel, and rounded to f16 once): erfcx ndtr log_ndtr ndtri entr, the Bessel functions
i0 i1 i0e i1e (differentiable, as PyTorch's) and bessel_j0 bessel_j1 bessel_y0 bessel_y1 modified_bessel_k0
modified_bessel_k1 scaled_modified_bessel_k0 scaled_modified_bessel_k1 spherical_bessel_j0 (no gradient, as
PyTorch's), xlog1py and Hurwitz's zeta (binary), and multigammaln composed of lgamma. torch's top level has i0 and
mvlgamma of these, and Tensor has them as methods. Derivatives are written in differentiable ops (second order
flows)."""
import math

from .. import _core
from ..autograd.broadcast import sum_to
from ..autograd.function import Function
from ..creation import arange
from ..errors import TensorLogicRuntimeError
from ..tensor import Tensor, _wrap, tensor_method
from .elementwise import (_BINARY_GRAD, _UNARY_GRAD, _UNARY_USES_X, _UNARY_USES_Y, _Binary, _Unary, _binary, exp, log,
                          sign, where)

_U = _core.UnaryOp
_B = _core.BinaryOp
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)

__all__ = ["erfcx", "ndtr", "log_ndtr", "ndtri", "entr", "i0", "i1", "i0e", "i1e", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "xlog1py", "zeta", "multigammaln", "mvlgamma"]


def _i1_over_x(x, y, scaled):
    """I1(x) / x (times exp(-|x|) when scaled), y being I1(x) (or its scaled form). Below |x| = 1/2 it is the
    series 1/2 + x^2/16 + x^4/384 (the next term is under f16's precision there): the quotient's own derivative,
    (y' x - y) / x^2, cancels to noise in f16 near 0, and second derivatives flow through it."""
    near = abs(x) < 0.5
    x2 = x * x
    series = (x2 * (1.0 / 384.0) + 1.0 / 16.0) * x2 + 0.5
    if scaled:
        series = series * exp(-abs(x))
    return where(near, series, y / where(near, 1.0, x))


_UNARY_GRAD.update({
    _U.erfcx: lambda g, x, y, p0, p1: g * (x * y * 2.0 - 2.0 / _SQRT_PI),
    _U.ndtr: lambda g, x, y, p0, p1: g * exp(x * x * -0.5) * (1.0 / _SQRT_2PI),
    # phi(x) / Phi(x) = sqrt(2/pi) / erfcx(-x / sqrt 2): no underflow of either where x is far below 0, where
    # PyTorch's exp(-(log_ndtr(x) + x^2 / 2)) cancels two large f16 numbers
    _U.log_ndtr: lambda g, x, y, p0, p1: g * (math.sqrt(2.0 / math.pi) / _Unary.apply(_U.erfcx, x * -math.sqrt(0.5))),
    _U.ndtri: lambda g, x, y, p0, p1: g * exp(y * y * 0.5) * _SQRT_2PI,
    _U.entr: lambda g, x, y, p0, p1: g * -(log(x) + 1.0),
    _U.i0: lambda g, x, y, p0, p1: g * _Unary.apply(_U.i1, x),
    _U.i0e: lambda g, x, y, p0, p1: g * (_Unary.apply(_U.i1e, x) - sign(x) * y),
    # I1' = I0 - I1 / x (and the scaled form's), 1/2 at 0
    _U.i1: lambda g, x, y, p0, p1: g * (_Unary.apply(_U.i0, x) - _i1_over_x(x, y, scaled=False)),
    _U.i1e: lambda g, x, y, p0, p1: g * (_Unary.apply(_U.i0e, x) - sign(x) * y - _i1_over_x(x, y, scaled=True)),
})
_UNARY_USES_X.update({_U.erfcx, _U.ndtr, _U.log_ndtr, _U.entr, _U.i0, _U.i0e, _U.i1, _U.i1e})
_UNARY_USES_Y.update({_U.erfcx, _U.ndtri, _U.i0e, _U.i1, _U.i1e})



def _differentiable(op, name, doc):
    """The function of a unary kernel with its derivative (torch.special's: no Tensor method)."""
    def fn(input):  # _Unary.apply is looked up per call: the profiler replaces Function.apply
        return _Unary.apply(op, input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + " Computed in f32 (double where terms cancel) and rounded to f16 once."
    return fn


erfcx = _differentiable(_U.erfcx, "erfcx", "exp(x^2) erfc(x), without the underflow of erfc or the overflow of "
                                           "exp(x^2).")
ndtr = _differentiable(_U.ndtr, "ndtr", "The standard normal distribution function: the Gaussian's area below x.")
log_ndtr = _differentiable(_U.log_ndtr, "log_ndtr", "log(ndtr(x)), accurate where ndtr underflows (x far below 0).")
ndtri = _differentiable(_U.ndtri, "ndtri", "The inverse of ndtr: +-inf at 1 and 0, NaN outside [0, 1].")
entr = _differentiable(_U.entr, "entr", "-x log(x): 0 at 0 and -inf for negative x, as torch.special.entr.")
i0 = tensor_method("i0")(_differentiable(_U.i0, "i0", "The modified Bessel function of the first kind of order 0."))
i1 = _differentiable(_U.i1, "i1", "The modified Bessel function of the first kind of order 1.")
i0e = _differentiable(_U.i0e, "i0e", "exp(-|x|) i0(x), finite where i0 overflows.")
i1e = _differentiable(_U.i1e, "i1e", "exp(-|x|) i1(x), finite where i1 overflows.")


def _no_gradient(op, name, doc):
    """A function with no derivative, as PyTorch's: its result is a constant to autograd."""
    def fn(input):
        return _wrap(_core.unary(op, input._a, 0.0, 0.0))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + " Computed in double (float on Metal) and rounded to f16 once; no gradient, as in PyTorch."
    return fn


bessel_j0 = _no_gradient(_U.bessel_j0, "bessel_j0", "The Bessel function of the first kind of order 0.")
bessel_j1 = _no_gradient(_U.bessel_j1, "bessel_j1", "The Bessel function of the first kind of order 1.")
bessel_y0 = _no_gradient(_U.bessel_y0, "bessel_y0", "The Bessel function of the second kind of order 0 (x > 0).")
bessel_y1 = _no_gradient(_U.bessel_y1, "bessel_y1", "The Bessel function of the second kind of order 1 (x > 0).")
modified_bessel_k0 = _no_gradient(_U.bessel_k0, "modified_bessel_k0",
                                  "The modified Bessel function of the second kind of order 0 (x > 0).")
modified_bessel_k1 = _no_gradient(_U.bessel_k1, "modified_bessel_k1",
                                  "The modified Bessel function of the second kind of order 1 (x > 0).")
scaled_modified_bessel_k0 = _no_gradient(_U.bessel_k0e, "scaled_modified_bessel_k0", "exp(x) modified_bessel_k0(x).")
scaled_modified_bessel_k1 = _no_gradient(_U.bessel_k1e, "scaled_modified_bessel_k1", "exp(x) modified_bessel_k1(x).")
spherical_bessel_j0 = _no_gradient(_U.spherical_bessel_j0, "spherical_bessel_j0",
                                   "The spherical Bessel function of the first kind of order 0: sin(x) / x.")


def _xlog1py_grad(g, a, b, y):
    # d/da: log1p(b), 0 where a == 0 and b <= -1 (PyTorch's masked_fill); d/db: a / (1 + b). Either side may be a
    # number, which gets no gradient.
    ga = xlog1py(g, b)
    if isinstance(a, Tensor):
        ga = where((a == 0) & (b <= -1), 0.0, ga)
    return ga, g * a / (b + 1.0)


_BINARY_GRAD[_B.xlog1py] = _xlog1py_grad


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (unless other is NaN); either side may be a number."""
    return _Binary.apply(_B.xlog1py, input, other)


class _Zeta(Function):
    """Hurwitz's zeta(x, q); d/dq = -x zeta(x + 1, q). Its derivative in x is not implemented, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x if isinstance(x, Tensor) else None, q if isinstance(q, Tensor) else None)
        ctx.x_number = None if isinstance(x, Tensor) else x
        return _binary(_B.zeta, x, q)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise TensorLogicRuntimeError("the derivative for 'zeta' with respect to x is not implemented (as in "
                                          "PyTorch): only q gets a gradient")
        if not ctx.needs_input_grad[1]:
            return None, None
        x, q = ctx.saved_tensors
        x = ctx.x_number if x is None else x
        return None, sum_to(g * -x * zeta(x + 1.0, q), ctx.input_shapes[1])


def zeta(input, other):
    """Hurwitz's zeta function sum_k (other + k)^-input (Riemann's at other = 1): +inf at input = 1 and at other a
    non-positive integer, NaN for input < 1 (and for other < 0 with a non-integral input), as torch.special.zeta.
    Either side may be a number; the gradient flows to `other` only."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"zeta(): expected a Tensor, got {type(input).__name__} and {type(other).__name__}")
    return _Zeta.apply(input, other)


@tensor_method("mvlgamma")
def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension p: sum_(i<p) lgamma(input - i/2) + p (p - 1) / 4
    log(pi); elements at or below (p - 1) / 2, outside its domain, give that sum as PyTorch's do."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: p has to be greater than or equal to 1, got {p!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"multigammaln(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.is_floating_point():
        input = input.float()
    # built as a tensor, not a Python list: a p beyond memory is a MemoryError at once, not a loop of p steps
    halves = arange(p, device=input.device) * -0.5
    return _Unary.apply(_U.lgamma, input.unsqueeze(-1) + halves).sum(-1) + p * (p - 1) / 4.0 * math.log(math.pi)


mvlgamma = multigammaln
