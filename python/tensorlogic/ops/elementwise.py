"""Elementwise ops with broadcasting and scalar operands (PyTorch's names and signatures), as functions
and Tensor methods, plus the in-place forms (which advance the autograd version counter)."""
import numbers

import numpy as np

from .. import _core
from .._convert import check_f16_range
from ..tensor import Tensor, _as_tensor_like, _binary, _wrap, tensor_method

_U = _core.UnaryOp
_B = _core.BinaryOp

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
           "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal", "equal", "where", "neg", "negative", "abs", "exp", "log", "log1p", "sqrt",
           "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "gelu", "silu", "softplus", "clamp", "clip",
           "reciprocal", "square", "sign", "floor", "ceil", "round", "trunc", "logical_not", "logical_and",
           "logical_or", "isnan", "isinf", "isfinite", "relu_", "zero_", "fill_", "copy_"]


def _unary(op, input, p0=0.0, p1=0.0):
    return _wrap(_core.unary(op, input._a, p0, p1))


def _unary_function(op, name):
    def fn(input):
        return _wrap(_core.unary(op, input._a))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, computed in float32 and rounded to float16 once."
    return tensor_method(name)(fn)


neg = _unary_function(_U.neg, "neg")
abs = _unary_function(_U.abs, "abs")
exp = _unary_function(_U.exp, "exp")
log = _unary_function(_U.log, "log")
log1p = _unary_function(_U.log1p, "log1p")
sqrt = _unary_function(_U.sqrt, "sqrt")
rsqrt = _unary_function(_U.rsqrt, "rsqrt")
sin = _unary_function(_U.sin, "sin")
cos = _unary_function(_U.cos, "cos")
tanh = _unary_function(_U.tanh, "tanh")
sigmoid = _unary_function(_U.sigmoid, "sigmoid")
relu = _unary_function(_U.relu, "relu")
silu = _unary_function(_U.silu, "silu")
reciprocal = _unary_function(_U.reciprocal, "reciprocal")
square = _unary_function(_U.square, "square")
sign = _unary_function(_U.sign, "sign")
floor = _unary_function(_U.floor, "floor")
ceil = _unary_function(_U.ceil, "ceil")
logical_not = _unary_function(_U.logical_not, "logical_not")
negative = tensor_method("negative")(neg)


@tensor_method()
def round(input, decimals=0):
    if decimals == 0:
        return _unary(_U.round, input)
    scale = 10.0 ** decimals
    return _unary(_U.round, input * scale) / scale


@tensor_method()
def trunc(input):
    if input.dtype.name == "int32":
        return input
    return sign(input) * floor(abs(input))


@tensor_method()
def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(_U.gelu if approximate == "none" else _U.gelu_tanh, input)


@tensor_method()
def softplus(input, beta=1.0, threshold=20.0):
    return _unary(_U.softplus, input, float(beta), float(threshold))


@tensor_method()
def isnan(input):
    return _binary(_B.ne, input, input)


@tensor_method()
def isinf(input):
    return _binary(_B.eq, abs(input), float("inf"))


@tensor_method()
def isfinite(input):
    return logical_not(isnan(input)) * logical_not(isinf(input))


def _binary_function(op, name, doc):
    def fn(input, other):
        return _binary(op, input, other)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return tensor_method(name)(fn)


mul = _binary_function(_B.mul, "mul", "input * other, broadcasting.")
maximum = _binary_function(_B.maximum, "maximum", "The elementwise maximum (NaN propagates).")
minimum = _binary_function(_B.minimum, "minimum", "The elementwise minimum (NaN propagates).")
floor_divide = _binary_function(_B.floor_divide, "floor_divide", "floor(input / other).")
remainder = _binary_function(_B.remainder, "remainder", "Python's modulus: the result has the sign of other.")
eq = _binary_function(_B.eq, "eq", "A float16 0/1 mask of input == other.")
ne = _binary_function(_B.ne, "ne", "A float16 0/1 mask of input != other.")
lt = _binary_function(_B.lt, "lt", "A float16 0/1 mask of input < other.")
le = _binary_function(_B.le, "le", "A float16 0/1 mask of input <= other.")
gt = _binary_function(_B.gt, "gt", "A float16 0/1 mask of input > other.")
ge = _binary_function(_B.ge, "ge", "A float16 0/1 mask of input >= other.")
logical_and = _binary_function(_B.logical_and, "logical_and", "A float16 0/1 mask: both non-zero.")
logical_or = _binary_function(_B.logical_or, "logical_or", "A float16 0/1 mask: either non-zero.")
multiply = tensor_method("multiply")(mul)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
for _name, _fn in (("greater", gt), ("greater_equal", ge), ("less", lt), ("less_equal", le), ("not_equal", ne)):
    tensor_method(_name)(_fn)


@tensor_method()
def equal(input, other):
    """True when both have the same shape and elements (PyTorch's torch.equal)."""
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).numpy().all())


@tensor_method()
def add(input, other, *, alpha=1):
    """input + alpha * other (alpha other than 1 costs one more rounding, as it scales other first)."""
    return _binary(_B.add, input, _scaled(other, alpha))


@tensor_method()
def sub(input, other, *, alpha=1):
    return _binary(_B.sub, input, _scaled(other, alpha))


def _scaled(other, alpha):
    if alpha == 1:
        return other
    return other * alpha if isinstance(other, numbers.Number) else _binary(_B.mul, other, alpha)


def _negative(value):
    return _binary(_B.lt, value, 0) if isinstance(value, Tensor) else float(value < 0)


subtract = tensor_method("subtract")(sub)


@tensor_method()
def div(input, other, *, rounding_mode=None):
    """input / other; rounding_mode 'floor' (floor_divide) or 'trunc' rounds the quotient toward -inf or 0."""
    if rounding_mode is None:
        return _binary(_B.div, input, other)
    if rounding_mode == "floor":
        return _binary(_B.floor_divide, input, other)
    if rounding_mode != "trunc":
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    quotient = _binary(_B.floor_divide, input, other)
    if quotient.dtype.name == "int32":  # floor differs from trunc where the division is inexact with mixed signs
        inexact = _binary(_B.ne, _binary(_B.remainder, input, other), 0)
        mixed = _binary(_B.ne, _negative(input), _negative(other))
        return quotient + (inexact * mixed).int()
    return trunc(_binary(_B.div, input, other))


divide = tensor_method("divide")(div)
true_divide = tensor_method("true_divide")(lambda input, other: _binary(_B.div, input, other))


@tensor_method()
def pow(input, exponent):
    """input ** exponent; either side may be a scalar (a float16 result)."""
    if isinstance(input, Tensor) and isinstance(exponent, numbers.Number) and not isinstance(exponent, complex):
        if exponent == 2:
            return _unary(_U.square, input)
        return _unary(_U.pow, input, float(exponent))
    if isinstance(input, numbers.Number) and isinstance(exponent, Tensor):
        return _unary(_U.rpow, exponent, float(input))
    return _binary(_B.pow, input, exponent)


def _operand(value, like):
    """A tensor or scalar operand of where() as a Tensor on `like`'s device (ints as int32, floats as float16)."""
    return _as_tensor_like(value, like)


@tensor_method()
def where(condition, input=None, other=None):
    """input where condition is non-zero, else other (scalars allowed); where(condition) gives nonzero()."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else condition
    return _wrap(_core.where(_operand(condition, like)._a, _operand(input, like)._a, _operand(other, like)._a))


@tensor_method()
def clamp(input, min=None, max=None):
    """Limits values to [min, max]; either bound may be a tensor (broadcasting) or omitted."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return _wrap(_core.clamp(input._a, None if min is None else float(min), None if max is None else float(max)))


clip = tensor_method("clip")(clamp)


# ---- in place ---------------------------------------------------------------------------------------
def _bumped(t):
    t._version += 1
    return t


def _inplace_binary(op, t, other):
    if isinstance(other, Tensor):
        _core.binary_(op, t._a, other._a)
    elif isinstance(other, numbers.Number) and not isinstance(other, complex):
        _core.binary_scalar_(op, t._a, other)
    else:
        _core.binary_(op, t._a, _as_tensor_like(other, t)._a)
    return _bumped(t)


@tensor_method()
def add_(input, other, *, alpha=1):
    return _inplace_binary(_B.add, input, _scaled(other, alpha))


@tensor_method()
def sub_(input, other, *, alpha=1):
    return _inplace_binary(_B.sub, input, _scaled(other, alpha))


@tensor_method()
def mul_(input, other):
    return _inplace_binary(_B.mul, input, other)


@tensor_method()
def div_(input, other):
    return _inplace_binary(_B.div, input, other)


@tensor_method()
def relu_(input):
    _core.unary_(_U.relu, input._a)
    return _bumped(input)


@tensor_method()
def clamp_(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return copy_(input, clamp(input, min, max))
    lo = float("-inf") if min is None else float(min)
    hi = float("inf") if max is None else float(max)
    _core.unary_(_U.clamp, input._a, lo, hi)
    return _bumped(input)


clip_ = tensor_method("clip_")(clamp_)


@tensor_method()
def zero_(input):
    _core.fill_(input._a, 0.0)
    return _bumped(input)


@tensor_method()
def fill_(input, value):
    """Sets every element to value (float16 range-checked: beyond ±65504 raises PrecisionOverflowError)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"fill_: value must be a real number, got {type(value).__name__}")
    if input.dtype.name == "float16":
        check_f16_range(np.asarray(float(value)))
    _core.fill_(input._a, float(value))
    return _bumped(input)


@tensor_method()
def copy_(input, src, non_blocking=False):
    """Copies src into input (src broadcasts; float16 <-> int32 converts; devices may differ)."""
    if not isinstance(src, Tensor):
        src = _as_tensor_like(src, input)
    a = src._a if src._a.device == input._a.device else _core.to_device(src._a, input._a.device)
    _core.copy_(input._a, a)
    return _bumped(input)
