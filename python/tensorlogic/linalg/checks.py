"""The argument checks tl.linalg's functions share: float data, matrices, square matrices (typed errors naming the
function, as PyTorch's)."""
import numpy as np

from ..errors import ShapeMismatchError
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor


def float_input(x, dtype, name):
    """x converted to `dtype` when given; a TypeError (as PyTorch's) for integer or bool data, which have no norm
    or factorisation, and for what is not a tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{name}: expected a Tensor as input, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype=dtype)
    if not x.is_floating_point():
        raise TypeError(f"linalg.{name}: expected a floating point tensor as input, got {x.dtype}")
    return x


def matrices(A, name, what="A"):
    """A float tensor of at least 2 dimensions: a batch of matrices over its last two."""
    A = float_input(A, None, name)
    if A.ndim < 2:
        raise ShapeMismatchError(f"linalg.{name}: {what} must have at least 2 dimensions, got {list(A.shape)}")
    return A


def square(A, name):
    A = float_input(A, None, name)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeMismatchError(f"linalg.{name}: A must be batches of square matrices, got {list(A.shape)}")
    return A


def flags(name, **values):
    """PyTorch's TypeError for a flag that is not a bool (a truthy string or int would pass silently)."""
    for what, value in values.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"linalg.{name}: {what} must be a bool, got {type(value).__name__}")


def batch_shape(name, A, B):
    """The shape A's and B's batch dimensions (all but the last two) broadcast to; a ShapeMismatchError naming the
    function and both shapes when they do not."""
    try:
        return tuple(broadcast_shapes(A.shape[:-2], B.shape[:-2]))
    except ShapeMismatchError:
        raise ShapeMismatchError(f"linalg.{name}: the batch dimensions of {list(A.shape)} and {list(B.shape)} do not "
                                 "broadcast") from None
