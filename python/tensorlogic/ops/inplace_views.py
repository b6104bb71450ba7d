"""The in-place shape changes of PyTorch's Tensor: squeeze_ unsqueeze_ t_ transpose_ swapaxes_ swapdims_ (the
tensor becomes the view the out-of-place op returns: same memory, new shape and strides, and under autograd that
view's history), and resize_ / resize_as_ (a new shape over the tensor's memory, reallocated when it grows)."""
import sys

from .. import _core
from ..autograd.inplace import inplace_view
from ..memory_formats import check_memory_format
from ..tensor import Tensor, _shape_args, tensor_method
from .shape import squeeze, t, transpose, unsqueeze


@tensor_method()
def squeeze_(input, dim=None):
    """In place: input becomes input.squeeze(dim) (a view of the same memory); returns input."""
    return inplace_view(input, lambda x: squeeze(x, dim), "squeeze_")


@tensor_method()
def unsqueeze_(input, dim):
    """In place: input becomes input.unsqueeze(dim) (a view of the same memory); returns input."""
    return inplace_view(input, lambda x: unsqueeze(x, dim), "unsqueeze_")


@tensor_method()
def t_(input):
    """In place: input becomes input.t() (a view of the same memory); returns input."""
    return inplace_view(input, t, "t_")


@tensor_method("transpose_", "swapaxes_", "swapdims_")
def transpose_(input, dim0, dim1):
    """In place: input becomes input.transpose(dim0, dim1) (a view of the same memory); returns input. swapaxes_ and
    swapdims_ are the same method."""
    return inplace_view(input, lambda x: transpose(x, dim0, dim1), "transpose_")


@tensor_method()
def resize_(input, *sizes, memory_format=None):
    """In place: input gets the shape `sizes` (varargs or one sequence) with row-major strides; returns input.

    As PyTorch's: the same shape changes nothing; a contiguous tensor keeps its first elements (in order) when the
    new shape has as many or fewer; growing reallocates, the old values first and the new elements uninitialised.
    A tensor that requires grad is refused (RuntimeError), as in PyTorch. What PyTorch does by reinterpreting the
    storage under a view is refused here with a RuntimeError saying so: a new shape for a non-contiguous tensor
    (PyTorch reads the storage's order, not the tensor's), and growing memory that other tensors also see (PyTorch
    moves them to the new memory too). memory_format is checked and the layout stays row-major (see
    tensorlogic.memory_formats)."""
    shape = _shape_args(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_: sizes must be non-negative, got {list(shape)}")
    check_memory_format(memory_format, "resize_", len(shape))
    if input.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if shape == tuple(input.shape):
        input._version += 1
        return input
    if not input._a.is_contiguous():
        raise RuntimeError(f"resize_: a non-contiguous tensor of shape {list(input.shape)} can only keep its shape "
                           "here (PyTorch would reinterpret its storage); call .contiguous() first")
    numel = 1
    for s in shape:
        numel *= s
    have = input._a.numel()
    if numel <= have:  # the first elements, as a view (so that the views of this memory keep track of it)
        return inplace_view(input, lambda x: x.reshape(have)[:numel].view(shape), "resize_")
    if not _owns_memory(input):
        raise RuntimeError("resize_: growing a tensor whose memory other tensors (views, .data, detach()) also "
                           "see is not supported: PyTorch would move them to the new memory too")
    grown = _core.empty(list(shape), input._a.dtype, input._a.device)
    _core.copy_(_core.slice(_core.reshape(grown, [numel]), 0, 0, have, 1), _core.reshape(input._a, [have]))
    input._a = grown
    input._version += 1
    return input


def _owns_memory(t):
    """Whether only t sees its memory: no other array shares the storage, and no other tensor holds t's array (a
    detach() or .data wraps the same one). CPython's reference count: t's slot and getrefcount's own argument."""
    return t._a.storage_use_count() == 1 and sys.getrefcount(t._a) <= 2


@tensor_method()
def resize_as_(input, the_template, memory_format=None):
    """In place: input.resize_(the_template.shape) (see resize_); returns input."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' must be Tensor, not {type(the_template).__name__}")
    return resize_(input, the_template.shape, memory_format=memory_format)


__all__ = ["resize_as_"]
