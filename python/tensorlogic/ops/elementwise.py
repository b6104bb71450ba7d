"""Elementwise ops with broadcasting and scalar operands (PyTorch's names and signatures), as functions
and Tensor methods, plus the in-place forms (which advance the autograd version counter); where and
masked_fill (a where with the mask first) among them."""
import builtins
import math
import numbers

import numpy as np

from .. import _core
from .._convert import EXACT_IN_FLOAT, check_f16_range, check_int_fill
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function, OpFamily, records
from ..autograd.grad_mode import grad_enabled as _grad_enabled, mode as _mode
from ..autograd.inplace import inplace
from ..dtypes import bool as _BOOL, float16 as _FLOAT16
from ..errors import ShapeMismatchError
from ..promotion import check_cast, promoted, result_type
from ..tensor import Tensor, _as_tensor_like, _binary, _wrap, tensor_method
from .indexing import nonzero
from .piecewise_linear import slope_select

_U = _core.UnaryOp
_B = _core.BinaryOp
_REAL = numbers.Real  # Python's and numpy's bools, ints and floats: numbers whose kind the core reads

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
           "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal", "equal", "where", "masked_fill", "neg", "negative", "abs", "exp", "log", "log1p",
           "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "gelu", "silu", "softplus", "clamp", "clip",
           "reciprocal", "square", "sign", "floor", "ceil", "round", "trunc", "erf", "erfc", "erfinv", "logical_not", "logical_and",
           "logical_or", "isnan", "isinf", "isfinite", "relu_", "zero_", "fill_", "copy_"]


# ---- autograd: the unary and binary families, each one Function with a table of derivatives written in
# differentiable tensor ops (x: input, y: output, g: incoming gradient, p0/p1: the op's scalar parameters).
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_GELU_C = math.sqrt(2.0 / math.pi)
_SQRT_PI = math.sqrt(math.pi)


class _ActivationBackward(Function):
    """grad * f'(x) for gelu, gelu_tanh and silu in one kernel (the binary *_backward ops; tanh's takes its
    output y for x). Its own derivatives are written in differentiable tensor ops, so that second derivatives
    flow."""

    @staticmethod
    def name(ctx):
        return ctx.op.name

    @staticmethod
    def forward(ctx, op, g, x):
        ctx.op = op
        ctx.save_for_backward(g, x)
        return _binary(op, g, x)

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (None, _ActivationBackward.apply(ctx.op, gg, x) if need[1] else None,
                gg * g * _SECOND_DERIVATIVE[ctx.op](x) if need[2] else None)


def _gelu_second(x):  # gelu = x Phi(x): gelu'' = phi(x) (2 - x^2)
    return exp(x * x * -0.5) * (1.0 / _SQRT_2PI) * (2.0 - x * x)


def _gelu_tanh_second(x):
    # gelu_tanh' = s + x s r k with u2 = 2c (x + a x^3), s = sigmoid(u2), r = sigmoid(-u2) = 1 - s (which f16
    # keeps accurate where s is near 1), k = du2/dx = 2c (1 + 3a x^2); so gelu_tanh'' = s r (2k + x ((r - s) k^2
    # + 12 c a x)).
    u2 = (x + x * x * x * 0.044715) * (2.0 * _GELU_C)
    s, r = sigmoid(u2), sigmoid(-u2)
    k = (x * x * (3 * 0.044715) + 1.0) * (2.0 * _GELU_C)
    return s * r * (k * 2.0 + x * ((r - s) * k * k + x * (12.0 * _GELU_C * 0.044715)))


def _silu_second(x):  # silu' = s (1 + x r): silu'' = s r (2 + x (r - s)), s = sigmoid(x), r = sigmoid(-x)
    s, r = sigmoid(x), sigmoid(-x)
    return s * r * ((r - s) * x + 2.0)


# tanh_backward(g, y) = g (1 - y^2) takes tanh's output y: its derivative in y is -2 g y.
_SECOND_DERIVATIVE = {_B.gelu_backward: _gelu_second, _B.gelu_tanh_backward: _gelu_tanh_second,
                      _B.silu_backward: _silu_second, _B.tanh_backward: lambda y: y * -2.0}


def _zero_grad(g, x, y, p0, p1):
    return g * 0.0


def _positive(x):
    return x > 0


_UNARY_GRAD = {
    _U.neg: lambda g, x, y, p0, p1: -g,
    _U.abs: lambda g, x, y, p0, p1: g * sign(x),
    _U.exp: lambda g, x, y, p0, p1: g * y,
    _U.log: lambda g, x, y, p0, p1: g / x,
    _U.log1p: lambda g, x, y, p0, p1: g / (x + 1.0),
    _U.sqrt: lambda g, x, y, p0, p1: g / (y * 2.0),
    _U.rsqrt: lambda g, x, y, p0, p1: g * y / x * -0.5,
    _U.sin: lambda g, x, y, p0, p1: g * cos(x),
    _U.cos: lambda g, x, y, p0, p1: -g * sin(x),
    _U.tanh: lambda g, x, y, p0, p1: _ActivationBackward.apply(_B.tanh_backward, g, y),  # one kernel, not three
    _U.sigmoid: lambda g, x, y, p0, p1: g * y * sigmoid(-x),  # 1 - y would cancel where y is near 1
    # relu and clamp select the gradient (as PyTorch does) rather than multiply it by a 0/1 mask: an inf or NaN
    # gradient arriving where the input was cut off gives 0 there, not NaN (e.g. log of a probability clamped
    # to f16's smallest normal, whose 1/x overflows once scaled: Categorical.log_prob of an unlikely action).
    # relu's is a function of x too (zero derivative), so its gradient's gradient in x is zeros, as PyTorch's.
    _U.relu: lambda g, x, y, p0, p1: slope_select(g, x, _positive),
    _U.gelu: lambda g, x, y, p0, p1: _ActivationBackward.apply(_B.gelu_backward, g, x),
    _U.gelu_tanh: lambda g, x, y, p0, p1: _ActivationBackward.apply(_B.gelu_tanh_backward, g, x),
    _U.silu: lambda g, x, y, p0, p1: _ActivationBackward.apply(_B.silu_backward, g, x),
    _U.softplus: lambda g, x, y, p0, p1: g * (lambda over: over + (1.0 - over) * sigmoid(x * p0))((x * p0 > p1).float()),
    _U.reciprocal: lambda g, x, y, p0, p1: -g * y * y,
    _U.square: lambda g, x, y, p0, p1: g * x * 2.0,
    _U.clamp: lambda g, x, y, p0, p1: where((x >= p0) & (x <= p1), g, 0.0),
    _U.pow: lambda g, x, y, p0, p1: g * 0.0 if p0 == 0 else g * _unary(_U.pow, x, p0 - 1.0) * p0,
    _U.rpow: lambda g, x, y, p0, p1: g * y * math.log(p0),
    _U.erf: lambda g, x, y, p0, p1: g * exp(-(x * x)) * (2.0 / _SQRT_PI),
    _U.erfc: lambda g, x, y, p0, p1: g * exp(-(x * x)) * (-2.0 / _SQRT_PI),
    _U.erfinv: lambda g, x, y, p0, p1: g * exp(y * y) * (_SQRT_PI / 2.0),
}
for _op in (_U.sign, _U.floor, _U.ceil, _U.round, _U.step, _U.logical_not):
    _UNARY_GRAD[_op] = _zero_grad


# Which saved values each derivative reads (saving more would make later in-place ops on them raise).
_UNARY_USES_Y = {_U.exp, _U.sqrt, _U.rsqrt, _U.tanh, _U.sigmoid, _U.reciprocal, _U.rpow, _U.erfinv}
_UNARY_USES_X = set(_UNARY_GRAD) - {_U.exp, _U.sqrt, _U.tanh, _U.reciprocal, _U.rpow, _U.neg, _U.erfinv}
# The two memberships by the enum member's identity (see _BINARY_SAVES), filled on first use: special.py adds
# its ops to the sets when the package is imported, before any op can record.
_UNARY_SAVES = {}


class _Unary(OpFamily):
    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, op, x, p0=0.0, p1=0.0):
        y = _wrap(_core.unary(op, x._a, p0, p1))
        if ctx is _NULL:  # nothing recorded (backward formulas' ops): each attribute set on it is a Python call
            return y
        ctx.op, ctx.p0, ctx.p1 = op, p0, p1
        saves = _UNARY_SAVES.get(id(op))
        if saves is None:
            saves = (op in _UNARY_USES_X, op in _UNARY_USES_Y)
            if _U.__members__.get(op.name) is op:  # only the members live for good: another object's id may recur
                _UNARY_SAVES[id(op)] = saves
        ctx.save_for_backward(x if saves[0] else None, y if saves[1] else None)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        fused = _WITH_COLUMN_SUMS.get(id(ctx.op))
        if fused is not None and not _grad_enabled():
            dx = _backward_with_column_sums(ctx, fused, g, y if fused is _B.tanh_backward else x)
            if dx is not None:
                return None, dx
        return None, _UNARY_GRAD[ctx.op](g, x, y, ctx.p0, ctx.p1)


# Activations whose backward can sum its result's columns in the same pass (the native op each takes): where the
# activation's input came from a linear layer whose bias needs a gradient, that gradient is those sums, kept with
# the activation's input gradient (Tensor._column_sums) for the linear's backward to take. Without create_graph only
# (the sums are no differentiable function of anything).
_WITH_COLUMN_SUMS = {id(_U.gelu): _B.gelu_backward, id(_U.gelu_tanh): _B.gelu_tanh_backward,
                     id(_U.silu): _B.silu_backward, id(_U.tanh): _B.tanh_backward}


def _backward_with_column_sums(ctx, op, g, x):
    """op(g, x) with its column sums kept on it, where the producer of the activation's input wants them (a Function
    with a wants_column_sums(node) test, linear's) and the backend has the fused kernel; else None."""
    producer = ctx.next[1]
    wants = getattr(getattr(producer, "fn", None), "wants_column_sums", None)
    if wants is None or not wants(producer):
        return None
    fused = _core.activation_backward_column_sums(op, g._a, x._a)
    if fused is None:
        return None
    dx = _wrap(fused[0])
    dx._column_sums = (dx._version, _wrap(fused[1]))
    return dx


def kept_column_sums(g):
    """The column sums kept with gradient g by an activation's backward, while g is unchanged since; else None."""
    kept = getattr(g, "_column_sums", None)
    if kept is None or kept[0] != g._version or _grad_enabled():
        return None
    return kept[1]


def _max_mask(a, b):
    return (a > b) + (a == b) * 0.5  # ties share the gradient, as in PyTorch


_ADDITIVE = (_B.add, _B.sub)  # their derivatives read no values, so nothing is saved


def _binary_saves(op):
    """What _Binary saves for op: (its operands, its output)."""
    return op not in _ADDITIVE, op in (_B.add_relu, _B.mul_relu)


# The same by the enum members' identity: a pybind11 enum hashes and compares through bound C++ methods
# (~0.1 us each), which `op in (...)` paid up to four times per recorded binary op. Other objects equal
# to a member (none are made by the library) take _binary_saves.
_BINARY_SAVES = {id(op): _binary_saves(op) for op in _B.__members__.values()}

_BINARY_GRAD = {
    _B.add: lambda g, a, b, y: (g, g),
    _B.sub: lambda g, a, b, y: (g, -g),
    _B.mul: lambda g, a, b, y: (None if b is None else g * b, None if a is None else g * a),  # (_kept_operands)
    _B.div: lambda g, a, b, y: (g / b, None if a is None else -(g / b) * (a / b)),
    _B.pow: lambda g, a, b, y: (g * b * pow(a, b - 1.0), g * where(a == 0, 0.0, pow(a, b) * log(a))),
    _B.maximum: lambda g, a, b, y: (lambda m: (g * m, g * (1.0 - m)))(_max_mask(a, b)),
    _B.minimum: lambda g, a, b, y: (lambda m: (g * m, g * (1.0 - m)))(_max_mask(b, a)),
    _B.add_relu: lambda g, a, b, y: (lambda gy: (gy, gy))(slope_select(g, y, _positive)),  # (relu's: see _UNARY_GRAD)
    _B.mul_relu: lambda g, a, b, y: (lambda gy: (gy * b, gy * a))(slope_select(g, y, _positive)),
    _B.floor_divide: lambda g, a, b, y: (g * 0.0, g * 0.0),
    _B.remainder: lambda g, a, b, y: (g, -g * _binary(_B.floor_divide, a, b)),
}


def _kept_operands(op, a, b, keep_a, keep_b):
    """Which operands _Binary saves, as PyTorch: a product keeps each factor only for the other's gradient, a quotient
    its numerator only for the denominator's; so `y = a * 2.0` saves nothing and a later in-place op on `a` leaves
    y's backward valid."""
    if id(op) == _MUL:
        return keep_a and keep_b and b.requires_grad, keep_b and keep_a and a.requires_grad
    if id(op) == _DIV:
        return keep_a and keep_b and b.requires_grad, keep_b
    return keep_a, keep_b


_MUL, _DIV = id(_B.mul), id(_B.div)


class _Binary(OpFamily):
    """op(a, b) with broadcasting; either side may be a number (which gets no gradient)."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, op, a, b):
        y = _binary(op, a, b)
        ctx.op = op
        saves = _BINARY_SAVES.get(id(op)) or _binary_saves(op)
        a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
        keep_a, keep_b = _kept_operands(op, a, b, a_tensor and saves[0], b_tensor and saves[0])
        ctx.save_for_backward(a if keep_a else None, b if keep_b else None, y if saves[1] else None)
        ctx.a_scalar, ctx.b_scalar = (None if a_tensor else a), (None if b_tensor else b)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        a = ctx.a_scalar if a is None else a
        b = ctx.b_scalar if b is None else b
        ga, gb = _BINARY_GRAD[ctx.op](g, a, b, y)
        need_a, need_b = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        return (None, sum_to(ga, ctx.input_shapes[1]) if need_a else None,
                sum_to(gb, ctx.input_shapes[2]) if need_b else None)


def _differentiable_binary(op):
    def operator(a, b):  # the per-op fast path inlined: operators are the hottest calls
        if ((a.requires_grad or (isinstance(b, Tensor) and b.requires_grad)) and _grad_enabled()) or _mode.anomaly:
            return _Binary.apply(op, a, b)
        return _binary(op, a, b)

    return operator


def _differentiable_reflected(op):
    def operator(self, other):  # `1.0 - y`, `0.5 * x`: as common as the forward operators, with the same fast path
        if ((self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)) and _grad_enabled()) or _mode.anomaly:
            return _Binary.apply(op, other, self)
        return _binary(op, other, self)

    return operator


# Tensor's arithmetic operators are these differentiable forms (tensor.py's bodies are the no-graph forward).
for _names, _op in ((("__add__",), _B.add), (("__sub__",), _B.sub), (("__mul__",), _B.mul),
                    (("__truediv__",), _B.div), (("__floordiv__",), _B.floor_divide), (("__mod__",), _B.remainder)):
    tensor_method(*_names)(_differentiable_binary(_op))
    setattr(Tensor, "__r" + _names[0][2:], _differentiable_reflected(_op))
Tensor.__neg__ = lambda self: _Unary.apply(_U.neg, self)
Tensor.__abs__ = lambda self: _Unary.apply(_U.abs, self)
Tensor.__rpow__ = lambda self, other: pow(other, self)


def _unary(op, input, p0=0.0, p1=0.0):
    return _Unary.apply(op, input, p0, p1)


def _unary_function(op, name):
    def fn(input):
        return _Unary.apply(op, input)

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
erf = _unary_function(_U.erf, "erf")
erfc = _unary_function(_U.erfc, "erfc")
erfinv = _unary_function(_U.erfinv, "erfinv")
negative = tensor_method("negative")(neg)


@tensor_method()
def round(input, decimals=0):
    """Rounds to the nearest integer, halves to even (as torch.round); with `decimals`, to that many decimal places
    (input * 10**decimals rounded, then divided back, so the f16 result is the nearest representable value)."""
    if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if not -(2**63) <= decimals < 2**63:
        raise OverflowError(f"round(): decimals {decimals} does not fit in 64 bits")
    if decimals == 0:
        return _unary(_U.round, input)
    try:
        scale = 10.0 ** decimals
    except OverflowError:  # beyond a double: inf, as PyTorch's float scale (its result is then NaN, as here)
        scale = math.inf
    return _unary(_U.round, input * scale) / scale


@tensor_method()
def trunc(input):
    """Rounds toward zero (integer tensors are returned as they are)."""
    if input.dtype.name != "float16":
        return input
    return sign(input) * floor(abs(input))


@tensor_method()
def gelu(input, approximate="none"):
    """GELU: x * Phi(x) (approximate='none', the exact erf form) or its tanh approximation (approximate='tanh'), as
    torch.nn.functional.gelu."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(_U.gelu if approximate == "none" else _U.gelu_tanh, input)


@tensor_method()
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (PyTorch's definition and defaults)."""
    return _unary(_U.softplus, input, float(beta), float(threshold))


@tensor_method()
def isnan(input):
    """A bool tensor: True where the element is NaN."""
    return _binary(_B.ne, input, input)


@tensor_method()
def isinf(input):
    """A bool tensor: True where the element is +inf or -inf (f16 overflows beyond 65504 to inf)."""
    return _binary(_B.eq, abs(input), float("inf"))


@tensor_method()
def isfinite(input):
    """A bool tensor: True where the element is neither NaN nor infinite."""
    return logical_not(isnan(input)) * logical_not(isinf(input))


def _binary_function(op, doc, differentiable=True):
    """The function named op.name(input, other), also a Tensor method: with a gradient through _Binary, or
    (differentiable=False: comparisons and logical ops, whose results are bool) the forward alone."""
    def fn(input, other):  # _Binary.apply is looked up per call: the profiler replaces Function.apply
        return _Binary.apply(op, input, other) if differentiable else _binary(op, input, other)

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc
    return tensor_method(op.name)(fn)


mul = _binary_function(_B.mul, "input * other, broadcasting.")
maximum = _binary_function(_B.maximum, "The elementwise maximum (NaN propagates).")
minimum = _binary_function(_B.minimum, "The elementwise minimum (NaN propagates).")
floor_divide = _binary_function(_B.floor_divide, "floor(input / other).")
remainder = _binary_function(_B.remainder, "Python's modulus: the result has the sign of other.")
eq = _binary_function(_B.eq, "A bool tensor: input == other.", differentiable=False)
ne = _binary_function(_B.ne, "A bool tensor: input != other.", differentiable=False)
lt = _binary_function(_B.lt, "A bool tensor: input < other.", differentiable=False)
le = _binary_function(_B.le, "A bool tensor: input <= other.", differentiable=False)
gt = _binary_function(_B.gt, "A bool tensor: input > other.", differentiable=False)
ge = _binary_function(_B.ge, "A bool tensor: input >= other.", differentiable=False)
logical_and = _binary_function(_B.logical_and, "A bool tensor: both non-zero.", differentiable=False)
logical_or = _binary_function(_B.logical_or, "A bool tensor: either non-zero.", differentiable=False)
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
    return _Binary.apply(_B.add, input, _scaled("add", input, other, alpha))


@tensor_method()
def sub(input, other, *, alpha=1):
    """input - alpha * other, broadcasting (alpha other than 1 scales other first, one more rounding); subtract is
    the same function."""
    return _Binary.apply(_B.sub, input, _scaled("sub", input, other, alpha))


def _scaled(name, input, other, alpha):
    """alpha * other in the dtype of input + other: alpha takes no part in promotion, and, as in PyTorch, a float
    alpha needs a float result and a bool alpha a bool one."""
    if alpha == 1 and alpha.__class__ is not bool:
        return other
    if name.startswith("sub") and any(x.__class__ is bool or (isinstance(x, Tensor) and x.dtype is _BOOL)
                                      for x in (input, other)):  # scaling would hide other's bool from the core
        raise TypeError(f"{name}: subtraction with a bool tensor is not supported (PyTorch neither); to invert a mask "
                        "use ~ or logical_not")
    if isinstance(other, Tensor) and isinstance(input, Tensor) and other.dtype is input.dtype:
        dtype = input.dtype
    else:
        dtype = result_type(input, other)
    if isinstance(alpha, bool) and dtype is not _BOOL:
        raise TypeError(f"{name}: a bool alpha needs a bool result, here {dtype.name} (PyTorch neither)")
    if dtype is not _FLOAT16 and not isinstance(alpha, numbers.Integral):
        raise TypeError(f"{name}: alpha must not be a floating point number for integral input tensors (PyTorch "
                        "neither)")
    if not isinstance(other, Tensor):
        return builtins.bool(other * alpha) if dtype is _BOOL else other * alpha
    scaled = mul(other if other.dtype is dtype else other.to(dtype), alpha)  # in the result's dtype: no int32 wrap
    return scaled if scaled.dtype is dtype else scaled.to(dtype)


def _negative(value):
    return _binary(_B.lt, value, 0) if isinstance(value, Tensor) else float(value < 0)


subtract = tensor_method("subtract")(sub)


@tensor_method()
def div(input, other, *, rounding_mode=None):
    """input / other; rounding_mode 'floor' (floor_divide) or 'trunc' rounds the quotient toward -inf or 0."""
    if rounding_mode is None:
        return _Binary.apply(_B.div, input, other)
    if rounding_mode == "floor":
        return _Binary.apply(_B.floor_divide, input, other)
    if rounding_mode != "trunc":
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    quotient = _binary(_B.floor_divide, input, other)
    if quotient.dtype.name != "float16":  # floor differs from trunc where the division is inexact with mixed signs
        inexact = _binary(_B.ne, _binary(_B.remainder, input, other), 0)
        mixed = _binary(_B.ne, _negative(input), _negative(other))
        return quotient + (inexact * mixed).int()
    return trunc(_Binary.apply(_B.div, input, other))


divide = tensor_method("divide")(div)


@tensor_method()
def true_divide(input, other):
    """input / other, broadcasting: div without a rounding mode."""
    return _Binary.apply(_B.div, input, other)


@tensor_method()
def pow(input, exponent):
    """input ** exponent; either side may be a number. Integers to integer powers stay integers (a negative
    number for exponent is refused, as in PyTorch); a float tensor with a number runs a kernel of its own."""
    if isinstance(input, Tensor) and input.dtype is _FLOAT16 and isinstance(exponent, _REAL):
        if exponent == 2:
            return _unary(_U.square, input)
        return _unary(_U.pow, input, float(exponent))
    if isinstance(exponent, Tensor) and exponent.dtype is _FLOAT16 and isinstance(input, _REAL):
        return _unary(_U.rpow, exponent, float(input))
    return _Binary.apply(_B.pow, input, exponent)


def _operand(value, like):
    """An operand of where(): a Tensor, a Python number (whose kind takes part in promotion, as PyTorch's
    numbers do) or other data as a Tensor on `like`'s device."""
    return value if isinstance(value, (Tensor, _REAL)) else _as_tensor_like(value, like)


def check_bool_mask(op, mask, message):
    """A mask or condition must be a bool tensor, as PyTorch requires (an integer mask would index: masked_select
    gave the elements at positions 0 and 1): PyTorch's TypeError for what is not a tensor, its RuntimeError, with
    `message` and the dtype, for another dtype."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not _BOOL:
        raise RuntimeError(f"{message} {mask.dtype.name}")
    return mask


def where(condition, input=None, other=None):
    """input where the bool condition is True, else other (numbers allowed); where(condition) gives nonzero().
    A condition of another dtype is a RuntimeError, as in PyTorch."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else condition
    condition = check_bool_mask("where", _as_tensor_like(condition, like),
                                "where expected condition to be a boolean tensor, but got a tensor with dtype")
    return _Where.apply(condition, _operand(input, like), _operand(other, like))


def _native(value):
    return value._a if isinstance(value, Tensor) else value


@tensor_method("where")
def _where_method(self, condition, other):
    """self where condition is non-zero, else other: Tensor.where takes the condition second, as in PyTorch
    (x.where(c, y) is where(c, x, y); it was where(x, c, y))."""
    return where(condition, self, other)


class _Where(Function):
    @staticmethod
    def forward(ctx, condition, input, other):
        ctx.save_for_backward(condition)
        return _wrap(_core.where(condition._a, _native(input), _native(other)))

    @staticmethod
    def backward(ctx, g):
        (c,) = ctx.saved_tensors
        a_shape, b_shape = ctx.input_shapes[1], ctx.input_shapes[2]
        ga = sum_to(where(c, g, 0.0), a_shape) if ctx.needs_input_grad[1] else None
        gb = sum_to(where(c, 0.0, g), b_shape) if ctx.needs_input_grad[2] else None
        return None, ga, gb


@tensor_method()
def masked_fill(input, mask, value):
    """input with value wherever the (broadcast) bool mask is True; the result keeps input's dtype (value, a number
    or a 0-d tensor, is converted to it, as in PyTorch: a float into an integer tensor rounds toward zero)."""
    check_bool_mask("masked_fill", mask, "masked_fill_ only supports boolean masks, but got mask with dtype")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    if not isinstance(value, Tensor):
        if input.dtype.name in ("int32", "int64") and isinstance(value, numbers.Real) and not isinstance(value, bool):
            # PyTorch refuses a number the integer dtype cannot hold: a NaN became INT64_MIN, 2^40 wrapped in int32
            if not math.isfinite(value):
                raise ValueError(f"masked_fill: cannot fill an {input.dtype.name} tensor with {value!r}")
            check_int_fill(value, input.dtype.name, "masked_fill")
        value = _as_tensor_like(value, input)
    return where(mask, value if value.dtype is input.dtype else value.to(input.dtype), input)


@tensor_method()
def masked_fill_(input, mask, value):
    """In place: input takes `value` wherever the (broadcast) bool mask is True; returns input."""
    if records(input, value):
        return inplace(input, lambda before: masked_fill(before, mask, value), "masked_fill_")
    out = masked_fill(input, mask, value)
    _core.copy_(input._a, out._a)
    input._version += 1
    return input


@tensor_method()
def clamp(input, min=None, max=None):
    """Limits values to [min, max]; either bound may be a tensor (broadcasting) or omitted."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, _REAL) or isinstance(max, _REAL):  # PyTorch then reads a 0-d tensor bound as a number
        min, max = (b.item() if isinstance(b, Tensor) and b.ndim == 0 else b for b in (min, max))
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out, min, max = promoted(input, min, max)  # the bounds' dtypes count too, as in PyTorch
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if input.dtype is not _FLOAT16:  # the bounds' kinds decide the dtype (a float bound: a float16 result)
        return _wrap(_core.clamp(input._a, min, max))
    return _Unary.apply(_U.clamp, input, float("-inf") if min is None else float(min),
                        float("inf") if max is None else float(max))


clip = tensor_method("clip")(clamp)


# ---- in place ---------------------------------------------------------------------------------------
def _bumped(t):
    t._version += 1
    return t


def _inplace_binary(op, t, other):
    if records(t, other):  # recorded: the out-of-place op builds the graph, its result is written into t
        return inplace(t, lambda before: _Binary.apply(op, before, other), "in-place " + str(op).split(".")[-1])
    if isinstance(other, Tensor):
        _core.binary_(op, t._a, other._a)
    elif isinstance(other, numbers.Number):
        _core.binary_scalar_(op, t._a, other)
    else:
        _core.binary_(op, t._a, _as_tensor_like(other, t)._a)
    return _bumped(t)


@tensor_method()
def add_(input, other, *, alpha=1):
    """In place: input += alpha * other (other broadcast to input's shape); returns input."""
    return _inplace_binary(_B.add, input, _scaled("add_", input, other, alpha))


@tensor_method()
def sub_(input, other, *, alpha=1):
    """In place: input -= alpha * other (other broadcast to input's shape); returns input."""
    return _inplace_binary(_B.sub, input, _scaled("sub_", input, other, alpha))


@tensor_method()
def mul_(input, other):
    """In place: input *= other (other broadcast to input's shape); returns input."""
    return _inplace_binary(_B.mul, input, other)


@tensor_method()
def div_(input, other, *, rounding_mode=None):
    """In place: input /= other (other broadcast to input's shape), rounded as div's rounding_mode says; returns
    input."""
    if rounding_mode is None:
        return _inplace_binary(_B.div, input, other)
    if rounding_mode == "floor":
        return _inplace_binary(_B.floor_divide, input, other)
    if records(input, other):
        return inplace(input, lambda before: div(before, other, rounding_mode=rounding_mode), "div_")
    return _write_back(input, div(input, other, rounding_mode=rounding_mode), "div_")


@tensor_method()
def relu_(input):
    """In place: input = max(input, 0); returns input."""
    if records(input):
        return inplace(input, relu, "relu_")
    _core.unary_(_U.relu, input._a)
    return _bumped(input)


def _inplace_unary(op, fn, name):
    def method(input):
        if records(input):
            return inplace(input, fn, name)
        _core.unary_(op, input._a)
        return _bumped(input)

    method.__name__ = name
    method.__qualname__, method.__module__ = f"Tensor.{name}", Tensor.__module__  # a method only: found there
    method.__doc__ = f"In place: input = {fn.__name__}(input)."
    return tensor_method(name)(method)


for _op, _fn in ((_U.exp, exp), (_U.log, log), (_U.sqrt, sqrt), (_U.tanh, tanh), (_U.sigmoid, sigmoid), (_U.neg, neg),
                 (_U.abs, abs), (_U.sin, sin), (_U.cos, cos), (_U.floor, floor), (_U.ceil, ceil), (_U.square, square)):
    _inplace_unary(_op, _fn, _fn.__name__ + "_")


@tensor_method()
def clamp_(input, min=None, max=None):
    """In place: input limited to [min, max] (either may be omitted or a tensor); returns input. clip_ is the same
    method."""
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    if records(input, min, max):
        return inplace(input, lambda before: clamp(before, min, max), "clamp_")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _write_back(input, clamp(input, min, max), "clamp_")
    _core.clamp_(input._a, min, max)
    return _bumped(input)


clip_ = tensor_method("clip_")(clamp_)


@tensor_method()
def zero_(input):
    """In place: every element set to 0; returns input."""
    if records(input):
        return inplace(input, lambda before: where(True, 0.0, before), "zero_")
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
    elif input.dtype.name in ("int32", "int64"):
        if not math.isfinite(value):
            raise ValueError(f"fill_: cannot fill an {input.dtype.name} tensor with {value!r}")
        value = check_int_fill(value, input.dtype.name, "fill_")
        if builtins.abs(value) > EXACT_IN_FLOAT:
            return copy_(input, _as_tensor_like(value, input))
    if records(input):
        return inplace(input, lambda before: where(True, float(value), before), "fill_")
    _core.fill_(input._a, float(value))
    return _bumped(input)


@tensor_method()
def copy_(input, src, non_blocking=False):
    """Copies src into input (src broadcasts; dtypes convert; devices may differ)."""
    if not isinstance(src, Tensor):
        src = _as_tensor_like(src, input)
    if records(input, src) and input.dtype.name == "float16":  # where(1, src, before): src's values, its gradient
        return inplace(input, lambda before: where(True, src.to(input.device), before), "copy_")
    a = src._a if src._a.device == input._a.device else _core.to_device(src._a, input._a.device)
    _core.copy_(input._a, a)
    return _bumped(input)


def _write_back(input, out, name):
    """out written into input in place (the shape kept, the dtype one PyTorch's can_cast allows); returns input."""
    if tuple(out.shape) != tuple(input.shape):
        raise ShapeMismatchError(f"{name}: the result's shape {list(out.shape)} differs from the shape "
                                 f"{list(input.shape)} of the tensor written in place")
    check_cast(out.dtype, input.dtype, name)
    _core.copy_(input._a, out._a)
    input._version += 1
    return input


def _written_back(fn, name):
    """The in-place form of fn(input, *args, **kwargs) as the Tensor method `name`: its result written into
    input (whose shape it must keep); under autograd recorded as fn on input's previous value."""

    def method(input, *args, **kwargs):
        if records(input, *args, *kwargs.values()):
            return inplace(input, lambda before: fn(before, *args, **kwargs), name)
        return _write_back(input, fn(input, *args, **kwargs), name)

    method.__name__ = name
    method.__qualname__, method.__module__ = f"Tensor.{name}", Tensor.__module__  # a method: found there
    method.__doc__ = f"In place: input = {fn.__name__}(input, ...); returns input."
    return tensor_method(name)(method)
