"""Shape ops (views without copies where the strides allow): reshape view transpose permute squeeze
unsqueeze expand broadcast_to flatten, and joining/splitting: cat stack split chunk pad."""
import numbers

from .. import _core
from ..tensor import Tensor, _shape_args, _wrap, tensor_method

__all__ = ["reshape", "transpose", "swapaxes", "swapdims", "permute", "squeeze", "unsqueeze", "flatten", "unflatten",
           "broadcast_to", "broadcast_tensors", "broadcast_shapes", "movedim", "narrow", "unbind", "split", "chunk",
           "cat", "concat", "concatenate", "stack", "pad", "t"]


@tensor_method()
def reshape(input, *shape):
    return _wrap(_core.reshape(input._a, _shape_args(shape)))


@tensor_method()
def view(input, *shape):
    """A view with a new shape; raises ValueError when the strides do not allow one (see reshape)."""
    return _wrap(_core.view(input._a, _shape_args(shape)))


@tensor_method()
def view_as(input, other):
    return view(input, other.shape)


@tensor_method()
def reshape_as(input, other):
    return reshape(input, other.shape)


@tensor_method()
def transpose(input, dim0, dim1):
    return _wrap(_core.transpose(input._a, dim0, dim1))


swapaxes = tensor_method("swapaxes")(transpose)
swapdims = tensor_method("swapdims")(transpose)


@tensor_method()
def t(input):
    if input.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, got {input.ndim}")
    return input if input.ndim < 2 else transpose(input, 0, 1)


@tensor_method()
def permute(input, *dims):
    return _wrap(_core.permute(input._a, list(_shape_args(dims))))


def _T(self):
    return _wrap(_core.permute(self._a, list(range(self._a.ndim - 1, -1, -1))))


def _mT(self):
    if self._a.ndim < 2:
        raise ValueError(f"mT expects a tensor with at least 2 dimensions, got {self._a.ndim}")
    return _wrap(_core.transpose(self._a, -2, -1))


Tensor.T = property(_T, doc="All dimensions reversed (a view).")
Tensor.mT = property(_mT, doc="The last two dimensions swapped (a view): the batched matrix transpose.")


@tensor_method()
def squeeze(input, dim=None):
    if dim is None:
        return _wrap(_core.squeeze(input._a, None))
    dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
    return _wrap(_core.squeeze(input._a, dims))


@tensor_method()
def unsqueeze(input, dim):
    return _wrap(_core.unsqueeze(input._a, dim))


@tensor_method()
def flatten(input, start_dim=0, end_dim=-1):
    return _wrap(_core.flatten(input._a, start_dim, end_dim))


@tensor_method()
def unflatten(input, dim, sizes):
    dim = dim + input.ndim if dim < 0 else dim
    shape = list(input.shape)
    return reshape(input, shape[:dim] + list(sizes) + shape[dim + 1:])


@tensor_method()
def expand(input, *sizes):
    return _wrap(_core.expand(input._a, _shape_args(sizes)))


@tensor_method()
def expand_as(input, other):
    return expand(input, other.shape)


@tensor_method()
def broadcast_to(input, shape):
    return _wrap(_core.broadcast_to(input._a, _shape_args((shape,))))


def broadcast_shapes(*shapes):
    """The shape all given shapes broadcast to (ShapeMismatchError when they do not)."""
    out = ()
    for shape in shapes:
        shape = (shape,) if isinstance(shape, numbers.Integral) else _shape_args((shape,))
        out = _core.broadcast_shapes(list(out), list(shape))
    return tuple(out)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


@tensor_method()
def movedim(input, source, destination):
    src = [source] if isinstance(source, numbers.Integral) else list(source)
    dst = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    if len(src) != len(dst):
        raise ValueError("movedim: source and destination must have the same number of dimensions")
    n = input.ndim
    src = [s % n if n else 0 for s in src]
    dst = [d % n if n else 0 for d in dst]
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


@tensor_method()
def narrow(input, dim, start, length):
    size = input.shape[dim]
    start = start + size if start < 0 else start
    if start < 0 or length < 0 or start + length > size:
        raise IndexError(f"narrow: start {start} and length {length} exceed dimension {dim} of size {size}")
    return _wrap(_core.slice(input._a, dim, start, start + length, 1))


@tensor_method()
def unbind(input, dim=0):
    return tuple(_wrap(_core.select(input._a, dim, i)) for i in range(input.shape[dim]))


@tensor_method()
def split(tensor, split_size_or_sections, dim=0):
    """Views of equal pieces of size split_size_or_sections (the last may be smaller), or of the given sizes."""
    if isinstance(split_size_or_sections, numbers.Integral):
        size = tensor.shape[dim] if tensor.ndim else 0
        each = int(split_size_or_sections)
        if each <= 0 and size > 0:
            raise ValueError(f"split: split_size must be positive, got {each}")
        sizes = [min(each, size - s) for s in range(0, size, each)] if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
    return tuple(_wrap(a) for a in _core.split(tensor._a, sizes, dim))


@tensor_method()
def chunk(input, chunks, dim=0):
    return tuple(_wrap(a) for a in _core.chunk(input._a, chunks, dim))


def _arrays(tensors, name):
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of tensors, got {type(tensors).__name__}")
    arrays = []
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected tensors, got an element of type {type(t).__name__}")
        arrays.append(t._a)
    return arrays


def cat(tensors, dim=0):
    """Joins tensors along an existing dimension (float16 when any input is float16)."""
    return _wrap(_core.cat(_arrays(tensors, "cat"), dim))


concat = concatenate = cat


def stack(tensors, dim=0):
    """Joins equal-shaped tensors along a new dimension."""
    return _wrap(_core.stack(_arrays(tensors, "stack"), dim))


def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad: pad = (left, right) of the last dimension, then of the one before, ...;
    modes constant (value, default 0; negative pads crop), reflect, replicate and circular."""
    if value is not None and mode != "constant":
        raise ValueError(f"pad: a value only applies to mode 'constant', not {mode!r}")
    pads = [int(p) for p in pad]
    if value is not None and input.dtype.name == "float16":
        from .._convert import check_f16_range
        import numpy as np

        check_f16_range(np.asarray(float(value)))
    return _wrap(_core.pad(input._a, pads, mode, 0.0 if value is None else float(value)))
