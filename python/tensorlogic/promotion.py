"""PyTorch's type promotion (SPEC §1), decided once in the core (cpp/core/elementwise.cpp): torch's
result_type, promote_types and can_cast, and the helpers with which ops composed in Python follow the same
rules (numbers and 0-d tensors count by category only: bool < integer < float)."""
import numbers

from . import _core
from .dtypes import _BY_NAME, as_dtype
from .tensor import Tensor


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic op over these two operands (tensors or numbers), as torch.result_type: a
    Python float beside an integer tensor gives float16 (every float dtype is float16 here)."""
    return _result_type((tensor1, tensor2))


def _result_type(operands):
    for x in operands:
        if not isinstance(x, (Tensor, numbers.Number)):
            raise TypeError(f"result_type: expected tensors or numbers, got {type(x).__name__}")
    tensors = [x._a for x in operands if isinstance(x, Tensor)]
    return _BY_NAME[_core.result_type(tensors, [x for x in operands if not isinstance(x, Tensor)])]


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to without losing their category (torch.promote_types)."""
    return _BY_NAME[_core.promote_types(as_dtype(type1).name, as_dtype(type2).name)]


def can_cast(from_, to):
    """Whether an op's result of dtype from_ may be written into a tensor of dtype `to` (torch.can_cast): not a
    float into an integer or bool, nor an integer into a bool."""
    return _core.can_cast(as_dtype(from_).name, as_dtype(to).name)


def check_cast(result, target, name):
    """Raises the dtype error (a TypeError; PyTorch's is a RuntimeError) where an in-place op would write a result
    of dtype `result` into a tensor of dtype `target` that can_cast refuses."""
    if not _core.can_cast(result.name, target.name):
        raise TypeError(f"{name}: the result is {result.name} and cannot be written in place into a tensor of "
                        f"dtype {target.name} (PyTorch neither)")


def promoted(*operands):
    """The operands (tensors, numbers or None) with each tensor converted to their result type: the dtype PyTorch
    gives an op over all of them at once, which a chain of binary ops can miss (a 0-d tensor that decided the
    first step's dtype counts as a tensor with dimensions in the next)."""
    dtype = _result_type([x for x in operands if x is not None])
    return tuple(x.to(dtype) if isinstance(x, Tensor) and x.dtype is not dtype else x for x in operands)
