"""as_strided: a view of a tensor's storage at any size, stride and storage offset, as torch.as_strided (PyTorch's
argument and bounds errors), with PyTorch's AsStridedBackward: the gradient is scattered onto the storage positions
the result reads (summed where they repeat) and read back at the input's positions (divided among the input
elements that share one). Under autograd the result is a view of its input's root (autograd/views.py), its position
taken relative to the root's elements, so the root must lay them out contiguously and hold every element read."""
import numpy as np

from .. import _core
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.views import note_storage_view, root_of
from ..creation import tensor, zeros
from ..tensor import _wrap, tensor_method


@tensor_method()
def as_strided(input, size, stride, storage_offset=None):
    """A view of input's storage with shape `size`, strides `stride` (in elements) and its first element at
    `storage_offset` (input's own offset by default); elements may repeat (overlapping strides)."""
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    _check(input, size, stride, offset)
    return _AsStrided.apply(input, size, stride, offset, False)


def _ints(values, name):
    if isinstance(values, int) or not hasattr(values, "__iter__"):
        raise TypeError(f"as_strided(): argument '{name}' (position 2) must be tuple of ints, not "
                        f"{type(values).__name__}")
    values = tuple(values)
    for k, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"as_strided(): argument '{name}' (position 2) must be tuple of ints, but found element "
                            f"of type {type(v).__name__} at pos {k}")
    return tuple(int(v) for v in values)


def _check(input, size, stride, offset):
    """PyTorch's errors, in its order."""
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    itemsize = input.element_size()
    needed = 0 if 0 in size else (offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))) * itemsize
    if needed > input._a.storage_nbytes:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {needed} are out of bounds for storage of "
                           f"size {input._a.storage_nbytes}")


def _positions(shape, strides, offset):
    """The storage position of each element (row-major order), as int64."""
    positions = np.full(shape, offset, dtype=np.int64)
    for dim, (n, s) in enumerate(zip(shape, strides)):
        positions += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - dim - 1))
    return positions.reshape(-1)


class _AsStrided(Function):
    """`relative`: the offset counts from the input's first element and the input is read as laid out contiguously
    (the view's step replayed on a tensor of its root's shape: autograd/views.py)."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def view_name(args, index):
        return "AsStrided"

    @staticmethod
    def forward(ctx, x, size, stride, offset, relative):
        source = _core.contiguous(x._a) if relative else x._a
        at = source.offset + offset if relative else offset
        out = _wrap(_core.as_strided(source, list(size), list(stride), at))
        if ctx is not _NULL:
            ctx.geometry = (tuple(source.shape), tuple(source.strides), source.offset, size, stride, at)
        if (ctx is not _NULL or grad_enabled()) and not relative:
            note_storage_view(x, out, _relative_step(x, size, stride, offset))
        return out

    @staticmethod
    def backward(ctx, g):
        in_shape, in_strides, in_offset, size, stride, out_offset = ctx.geometry
        read = _positions(size, stride, out_offset)
        held = _positions(in_shape, in_strides, in_offset)
        low = min(read.min(initial=in_offset), held.min(initial=in_offset))
        length = max(read.max(initial=low), held.max(initial=low)) - low + 1
        storage = zeros(int(length), dtype=g.dtype, device=g.device)
        storage = storage.index_add(0, tensor(read - low, device=g.device), g.reshape(-1))
        grad = storage[tensor(held - low, device=g.device)]
        counts = np.bincount(held - low, minlength=int(length))[held - low]
        if (counts > 1).any():  # input elements that share a position share its gradient
            grad = grad / tensor(counts.astype(np.float32), device=g.device, dtype=g.dtype)
        return grad.reshape(in_shape), None, None, None, None


def _relative_step(x, size, stride, offset):
    """The step that makes the view from x's root (autograd/views.py), its offset counted from the root's first
    element; NotImplementedError where the root does not hold the view as a contiguous layout of its elements."""
    root = root_of(x)
    start, numel = root._a.offset, root._a.numel()
    read = _positions(size, stride, offset)
    if not root._a.is_contiguous() or (read.size and (read.min() < start or read.max() >= start + numel)):
        raise NotImplementedError(
            f"as_strided under autograd: the view must read elements of a contiguous tensor that it views (here "
            f"storage offset {offset}, sizes {list(size)}, strides {list(stride)} of a tensor of shape "
            f"{list(root.shape)}, strides {list(root.stride())} and storage offset {start}); call .contiguous() "
            "first, or make the view under no_grad")
    return _AsStrided, (size, stride, offset - start, True), None


__all__ = ["as_strided"]
