"""More of torch.nn.functional's activations, each a composition of public ops or a piecewise-linear node
(ops/piecewise_linear.py), so each has its gradient of every order: relu6 hardtanh hardsigmoid hardswish mish selu
celu softsign softmin glu tanhshrink softshrink hardshrink threshold prelu. PyTorch's signatures and defaults;
in-place forms write the result back (activation_functions.written)."""
from ..errors import ShapeMismatchError
from ..ops.elementwise import _positive, sigmoid, softplus, tanh, where
from ..ops.piecewise_linear import piecewise_linear
from ..ops.rows import softmax
from .activation_functions import written

# SELU's constants (Klambauer et al. 2017), as PyTorch states them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _between(low, high):
    """The mask of the open interval (low, high): PyTorch's hard activations have zero gradient at their corners."""
    return lambda x: (x > low) & (x < high)


def _flat_outside(input, low, high, inside_value, outside_value):
    """inside_value on the open interval (low, high), outside_value (given no gradient) elsewhere."""
    return where(_between(low, high)(input), inside_value, outside_value.detach())


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("hardtanh: min_val cannot be greater than max_val")
    inside = _between(min_val, max_val)
    return written(input, lambda x: piecewise_linear(x, lambda v: v.clamp(min_val, max_val), inside), inplace,
                   "hardtanh_")


def relu6(input, inplace=False):
    """min(max(0, x), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    inside = _between(-3.0, 3.0)
    return written(input, lambda x: piecewise_linear(
        x, lambda v: where(inside(v), v / 6.0 + 0.5, (v + 3.0).clamp(0.0, 6.0) / 6.0), inside, 1.0 / 6.0), inplace,
        "hardsigmoid_")


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6 (MobileNetV3): 0 up to -3, x from 3 (gradient 1 there, as PyTorch)."""
    return written(input, lambda x: where(x >= 3.0, x, _flat_outside(x, -3.0, 3.0, x * (x + 3.0) / 6.0, x * 0.0)),
                   inplace, "hardswish_")


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return written(input, lambda x: x * tanh(softplus(x)), inplace, "mish_")


def celu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (exp(x / alpha) - 1); exp sees min(x, 0) so the unused branch never overflows."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return written(input, lambda x: where(x > 0, x, ((x.clamp(max=0.0) / alpha).exp() - 1.0) * alpha), inplace,
                   "celu_")


def selu(input, inplace=False):
    """scale * (x where x > 0, else alpha (exp(x) - 1)) with SELU's fixed alpha and scale."""
    return written(input, lambda x: where(x > 0, x * _SELU_SCALE,
                                          (x.clamp(max=0.0).exp() - 1.0) * (_SELU_ALPHA * _SELU_SCALE)),
                   inplace, "selu_")


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) over dim."""
    return softmax(-input, dim, dtype=dtype)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    if input.ndim == 0:
        raise ShapeMismatchError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise ShapeMismatchError(f"glu: halving dimension must be even, but dimension {dim} is size "
                                 f"{input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - tanh(input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}")
    return piecewise_linear(input, lambda x: where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0.0)),
                            _outside(lambd))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return piecewise_linear(input, lambda x: where(_outside(lambd)(x), x, 0.0), _outside(lambd))


def _outside(lambd):
    """The mask of |x| > lambd (the shrinks' slope-1 pieces)."""
    return lambda x: (x > lambd) | (x < -lambd)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return written(input, lambda x: piecewise_linear(x, lambda v: where(v > threshold, v, float(value)),
                                                     lambda v: v > threshold), inplace, "threshold_")


def prelu(input, weight):
    """x where x > 0, else weight * x; weight has one element or one per channel (dim 1)."""
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim == 1 else 1)
        if weight.numel() != channels:
            raise ShapeMismatchError(f"prelu: mismatch in parameter count: weight has {weight.numel()} elements, "
                                     f"the input {list(input.shape)} has {channels} channels")
        if input.ndim >= 2:
            weight = weight.reshape((1, channels) + (1,) * (input.ndim - 2))
    else:
        weight = weight.reshape(())
    return piecewise_linear(input, lambda x: where(x > 0, x, x * weight), _positive, 1.0, weight)


def _inplace(fn):
    """PyTorch's trailing-underscore form of fn: fn(..., inplace=True)."""

    def inplace(input, *args, **kwargs):
        return fn(input, *args, inplace=True, **kwargs)

    inplace.__doc__ = f"In-place {fn.__name__}."
    # Its public name, so the API reference finds it where the module defines it (not `_inplace.<locals>`).
    inplace.__name__ = inplace.__qualname__ = f"{fn.__name__}_"
    return inplace


hardtanh_, celu_, selu_, threshold_ = (_inplace(f) for f in (hardtanh, celu, selu, threshold))

__all__ = ["relu6", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "mish", "celu", "celu_", "selu", "selu_",
           "softsign", "softmin", "glu", "tanhshrink", "softshrink", "hardshrink", "threshold", "threshold_", "prelu"]
