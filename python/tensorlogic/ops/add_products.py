"""PyTorch's fused "add a product" functions as compositions of the engine's ops (so they have those ops'
gradients): addcmul addcdiv addmv addr baddbmm addbmm, and the in-place forms addcmul_ addcdiv_ addmm_ addmv_
addr_ baddbmm_ addbmm_ that hand-written optimizers use (exp_avg_sq.addcmul_(g, g, value=1 - beta2))."""
import numpy as np

from ..errors import ShapeMismatchError
from ..promotion import promoted
from ..tensor import Tensor, tensor_method
from .composite import addmm, outer
from .elementwise import _written_back, copy_
from .linalg import bmm, matmul


def _tensors(name, *tensors):
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor arguments, got {type(t).__name__}")


def _scaled(product, scale):
    return product if scale == 1 else product * scale


def _combine(input, product, beta, alpha):
    """beta * input + alpha * product; beta = 0 ignores input (NaN in it included), as in PyTorch."""
    product = _scaled(product, alpha)
    if beta != 0:
        return product + _scaled(input, beta)
    return product.expand(np.broadcast_shapes(tuple(input.shape), tuple(product.shape)))


@tensor_method()
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, broadcasting, in the result type of the three tensors."""
    _tensors("addcmul", input, tensor1, tensor2)
    input, tensor1, tensor2 = promoted(input, tensor1, tensor2)
    return input + _scaled(tensor1 * tensor2, value)


@tensor_method()
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, broadcasting, in the result type of the three tensors; tensor1 or tensor2
    must be a float tensor (PyTorch refuses integer division here)."""
    _tensors("addcdiv", input, tensor1, tensor2)
    if not (tensor1.is_floating_point() or tensor2.is_floating_point()):
        raise TypeError("addcdiv: integer division is not supported (PyTorch neither); convert tensor1 or tensor2 "
                        "with .float()")
    input, tensor1, tensor2 = promoted(input, tensor1, tensor2)
    return input + _scaled(tensor1 / tensor2, value)


@tensor_method()
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec) for a 2-d mat and a 1-d vec."""
    if mat.ndim != 2 or vec.ndim != 1 or mat.shape[1] != vec.shape[0]:
        raise ShapeMismatchError(f"addmv: size mismatch, got mat {list(mat.shape)} and vec {list(vec.shape)}")
    return _combine(input, matmul(mat, vec), beta, alpha)


@tensor_method()
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _combine(input, outer(vec1, vec2), beta, alpha)


@tensor_method()
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2) for 3-d batches."""
    return _combine(input, bmm(batch1, batch2), beta, alpha)


@tensor_method()
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    return _combine(input, bmm(batch1, batch2).sum(0), beta, alpha)


for _fn in (addcmul, addcdiv, addmm, addmv, addr, baddbmm, addbmm):
    _written_back(_fn, _fn.__name__ + "_")

__all__ = ["addcmul", "addcdiv", "addmv", "addr", "baddbmm", "addbmm"]
