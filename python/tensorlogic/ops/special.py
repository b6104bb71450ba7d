"""PyTorch's trigonometric, hyperbolic and special elementwise functions. Those an f16 composition would
round too often (or overflow inside: x * x beyond 256) are kernels of the op table, computed in f32 and
rounded once: tan sinh cosh asin acos atan asinh acosh atanh expm1 sinc atan2 hypot copysign logaddexp
logaddexp2 xlogy lgamma digamma polygamma. The rest are exact compositions: exp2 logit deg2rad rad2deg heaviside fmax fmin
float_power sgn signbit isposinf isneginf, and the arc* aliases. Their derivatives are registered in the
elementwise families' tables, written in differentiable ops (so second derivatives flow)."""
import math

from .. import _core
from ..tensor import Tensor, tensor_method
from .elementwise import (_BINARY_GRAD, _UNARY_GRAD, _UNARY_USES_X, _UNARY_USES_Y, _Unary, _binary_function,
                          _unary_function, _written_back, cos, isnan, log, pow, rsqrt, sigmoid, sign, sqrt, where)

_U = _core.UnaryOp
_B = _core.BinaryOp
_LN2 = math.log(2.0)

__all__ = ["tan", "sinh", "cosh", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "asinh", "acosh", "atanh",
           "arcsinh", "arccosh", "arctanh", "expm1", "sinc", "atan2", "arctan2", "hypot", "copysign", "logaddexp",
           "logaddexp2", "xlogy", "exp2", "logit", "deg2rad", "rad2deg", "heaviside", "fmax", "fmin", "float_power",
           "sgn", "signbit", "isposinf", "isneginf", "lgamma", "digamma", "polygamma"]


# d/du (sin u / u) = (u cos u - sin u) / u^2 = u * sum_k (-1)^k 2k u^(2k-2) / (2k+1)!: its first five terms
# (relative error < 1e-5 for |u| < pi / 2), where the closed form would cancel to nothing near 0.
_SINC_SERIES = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(5, 0, -1)]


def _sinc_grad(g, x, y, p0, p1):
    near = x.abs() < 0.5
    u = x * math.pi
    v = u * u
    series = _SINC_SERIES[0]
    for c in _SINC_SERIES[1:]:
        series = v * series + c
    safe = where(near, 1.0, x)  # the unused branch stays finite, so that its gradient (0 times it) is not NaN
    return g * where(near, u * series * math.pi, (cos(safe * math.pi) - y) / safe)


_UNARY_GRAD.update({
    _U.tan: lambda g, x, y, p0, p1: g * (y * y + 1.0),
    _U.sinh: lambda g, x, y, p0, p1: g * cosh(x),
    _U.cosh: lambda g, x, y, p0, p1: g * sinh(x),
    # (1 - x)(1 + x): exact factors near |x| = 1, where 1 - x * x would cancel
    _U.asin: lambda g, x, y, p0, p1: g * rsqrt((1.0 - x) * (x + 1.0)),
    _U.acos: lambda g, x, y, p0, p1: -g * rsqrt((1.0 - x) * (x + 1.0)),
    _U.atan: lambda g, x, y, p0, p1: g / (x * x + 1.0),
    _U.asinh: lambda g, x, y, p0, p1: g / hypot(x, 1.0),  # sqrt(x^2 + 1) without x^2 overflowing f16
    _U.acosh: lambda g, x, y, p0, p1: g / (sqrt(x - 1.0) * sqrt(x + 1.0)),
    _U.atanh: lambda g, x, y, p0, p1: g / ((1.0 - x) * (x + 1.0)),
    _U.expm1: lambda g, x, y, p0, p1: g * (y + 1.0),
    _U.sinc: _sinc_grad,
})
_UNARY_GRAD.update({  # d lgamma = digamma, d polygamma(n) = polygamma(n + 1) (digamma is polygamma(0))
    _U.lgamma: lambda g, x, y, p0, p1: g * _Unary.apply(_U.polygamma, x, 0.0),
    _U.polygamma: lambda g, x, y, p0, p1: g * _Unary.apply(_U.polygamma, x, p0 + 1.0),
})
_UNARY_USES_Y.update({_U.tan, _U.expm1, _U.sinc})
_UNARY_USES_X.update({_U.sinh, _U.cosh, _U.asin, _U.acos, _U.atan, _U.asinh, _U.acosh, _U.atanh, _U.sinc, _U.lgamma,
                      _U.polygamma})


def _atan2_grad(g, a, b, y):
    h = hypot(a, b)  # a^2 + b^2 as h * h, divided one factor at a time: no f16 overflow
    return g * (b / h) / h, -g * (a / h) / h


def _hypot_grad(g, a, b, y):
    h = hypot(a, b)
    return g * (a / h), g * (b / h)


def _copysign_grad(g, a, b, y):
    # d/da |a| sign(b) = sign(a) sign(b), 0 at a = 0 as in PyTorch; b gets no gradient. Either side may be a
    # number (a second derivative differentiates copysign(1.0, b)); a number gets no gradient.
    flip = copysign(1.0, b) if isinstance(b, Tensor) else math.copysign(1.0, b)
    return (g * sign(a) * flip if isinstance(a, Tensor) else g * 0.0), g * 0.0


def _logaddexp_grad(scale):
    return lambda g, a, b, y: (g * sigmoid((a - b) * scale), g * sigmoid((b - a) * scale))


def _xlogy_grad(g, a, b, y):
    # PyTorch's (2.x): d/da = log(b) wherever it exists, also at a == 0 (xlogy(a - 1, x) at a = 1 is Gamma's and
    # Beta's log-density term); 0 only where a == 0 and b <= 0. xlogy(g, b) keeps 0 where no gradient came.
    grad_a = xlogy(g, b)
    undefined = (a == 0) & (b <= 0)  # a bool tensor, or a bool where both are numbers
    if isinstance(undefined, Tensor):
        grad_a = grad_a.masked_fill(undefined, 0.0)
    elif undefined:
        grad_a = grad_a * 0.0
    return grad_a, g * a / b


_BINARY_GRAD.update({_B.atan2: _atan2_grad, _B.hypot: _hypot_grad, _B.copysign: _copysign_grad,
                     _B.logaddexp: _logaddexp_grad(1.0), _B.logaddexp2: _logaddexp_grad(_LN2),
                     _B.xlogy: _xlogy_grad})

tan = _unary_function(_U.tan, "tan")
sinh = _unary_function(_U.sinh, "sinh")
cosh = _unary_function(_U.cosh, "cosh")
asin = _unary_function(_U.asin, "asin")
acos = _unary_function(_U.acos, "acos")
atan = _unary_function(_U.atan, "atan")
asinh = _unary_function(_U.asinh, "asinh")
acosh = _unary_function(_U.acosh, "acosh")
atanh = _unary_function(_U.atanh, "atanh")
expm1 = _unary_function(_U.expm1, "expm1")
sinc = _unary_function(_U.sinc, "sinc")
sinc.__doc__ = "sin(pi x) / (pi x), 1 at x = 0, computed in float32 and rounded to float16 once."
lgamma = _unary_function(_U.lgamma, "lgamma")
lgamma.__doc__ = "log |Gamma(input)|: +inf at the poles (0 and the negative integers), computed once and rounded to f16."
for _fn in (tan, sinh, cosh, asin, acos, atan, asinh, acosh, atanh, expm1, sinc, lgamma):
    _fn.__module__ = __name__  # made by elementwise's factory: the reference finds them here
arcsin, arccos, arctan = (tensor_method(n)(f) for n, f in (("arcsin", asin), ("arccos", acos), ("arctan", atan)))
arcsinh, arccosh, arctanh = (tensor_method(n)(f) for n, f in (("arcsinh", asinh), ("arccosh", acosh),
                                                              ("arctanh", atanh)))

atan2 = _binary_function(_B.atan2, "The angle of the point (other, input): atan(input / other) in the "
                         "right quadrant, in (-pi, pi].")
arctan2 = tensor_method("arctan2")(atan2)
hypot = _binary_function(_B.hypot, "sqrt(input^2 + other^2), squared in float32 (no f16 overflow).")
copysign = _binary_function(_B.copysign, "The magnitude of input with the sign (bit) of other.")
logaddexp = _binary_function(_B.logaddexp, "log(exp(input) + exp(other)), without overflow.")
logaddexp2 = _binary_function(_B.logaddexp2, "log2(2^input + 2^other), without overflow.")
xlogy = _binary_function(_B.xlogy, "input * log(other), 0 where input is 0 (unless other is NaN).")
for _fn in (atan2, hypot, copysign, logaddexp, logaddexp2, xlogy):
    _fn.__module__ = __name__


@tensor_method()
def exp2(input):
    """2 ** input, computed in float32 and rounded to float16 once."""
    return 2.0 ** input


@tensor_method()
def logit(input, eps=None):
    """log(p / (1 - p)), with p = input clamped to [eps, 1 - eps] when eps is given (else NaN outside [0, 1])."""
    p = input if eps is None else input.clamp(eps, 1.0 - eps)
    return log(p) - log(1.0 - p)


@tensor_method()
def deg2rad(input):
    """Degrees to radians: input * pi / 180."""
    return input * (math.pi / 180.0)


@tensor_method()
def rad2deg(input):
    """Radians to degrees: input * 180 / pi."""
    return input * (180.0 / math.pi)


@tensor_method()
def heaviside(input, values):
    """The step function: 0 where input < 0, 1 where input > 0, and `values` (a tensor) where input is 0."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside: values must be a Tensor, got {type(values).__name__}")
    if values.dtype is not input.dtype:
        raise TypeError(f"heaviside: values must have input's dtype {input.dtype.name}, got {values.dtype.name} "
                        "(PyTorch neither)")
    return where(input == 0, values, (input > 0).to(input.dtype))


@tensor_method()
def fmax(input, other):
    """The elementwise maximum, ignoring NaN: a NaN loses to a number (NaN only where both are). A tie's gradient
    goes to input, as in PyTorch."""
    return where((input >= other) | isnan(other), input, other)


@tensor_method()
def fmin(input, other):
    """The elementwise minimum, ignoring NaN: a NaN loses to a number (NaN only where both are). A tie's gradient
    goes to input, as in PyTorch."""
    return where((input <= other) | isnan(other), input, other)


@tensor_method()
def float_power(input, exponent):
    """input ** exponent in floating point (PyTorch's double; here float16, which every float dtype name means)."""
    if isinstance(input, Tensor) and not input.is_floating_point():
        input = input.float()
    if isinstance(exponent, Tensor) and not exponent.is_floating_point():
        exponent = exponent.float()
    return pow(input, exponent)


@tensor_method()
def sgn(input):
    """sign(input) for real tensors (PyTorch's complex extension of sign)."""
    return sign(input)


@tensor_method()
def signbit(input):
    """A bool tensor: the sign bit is set (true for -0.0 and negative numbers)."""
    if not input.is_floating_point():
        return input < 0
    return copysign(1.0, input) < 0


@tensor_method()
def isposinf(input):
    """A bool tensor: input == +inf."""
    return input == math.inf


@tensor_method()
def isneginf(input):
    """A bool tensor: input == -inf."""
    return input == -math.inf



@tensor_method()
def digamma(input):
    """The logarithmic derivative of Gamma, d/dx lgamma(x): -inf at +0, +inf at -0, NaN at the negative integers, as
    PyTorch. Computed in double where the backend has it (it cancels near its roots) and rounded to f16 once."""
    return _Unary.apply(_U.polygamma, input, 0.0)


def polygamma(n, input):
    """The n-th derivative of digamma (n = 0: digamma itself), as torch.polygamma(n, input): (-1)^(n+1) n! times the
    Hurwitz zeta function zeta(n + 1, input); its derivative is polygamma(n + 1)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"polygamma(): argument 'input' must be Tensor, not {type(input).__name__}")
    return _Unary.apply(_U.polygamma, input, float(_kernel_order(n)))


def _kernel_order(n):
    """n as the kernel takes it (a float parameter, an int inside): beyond 2^24 a float loses n's parity, so a huge n
    becomes 2^24 - 2 or 2^24 - 1, of its parity. Past n = 170 n! is inf in double and n! zeta(n + 1, x) keeps only
    its sign and whether zeta is 0, positive or inf, which for every f16 x is the same at any n past 2^21."""
    return n if n < 2**24 else 2**24 - 2 + n % 2


def _polygamma_method(input, n):
    """Tensor.polygamma(n): torch.polygamma(n, input)."""
    return polygamma(n, input)


_polygamma_method.__name__ = "polygamma"
tensor_method("polygamma")(_polygamma_method)
for _fn in (lgamma, digamma, _polygamma_method):
    _written_back(_fn, _fn.__name__ + "_")
