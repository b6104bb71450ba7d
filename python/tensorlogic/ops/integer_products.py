"""Exact products of integer tensors: matmul and einsum, so also every product composed of them (mm, bmm, mv,
dot, tensordot, inner, addmm...). The GEMM and einsum kernels compute in f16 with f32 sums, which round integer
products and sums past 2048 (3001 * 1 + 2 * 1 gave 3002); integers multiply in int64 here, wrapping around as
PyTorch's CPU integer products do, and the result has the operands' promoted integer dtype. There are no integer
GEMM kernels: the product runs on the host (numpy) and the result returns to the operands' device."""
import numpy as np

from ..creation import tensor
from ..dtypes import bool as bool_
from ..errors import EinsumError, ShapeMismatchError
from ..promotion import promote_types
from ..tensor import Tensor


def exact_integer_operands(operands):
    """Whether the product of these tensors is an integer one: every operand an integer tensor, or a bool tensor
    beside at least one integer one (a product of bools alone stays an f16 count, as before)."""
    if not all(isinstance(o, Tensor) for o in operands):
        return False
    integer = [not (o.dtype.is_floating_point or o.dtype.is_complex or o.dtype == bool_) for o in operands]
    return any(integer) and all(i or o.dtype == bool_ for i, o in zip(integer, operands))


def _host_int64(x):
    return np.asarray(x.detach().cpu().numpy(), dtype=np.int64)


def _on_device(values, operands):
    dtype = operands[0].dtype
    for o in operands[1:]:
        dtype = promote_types(dtype, o.dtype)
    values = values.astype(np.int32 if dtype.itemsize == 4 else np.int64)
    return tensor(values, dtype=dtype, device=operands[0].device)


def integer_matmul(a, b):
    """a @ b with torch.matmul's shape rules (1-d operands as a row and a column, batch dims broadcast)."""
    shapes = f"{list(a.shape)} and {list(b.shape)}"
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeMismatchError(f"matmul: both arguments need at least one dimension, got shapes {shapes}")
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != k_b:
        raise ShapeMismatchError(f"matmul: shapes {shapes} cannot be multiplied ({a.shape[-1]} != {k_b})")
    try:
        np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError:
        raise ShapeMismatchError(f"matmul: the batch dimensions of shapes {shapes} cannot be broadcast") from None
    with np.errstate(over="ignore"):
        return _on_device(np.matmul(_host_int64(a), _host_int64(b)), (a, b))


def integer_einsum(equation, operands):
    """einsum over integer tensors; numpy's complaint about the equation or the shapes becomes an EinsumError."""
    values = [_host_int64(o) for o in operands]
    try:
        with np.errstate(over="ignore"):
            result = np.einsum(equation, *values)
    except ValueError as error:
        raise EinsumError(f"einsum: {error}") from None
    return _on_device(np.asarray(result), operands)
