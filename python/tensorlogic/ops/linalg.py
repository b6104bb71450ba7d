"""Linear algebra: matmul (and the @ operator), mm, bmm, linear, einsum, tril, triu."""
import numbers

from .. import _core
from .._convert import numpy_to_array
from ..errors import ShapeMismatchError
from ..tensor import Tensor, _wrap, tensor_method

_ACTIVATIONS = ("none", "relu", "gelu", "gelu_tanh", "silu")


def _native(value, like=None):
    """The native array of a Tensor, or of array-like data placed on the device of `like`."""
    if isinstance(value, Tensor):
        return value._a
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        raise TypeError(f"expected a tensor, got a Python scalar {value!r}")
    device = like._a.device if isinstance(like, Tensor) else "cpu"
    return numpy_to_array(value, None, device, False)


@tensor_method()
def matmul(input, other):
    """Matrix product with PyTorch's rules: 1-d operands are vectors, batch dimensions broadcast."""
    return _wrap(_core.matmul(_native(input, other), _native(other, input)))


@tensor_method("__matmul__")
def _matmul_operator(self, other):
    return matmul(self, other)


@tensor_method("__rmatmul__")
def _rmatmul_operator(self, other):
    return matmul(other, self)


@tensor_method()
def mm(input, mat2):
    """Product of two 2-d matrices (no broadcasting)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeMismatchError(f"mm: expected two 2-d matrices, got shapes {list(input.shape)} and {list(mat2.shape)}")
    return matmul(input, mat2)


@tensor_method()
def bmm(input, mat2):
    """Batched product of [B, n, m] and [B, m, p] (no broadcasting)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeMismatchError(
            f"bmm: expected [B, n, m] and [B, m, p] with one batch size, got shapes {list(input.shape)} and {list(mat2.shape)}"
        )
    return matmul(input, mat2)


def linear(input, weight, bias=None, activation="none", residual=None):
    """input @ weight.T (+ bias) (+ residual), then the activation, rounded once (a fused kernel)."""
    if activation is None:
        activation = "none"
    if activation not in _ACTIVATIONS:
        raise ValueError(f"linear: unknown activation {activation!r}; expected one of {', '.join(_ACTIVATIONS)}")
    b = None if bias is None else _native(bias, input)
    r = None if residual is None else _native(residual, input)
    return _wrap(_core.linear(_native(input), _native(weight, input), b, activation, r))


def einsum(equation, *operands):
    """Einstein summation over any number of operands (a list is accepted too), like torch.einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    first = next((o for o in operands if isinstance(o, Tensor)), None)
    return _wrap(_core.einsum(equation, [_native(o, first) for o in operands]))


@tensor_method()
def tril(input, diagonal=0):
    """Keeps the lower triangle (elements with column - row <= diagonal) of the last two axes."""
    return _wrap(_core.tril(input._a, int(diagonal)))


@tensor_method()
def triu(input, diagonal=0):
    """Keeps the upper triangle (elements with column - row >= diagonal) of the last two axes."""
    return _wrap(_core.triu(input._a, int(diagonal)))
