"""Shape ops (views without copies where the strides allow): reshape view transpose permute squeeze
unsqueeze expand broadcast_to flatten, joining/splitting: cat stack split chunk pad, and the copies:
clone contiguous to."""
import numbers

import numpy as np

from .. import _core
from .._convert import check_f16_range
from ..device import device as device_type, device_name
from ..dtypes import as_dtype, complex_dtype, is_narrow_integer
from ..memory_formats import check_memory_format
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import grad_enabled, is_grad_enabled
from ..autograd.views import note_view
from ..creation import tensor
from ..tensor import Tensor, _shape_args, _wrap, tensor_method
from .indexing import _Index, _IndexPut0

__all__ = ["reshape", "transpose", "swapaxes", "swapdims", "permute", "squeeze", "unsqueeze", "flatten", "unflatten",
           "broadcast_to", "broadcast_tensors", "broadcast_shapes", "movedim", "narrow", "unbind", "split", "chunk",
           "cat", "concat", "concatenate", "stack", "pad", "t", "adjoint"]


@tensor_method()
def reshape(input, *shape):
    """The data with a new shape (sizes as varargs or one sequence; one size may be -1): a view when the strides
    allow one, else a copy, as in PyTorch."""
    return _Reshape.apply(input, _core.reshape, _shape_args(shape))


# ---- autograd: shape ops are Functions whose backward undoes the shape change on the gradient.
class _OpFamily(Function):
    """A Function serving a family of core ops (forward keeps the one it ran as ctx.op): named after that op."""

    @staticmethod
    def name(ctx):
        return ctx.op.__name__


_MAY_COPY = (_core.reshape, _core.flatten)  # (a view where the strides allow, else a copy)
_TORCH_RESHAPE_NAMES = {"squeeze": "Squeeze", "unsqueeze": "Unsqueeze"}  # (the others are PyTorch's views)


def _shares_memory(out, x):
    return out._a.numel() > 0 and out._a.storage_ptr() == x._a.storage_ptr()


class _Reshape(_OpFamily):
    """Any op that only changes the shape (reshape, view, squeeze, unsqueeze, flatten): g.reshape(x.shape)."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def view_name(args, index):
        name = _TORCH_RESHAPE_NAMES.get(args[0].__name__, "View")
        if name == "Squeeze" and args[1] is not None:
            return "Squeeze1" if isinstance(args[1], list) else "Squeeze2"
        return name

    @staticmethod
    def forward(ctx, x, op, *args):
        if ctx is not _NULL:  # (setting an attribute of the null ctx is a Python call: ~0.1 us)
            ctx.op = op
        out = _wrap(op(x._a, *args))
        if (ctx is not _NULL or grad_enabled()) and (op not in _MAY_COPY or _shares_memory(out, x)):
            # replayed as a reshape (autograd/views.py): a gradient of the root's shape may have strides no view fits
            note_view(x, out, (_Reshape, (_core.reshape if op is _core.view else op,) + args, None))
        return out

    @staticmethod
    def backward(ctx, g):
        return _Reshape.apply(g, _core.reshape, ctx.input_shapes[0])  # (g.reshape's guard and parsing skipped)


class _Permute(Function):
    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def view_name(args, index):
        moved = sum(d != i for i, d in enumerate(args[0]))
        return "Transpose" if moved == 2 else "Permute"

    @staticmethod
    def forward(ctx, x, dims):
        if ctx is not _NULL:
            ctx.dims = dims
        out = _wrap(_core.permute(x._a, dims))
        if ctx is not _NULL or grad_enabled():
            note_view(x, out, (_Permute, (dims,), None))
        return out

    @staticmethod
    def backward(ctx, g):
        n = len(ctx.dims)
        inverse = [0] * n
        for i, d in enumerate(ctx.dims):
            inverse[d % n] = i
        return _Permute.apply(g, inverse), None


class _Expand(Function):
    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def view_name(args, index):
        return "Expand"

    @staticmethod
    def forward(ctx, x, op, shape):
        out = _wrap(op(x._a, shape))
        if ctx is not _NULL or grad_enabled():
            note_view(x, out, (_Expand, (op, shape), None))
        return out

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.input_shapes[0])


class _Copy(Function):
    """clone / contiguous: a new array with the same values; the gradient passes through."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, x, op):
        return _wrap(op(x._a))

    @staticmethod
    def backward(ctx, g):
        return g


class _Move(Function):
    """A copy onto another device (Tensor.to); the gradient travels back to the source device."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = x._a.device
        return _wrap(_core.to_device(x._a, device))

    @staticmethod
    def backward(ctx, g):
        return _Move.apply(g, ctx.source)


@tensor_method()
def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False, memory_format=None):
    """to(device), to(dtype), to(device, dtype), to(other_tensor), with keywords too (PyTorch's forms). The data
    stays row-major whatever memory_format asks (see tensorlogic.memory_formats)."""
    check_memory_format(memory_format, "to", getattr(self, "ndim", None))
    target = device
    for arg in args:
        if isinstance(arg, Tensor):
            target, dtype = arg.device, arg.dtype
        elif _looks_like_dtype(arg):
            dtype = arg
        else:
            target = arg
    a = self._a
    if dtype is not None and as_dtype(dtype).name != a.dtype:
        a = _core.astype(a, as_dtype(dtype).name)  # to int32: not differentiable, as in PyTorch
    if target is not None and device_name(target) != a.device:
        if a is self._a and self.requires_grad:  # a device move of a float tensor keeps the graph
            return _Move.apply(self, device_name(target))
        a = _core.to_device(a, device_name(target))
    if a is self._a:
        return _wrap(_core.clone(a)) if copy else self
    return _wrap(a)


def _looks_like_dtype(value):
    if value is None or isinstance(value, (Tensor, device_type)):
        return False
    if complex_dtype(value) is not None or is_narrow_integer(value):
        return True  # as_dtype refuses it with a message saying why
    try:
        as_dtype(value)
        return True
    except TypeError:
        return False


@tensor_method()
def clone(input, *, memory_format=None):
    """A copy of the data in a fresh contiguous buffer; gradients flow back to input. The copy is row-major whatever
    memory_format asks (see tensorlogic.memory_formats)."""
    check_memory_format(memory_format, "clone", getattr(input, "ndim", None))
    return _Copy.apply(input, _core.clone)


@tensor_method()
def contiguous(input, memory_format=None):
    """input itself when it is contiguous, else a contiguous copy (recorded for autograd); row-major whatever
    memory_format asks (see tensorlogic.memory_formats)."""
    check_memory_format(memory_format, "contiguous", getattr(input, "ndim", None))
    return input if input._a.is_contiguous() else _Copy.apply(input, _core.contiguous)


@tensor_method()
def view(input, *shape):
    """A view with a new shape; raises ValueError when the strides do not allow one (see reshape)."""
    return _Reshape.apply(input, _core.view, _shape_args(shape))


@tensor_method()
def transpose(input, dim0, dim1):
    """A view with dimensions dim0 and dim1 swapped (negative dims count from the end); swapaxes and swapdims are
    the same function."""
    n = input._a.ndim
    m = n or 1  # a 0-d tensor accepts dims 0 and -1, as PyTorch's
    if not (-m <= dim0 < m and -m <= dim1 < m):
        return _wrap(_core.transpose(input._a, dim0, dim1))  # raises the core's IndexError
    dims = list(range(n))
    if n:
        dim0, dim1 = dim0 % n, dim1 % n
        dims[dim0], dims[dim1] = dim1, dim0
    return _Permute.apply(input, dims)


swapaxes = tensor_method("swapaxes")(transpose)
swapdims = tensor_method("swapdims")(transpose)


@tensor_method()
def t(input):
    """The transpose of a matrix (a view); 0-d and 1-d tensors are returned as they are, and more dimensions raise
    ValueError, as torch.t."""
    if input.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, got {input.ndim}")
    return input if input.ndim < 2 else transpose(input, 0, 1)


@tensor_method()
def permute(input, *dims):
    """A view with the dimensions reordered as `dims` (varargs or one sequence, a permutation of range(ndim))."""
    return _Permute.apply(input, list(_shape_args(dims)))


def _T(self):
    return _Permute.apply(self, list(range(self._a.ndim - 1, -1, -1)))


def _mT(self):
    n = self._a.ndim
    if n == 2:  # every matmul's and linear's backward takes one or two of these: no transpose() dispatch
        return _Permute.apply(self, [1, 0])
    if n < 2:
        raise ValueError(f"mT expects a tensor with at least 2 dimensions, got {n}")
    dims = list(range(n))
    dims[-2], dims[-1] = n - 1, n - 2
    return _Permute.apply(self, dims)


def _matrix_transpose(input, what):
    if input._a.ndim < 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices or batches of matrices. Got "
                           f"{input._a.ndim}-D tensor.")
    return _mT(input)


def _H(self):
    if self._a.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self._a.ndim}-D tensor. For "
                           "batches of matrices, consider using tensor.mH")
    return _Permute.apply(self, [1, 0])


@tensor_method()
def adjoint(input):
    """The conjugate transpose of the last two dimensions (a view); for a real tensor, mT."""
    return _matrix_transpose(input, "adjoint()")


Tensor.T = property(_T, doc="All dimensions reversed (a view).")
Tensor.mT = property(_mT, doc="The last two dimensions swapped (a view): the batched matrix transpose.")
# The conjugate transposes; a real tensor's conjugate is itself (complex tensors are tl.ComplexTensor).
Tensor.H = property(_H, doc="The conjugate transpose of a matrix (a view); for a real one, T.")
Tensor.mH = property(lambda self: _matrix_transpose(self, "mH"),
                     doc="The conjugate transpose of the last two dimensions (a view); for a real tensor, mT.")


@tensor_method()
def squeeze(input, dim=None):
    """A view without size-1 dimensions: all of them (dim=None), or those among `dim` (an int or a tuple) that have
    size 1."""
    if dim is None:
        return _Reshape.apply(input, _core.squeeze, None)
    # a list for one dim, a tuple for several: PyTorch's two overloads, which its messages name Squeeze1 and Squeeze2
    dims = [dim] if isinstance(dim, numbers.Integral) else tuple(dim)
    return _Reshape.apply(input, _core.squeeze, dims)


@tensor_method()
def unsqueeze(input, dim):
    """A view with a size-1 dimension inserted at `dim` (negative counts from the end of the result)."""
    return _Reshape.apply(input, _core.unsqueeze, dim)


@tensor_method()
def flatten(input, start_dim=0, end_dim=-1):
    """The dimensions start_dim..end_dim merged into one (a view when the strides allow, else a copy)."""
    return _Reshape.apply(input, _core.flatten, start_dim, end_dim)


@tensor_method()
def unflatten(input, dim, sizes):
    """Dimension `dim` split into `sizes` (their product must be its size; one may be -1)."""
    dim = dim + input.ndim if dim < 0 else dim
    shape = list(input.shape)
    return reshape(input, shape[:dim] + list(sizes) + shape[dim + 1:])


@tensor_method()
def expand(input, *sizes):
    """A view where size-1 dimensions are repeated to the given sizes (-1 keeps a size) without copying (stride 0);
    new leading dimensions may be added. Write to it only through a copy."""
    return _Expand.apply(input, _core.expand, _shape_args(sizes))


def _to_shape_of(fn):
    """The Tensor method fn_as(input, other) = fn(input, other.shape)."""
    def as_other(input, other):
        return fn(input, other.shape)
    as_other.__name__ = as_other.__qualname__ = fn.__name__ + "_as"
    as_other.__doc__ = f"{fn.__name__}(input, other.shape)."
    return tensor_method()(as_other)


view_as, reshape_as, expand_as = _to_shape_of(view), _to_shape_of(reshape), _to_shape_of(expand)


@tensor_method()
def broadcast_to(input, shape):
    """input expanded (a view, no copy) to `shape` by the broadcasting rules; ShapeMismatchError when it cannot be."""
    return _Expand.apply(input, _core.broadcast_to, _shape_args((shape,)))


def broadcast_shapes(*shapes):
    """The shape all given shapes broadcast to (ShapeMismatchError when they do not)."""
    out = ()
    for shape in shapes:
        shape = (shape,) if isinstance(shape, numbers.Integral) else _shape_args((shape,))
        out = _core.broadcast_shapes(list(out), list(shape))
    return tuple(out)


def broadcast_tensors(*tensors):
    """The tensors expanded (views) to their common broadcast shape, as a tuple."""
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


@tensor_method()
def movedim(input, source, destination):
    """A view with dimension(s) `source` moved to position(s) `destination`, the others keeping their order."""
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
    """A view of `length` elements of dimension `dim` from `start` (negative start counts from the end); IndexError
    when out of range."""
    size = input.shape[dim]
    start = start + size if start < 0 else start
    if start < 0 or length < 0 or start + length > size:
        raise IndexError(f"narrow: start {start} and length {length} exceed dimension {dim} of size {size}")
    return _along(input, dim, slice(start, start + length))


def _along(input, dim, item):
    """input[..., item, ...] with item at dimension dim: a differentiable view (see ops/indexing.py)."""
    return _Index.apply(input, (slice(None),) * (dim % input.ndim) + (item,))


def _iter(self):
    """Iteration over the first dimension (recorded per row when the tensor requires grad)."""
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(self, 0))


Tensor.__iter__ = _iter


@tensor_method()
def unbind(input, dim=0):
    """The slices along `dim` as a tuple of views, that dimension removed."""
    return _Unbind.apply(input, _checked_dim(dim, input.ndim))


@tensor_method()
def split(tensor, split_size_or_sections, dim=0):
    """Views of equal pieces of size split_size_or_sections (the last may be smaller), or of the given sizes."""
    # An int first by its class: isinstance against numbers.Integral is an ABC check (~0.3 us)
    if split_size_or_sections.__class__ is int or isinstance(split_size_or_sections, numbers.Integral):
        ndim = tensor._a.ndim
        size = tensor._a.shape[_checked_dim(dim, ndim)] if ndim else 0
        each = int(split_size_or_sections)
        if each <= 0 and size > 0:
            raise ValueError(f"split: split_size must be positive, got {each}")
        # a tuple: split by a size, which PyTorch's messages name Split (a list of sizes: SplitWithSizes)
        sizes = tuple([min(each, size - s) for s in range(0, size, each)]) if size else (0,)
    else:
        sizes = [int(s) for s in split_size_or_sections]
    return _Split.apply(tensor, _core.split, sizes, dim)


@tensor_method()
def chunk(input, chunks, dim=0):
    """Up to `chunks` views along `dim` of equal size (ceil(size / chunks); the last may be smaller), as
    torch.chunk."""
    return _Split.apply(input, _core.chunk, chunks, dim)


def _checked_dim(dim, ndim):
    """dim in [0, ndim) for an op that needs a dimension to exist (PyTorch's IndexError messages)."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


class _Split(_OpFamily):
    """split (op = _core.split, arg = the sizes) and chunk (op = _core.chunk, arg = the count): views of
    consecutive pieces along dim, all outputs of one node, so that backward joins their gradients with one cat
    (a zero piece only for an output no gradient reached) instead of one zero-filled input per output."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    multi_output = True
    multi_output_views = True  # (autograd/multi_output_views.py)

    @staticmethod
    def view_name(args, index):
        return "SplitWithSizes" if isinstance(args[1], list) else "Split"

    @classmethod
    def forward(cls, ctx, x, op, arg, dim):
        arrays = op(x._a, arg, dim)
        if ctx is not _NULL:  # (cat's backward splits without recording: no shapes to read then)
            ctx.op, ctx.dim, ctx.shapes = op, dim, [a.shape for a in arrays]
        outs = tuple([_wrap(a) for a in arrays])  # (a list comprehension: cheaper than a generator here)
        if ctx is not _NULL or grad_enabled():
            for i, out in enumerate(outs):
                note_view(x, out, (cls, (op, arg, dim), i))  # (cls: _Split or _TensorSplit)
        return outs

    @staticmethod
    def backward(ctx, *grads):
        grads, dim = _zeros_for_none(grads, ctx.shapes), ctx.dim % len(ctx.input_shapes[0])
        # Gradients that already lie side by side in one array (attention's for q, k and v split from one
        # projection: cpp/core/attention.cpp) are joined as a view of it, not copied; not while a graph of
        # the backward is recorded (the view would not be part of it).
        joined = None if is_grad_enabled() else _core.join_adjacent([g._a for g in grads], dim)
        return (cat(grads, dim) if joined is None else _wrap(joined)), None, None, None


class _Unbind(Function):
    """unbind: the slices along dim as outputs of one node; backward stacks their gradients (zeros only for a
    slice no gradient reached)."""

    multi_output = True
    multi_output_views = True  # (autograd/multi_output_views.py)

    @staticmethod
    def view_name(args, index):
        return "Unbind"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        outs = tuple(_wrap(_core.select(x._a, dim, i)) for i in range(x._a.shape[dim]))
        if ctx is not _NULL or grad_enabled():
            for i, out in enumerate(outs):
                note_view(x, out, (_Unbind, (dim,), i))
        return outs

    @staticmethod
    def backward(ctx, *grads):
        shape = list(ctx.input_shapes[0])
        del shape[ctx.dim]
        return stack(_zeros_for_none(grads, [shape] * len(grads)), ctx.dim), None


class _TensorSplit(_Split):
    """tensor_split's consecutive pieces: split's, but PyTorch makes each piece a view of its own, which in-place ops
    may write."""

    multi_output_views = False

    @staticmethod
    def view_name(args, index):
        return "Slice"


def _zeros_for_none(grads, shapes):
    """grads with each None replaced by zeros of its output's shape (backward runs only when one is not None)."""
    device = next(g for g in grads if g is not None)._a.device
    return [g if g is not None else _wrap(_core.full(list(shape), 0.0, "float16", device))
            for g, shape in zip(grads, shapes)]


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
    _arrays(tensors, "cat")
    return _Join.apply(_core.cat, dim, *tensors)


class _Join(_OpFamily):
    """cat and stack: the gradients of the inputs are g split (cat) or unbound (stack) again, one node for all."""

    @staticmethod
    def forward(ctx, op, dim, *tensors):
        ctx.op, ctx.dim = op, dim  # (the inputs' shapes are the recorded input_shapes[2:], of every tensor)
        return _wrap(op([t._a for t in tensors], dim))

    @staticmethod
    def backward(ctx, g):
        # Through _Unbind and _Split directly (still differentiable), not the public unbind() and split(): their
        # guard and argument parsing doubled the cost of this backward, one per time step of an RNN.
        dim = ctx.dim % g._a.ndim
        if ctx.op.__name__ == "stack":  # by name: tl.profiler swaps _core's functions for timed ones
            pieces = _Unbind.apply(g, dim)
        else:  # cat skips 1-d empty inputs whatever the dimension (PyTorch's legacy rule): they get no gradient
            shapes = ctx.input_shapes[2:]
            skipped = [len(shape) == 1 and shape[0] == 0 for shape in shapes]
            pieces = _Split.apply(g, _core.split, [0 if skip else shape[dim] for shape, skip in zip(shapes, skipped)], dim)
            if True in skipped:
                pieces = [None if skip else p for p, skip in zip(pieces, skipped)]
        return (None, None) + tuple(p if needed else None for p, needed in zip(pieces, ctx.needs_input_grad[2:]))


concat = concatenate = cat


def stack(tensors, dim=0):
    """Joins equal-shaped tensors along a new dimension."""
    _arrays(tensors, "stack")
    return _Join.apply(_core.stack, dim, *tensors)


def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad: pad = (left, right) of the last dimension, then of the one before, ...;
    modes constant (value, default 0; negative pads crop), reflect, replicate and circular."""
    if value is not None and mode != "constant":
        raise ValueError(f"pad: a value only applies to mode 'constant', not {mode!r}")
    pads = [int(p) for p in pad]
    if value is not None and input.dtype.name == "float16":
        check_f16_range(np.asarray(float(value)))
    return _Pad.apply(input, pads, mode, 0.0 if value is None else float(value))


class _Pad(Function):
    """Constant padding's gradient is g cropped (pad by the negated amounts); reflect, replicate and
    circular send each padded position's gradient back to its source with an index accumulate per dim."""

    @staticmethod
    def forward(ctx, x, pads, mode, value):
        ctx.pads, ctx.mode = pads, mode
        return _wrap(_core.pad(x._a, pads, mode, value))

    @staticmethod
    def backward(ctx, g):
        if ctx.mode == "constant":
            return pad(g, [-p for p in ctx.pads]), None
        shape = list(g.shape)
        for k in range(len(ctx.pads) // 2):
            dim = g.ndim - 1 - k
            left, right = ctx.pads[2 * k], ctx.pads[2 * k + 1]
            size = ctx.input_shapes[0][dim]
            pos = np.arange(-left, size + right)
            if ctx.mode == "reflect":
                period = 2 * (size - 1)
                pos = np.abs((pos % period + period) % period) if period else np.zeros_like(pos)
                pos = np.where(pos >= size, period - pos, pos)
            elif ctx.mode == "replicate":
                pos = np.clip(pos, 0, size - 1)
            else:  # circular
                pos = pos % size
            index = tensor(pos.astype(np.int32), device=g.device)
            shape[dim] = size
            g = _IndexPut0.apply(g, tuple(shape), (slice(None),) * dim + (index,))
        return g, None
