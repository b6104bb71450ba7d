"""Indexing: t[key] and t[key] = value (ints, slices, None, Ellipsis, index tensors/arrays/lists, 0/1
masks, combinations, with PyTorch's rules), gather, scatter_add, index_select, embedding, nonzero,
index_put_."""
import numbers
import operator

import numpy as np

from .. import _core
from .._convert import check_f16_range
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function, records
from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..autograd.inplace import inplace
from ..autograd.views import note_view
from ..determinism import alert, on_cuda
from ..tensor import Tensor, _as_tensor_like, _wrap, tensor_method

__all__ = ["gather", "scatter_add", "index_select", "embedding", "nonzero", "index_put"]

_BIG = 1 << 62  # an open slice end (the core clips it to the size)
_ADD = _core.BinaryOp.add


def _accumulating_scatter(op, target):
    """Before an f16 scatter that adds repeated positions: CUDA's adds them atomically in f32 in no fixed order."""
    if target.dtype == "float16" and on_cuda(target):
        alert(f"{op} (float16, accumulating, on CUDA)")


# ---- parsing keys -----------------------------------------------------------------------------------
def _index_value(item, device):
    """An advanced index item as ('index', int64/int32 Array, its values when given as host data or None) or
    ('mask', numpy bool array, None)."""
    if isinstance(item, Tensor):
        if item._a.dtype in ("int64", "int32"):
            return "index", item._a, None
        if item._a.dtype == "bool":
            return "mask", item.numpy(), None
        raise IndexError(f"tensors used as indices must be long, int or bool tensors, got {item.dtype.name}")
    try:
        values = np.asarray(item)
    except (ValueError, TypeError, OverflowError) as error:  # a ragged list: numpy's message names its internals
        raise IndexError(f"an index list must be rectangular and hold integers or bools, got {item!r:.80}") from error
    except MemoryError:  # numpy's is empty (range(-1, 2**62) as an index)
        raise MemoryError(f"an index of {type(item).__name__} {item!r:.80} does not fit in memory") from None
    if values.dtype == np.bool_:
        return "mask", values, None
    if values.size == 0 and values.dtype.kind == "f":  # t[[]]: an empty integer index
        values = values.astype(np.int64)
    if values.dtype.kind not in "iu":
        raise IndexError(f"tensors used as indices must be integers or bool masks, got {values.dtype} data")
    if values.dtype == np.uint64 and values.size and values.max() >= (1 << 63):
        raise IndexError("index value beyond the int64 range")
    values = values.astype(np.int64, copy=False)
    return "index", _index_array(values, device), values


def _check_host_index(values, size, dim, op):
    """Indices given as host data are range-checked here, before any upload: the error comes at once on every
    device (index tensors on a GPU are checked there, and the error comes at the next read)."""
    bad = values[(values < -size) | (values >= size)]
    if bad.size:
        raise IndexError(f"{op}: index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")


def _index_array(values, device):
    a = _core.from_numpy(np.ascontiguousarray(values))
    return a if device == "cpu" else _core.to_device(a, device)


def _parse(t, key, op):
    """Applies the basic part of `key` as views and returns (view, advanced): `advanced` has one integer
    array or None per leading dim of the view (empty when no advanced index is present)."""
    if not isinstance(key, tuple):
        key = (key,)
    device = t._a.device
    items, consumed, ellipsis = [], 0, False
    for item in key:
        if item is None:
            items.append(("none", None, None))
        elif item is Ellipsis:
            if ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ellipsis = True
            items.append(("ellipsis", None, None))
        elif isinstance(item, slice):
            items.append(("slice", item, None))
            consumed += 1
        elif isinstance(item, (numbers.Integral, np.integer)) and not isinstance(item, (bool, np.bool_)):
            if not -_BIG <= item <= _BIG:  # beyond any size (and beyond what the core takes)
                raise IndexError(f"index {int(item)} is out of bounds for any dimension size")
            items.append(("int", int(item), None))
            consumed += 1
        elif isinstance(item, Tensor) and item._a.ndim == 0 and item._a.dtype in ("int64", "int32"):
            items.append(("int", item.item(), None))
            consumed += 1
        elif isinstance(item, (Tensor, np.ndarray, list, tuple, range, bool, np.bool_)):  # range: a list of ints
            kind, value, host = _index_value(item, device)
            items.append((kind, value, host))
            consumed += value.ndim if kind == "mask" else 1
        elif hasattr(type(item), "__index__") and not isinstance(item, (float, complex)):  # int-like, as PyTorch's
            whole = operator.index(item)
            if not -_BIG <= whole <= _BIG:
                raise IndexError(f"index {whole} is out of bounds for any dimension size")
            items.append(("int", whole, None))
            consumed += 1
        else:
            raise IndexError(f"only integers, slices, None, ..., and integer or mask tensors are valid indices "
                             f"(got {type(item).__name__})")
    ndim = t._a.ndim
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    a, dim, advanced = t._a, 0, []
    for kind, value, host in items:
        if kind == "none":
            a = _core.unsqueeze(a, dim)
            advanced.append(None)
            dim += 1
        elif kind == "ellipsis":
            skip = ndim - consumed
            advanced.extend([None] * skip)
            dim += skip
        elif kind == "int":
            a = _core.select(a, dim, value)
        elif kind == "slice":
            a = _core.slice(a, dim, *_slice_args(value))
            advanced.append(None)
            dim += 1
        elif kind == "index":
            if host is not None:
                _check_host_index(host, a.shape[dim], dim, op)
            advanced.append(value)
            dim += 1
        else:
            if value.ndim == 0:  # x[True] / x[False]: a new dimension of size 1 or 0
                a = _core.unsqueeze(a, dim)
                value = value.reshape(1)
            expected = tuple(a.shape[dim:dim + value.ndim])
            if value.shape != expected:
                raise IndexError(f"the shape of the mask {list(value.shape)} at index {dim} does not match the "
                                 f"shape of the indexed tensor {list(expected)}")
            for coords in np.nonzero(value):
                advanced.append(_index_array(coords.astype(np.int64), device))
                dim += 1
    if all(i is None for i in advanced):
        advanced = []
    return a, advanced


def _slice_args(s):
    """start, stop, step of a slice for the core; bounds beyond any size are clipped, as Python does."""
    step = 1 if s.step is None else operator.index(s.step)
    if step <= 0:
        raise ValueError(f"slice step must be positive, got {step}")
    start = 0 if s.start is None else _clip(operator.index(s.start))
    stop = _BIG if s.stop is None else _clip(operator.index(s.stop))
    return start, stop, min(step, _BIG)


def _clip(i):
    return max(-_BIG, min(i, _BIG))


def _getitem(self, key):
    if self.requires_grad or _grad_enabled():  # (with grad mode on, a view notes its root: autograd/views.py)
        return _Index.apply(self, key)
    return _getitem_array(self, key)


def _basic_view(a, key):
    """The view of array `a` at a key of plain ints and slices (t[i], t[a:b], t[:, i, :]: the common keys,
    4x cheaper than _parse), or None for any other key."""
    kind = type(key)
    if kind is int:
        return _core.select(a, 0, key) if a.ndim > 0 and -_BIG <= key <= _BIG else None
    if kind is slice:
        return _core.slice(a, 0, *_slice_args(key)) if a.ndim > 0 else None
    if kind is not tuple or len(key) > a.ndim:
        return None
    for item in key:  # all checked first: an item of any other kind (a second ...) owns the error
        if type(item) is not slice and (type(item) is not int or not -_BIG <= item <= _BIG):
            return None
    view, dim = a, 0
    for item in key:
        kind = type(item)
        if kind is slice:
            if item.start is not None or item.stop is not None or item.step is not None:
                view = _core.slice(view, dim, *_slice_args(item))
            dim += 1  # a full slice keeps the dimension as it is
        else:
            view = _core.select(view, dim, item)
    return view if view is not a else None  # t[:, :] and t[()] are left to _parse, which makes a new view


def _key_op_name(key, getitem):
    """PyTorch's name of the last view op that indexing with `key` applies (t[0, 1:]: Slice), for its messages; None
    where it applies none. PyTorch skips full slices (`:`) and Ellipsis, but for a lone slice of getitem; advanced
    indices make no view."""
    if getitem and type(key) is slice:
        return "Slice"
    name = None
    for item in key if type(key) is tuple else (key,):
        if item is None or item is True:
            name = "Unsqueeze"
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            name = "Select"
        elif type(item) is slice and (item.start not in (None, 0) or item.stop is not None or item.step not in (None, 1)):
            name = "Slice"
    return name


def _getitem_array(self, key):
    return _wrap(_indexed(self, key)[0])


def _indexed(self, key):
    """(the array of self[key], whether it is a view of self's memory rather than a copy)."""
    view = _basic_view(self._a, key)
    if view is not None:
        return view, True
    view, advanced = _parse(self, key, "index")
    return (_core.index(view, advanced), False) if advanced else (view, True)


def _setitem(self, key, value):
    view, advanced = _parse(self, key, "index_put_")
    dtype = view.dtype
    if not advanced:
        if isinstance(value, numbers.Number) and not isinstance(value, complex):
            _fill(view, value)
        else:
            src = _as_tensor_like(value, self)._a
            _core.copy_(view, src if src.device == view.device else _core.to_device(src, view.device))
    else:
        values = _as_tensor_like(value, self)._a
        if values.dtype != dtype:
            values = _core.astype(values, dtype)  # like PyTorch, assignment converts to the target's dtype
        _core.index_put_(view, advanced, values, False)
    self._version += 1


def _fill(array, value):
    if array.dtype == "float16":
        check_f16_range(np.asarray(float(value)))
    _core.fill_(array, float(value))


def _setitem_recorded(self, key, value):
    if records(self, value):  # (the views of self's memory that the key's elements miss keep their history)
        return inplace(self, lambda before: _SetItem.apply(before, key, value), "__setitem__",
                       _basic_view(self._a, key), _key_op_name(key, False))
    return _setitem(self, key, value)


Tensor.__getitem__ = _getitem
Tensor.__setitem__ = _setitem_recorded


# ---- autograd: x[key] and its adjoint, "zeros of x's shape with g added at x[key]", are each other's
# backward, so indexing has derivatives of every order. The other index ops reduce to these two.
class _Index(Function):
    @staticmethod
    def view_name(args, index):
        return _key_op_name(args[0], True) or "Alias"

    @staticmethod
    def forward(ctx, x, key):
        if ctx is not _NULL:  # (setting an attribute of the null ctx is a Python call)
            ctx.key = key
        array, is_view = _indexed(x, key)
        out = _wrap(array)
        if is_view and (ctx is not _NULL or _grad_enabled()):
            note_view(x, out, (_Index, (key,), None))
        return out

    @staticmethod
    def backward(ctx, g):
        return _IndexPut0.apply(g, ctx.input_shapes[0], ctx.key), None

    @staticmethod
    def backward_into(ctx, g, acc):
        view = _basic_view(acc._a, ctx.key)  # (an advanced key may repeat indices: left to _IndexPut0)
        if view is None:
            return False
        _core.binary_(_ADD, view, g._a)
        return True


class _IndexPut0(Function):
    """zeros(shape) with g accumulated at [key] (repeated indices add up)."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        out = _wrap(_core.full(list(shape), 0.0, "float16", g._a.device))
        view = _basic_view(out._a, key)
        if view is not None:
            _core.copy_(view, g._a)
            return out
        view, advanced = _parse(out, key, "index_put_")
        if advanced:
            _accumulating_scatter("index_put_", view)
            _core.index_put_(view, advanced, g._a, True)
        else:
            _core.copy_(view, g._a)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _Index.apply(gg, ctx.key), None, None


class _SetItem(Function):
    """x with x[key] = value (a new tensor): x's gradient is g with zeros at key, value's is g[key]."""

    @staticmethod
    def forward(ctx, x, key, value):
        ctx.key = key
        out = _wrap(_core.clone(x._a))
        _setitem(out, key, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = _SetItem.apply(g, ctx.key, 0.0) if ctx.needs_input_grad[0] else None
        gv = sum_to(_Index.apply(g, ctx.key), ctx.input_shapes[2]) if ctx.needs_input_grad[2] else None
        return gx, None, gv


class _Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index = dim, index
        return _wrap(_core.gather(x._a, dim, index))

    @staticmethod
    def backward(ctx, g):
        zeros = _wrap(_core.full(list(ctx.input_shapes[0]), 0.0, "float16", g._a.device))
        return _ScatterAdd.apply(zeros, ctx.dim, ctx.index, g), None, None


class _IntoIndex(Function):
    """scatter_add and scatter: the forward runs the subclass's `kernel`, keeping dim and index for the
    backward."""

    @classmethod
    def forward(cls, ctx, x, dim, index, src):
        ctx.dim, ctx.index = dim, index
        return _wrap(cls.kernel(x._a, dim, index, src._a))


class _ScatterAdd(_IntoIndex):
    @staticmethod
    def kernel(x, dim, index, src):
        _accumulating_scatter("scatter_add", x)
        return _core.scatter_add(x, dim, index, src)

    @staticmethod
    def backward(ctx, g):
        gsrc = _Gather.apply(g, ctx.dim, ctx.index) if ctx.needs_input_grad[3] else None
        return g, None, None, gsrc


class _Scatter(_IntoIndex):
    """out = x with src written at index along dim: x's gradient is g with those positions zeroed (a
    scatter of zeros), src's is g gathered at index."""

    kernel = staticmethod(_core.scatter)

    @staticmethod
    def backward(ctx, g):
        gx = None
        if ctx.needs_input_grad[0]:
            zeros = _wrap(_core.full(list(ctx.index.shape), 0.0, "float16", g._a.device))
            gx = _Scatter.apply(g, ctx.dim, ctx.index, zeros)
        gsrc = _Gather.apply(g, ctx.dim, ctx.index) if ctx.needs_input_grad[3] else None
        return gx, None, None, gsrc


# ---- index functions ----------------------------------------------------------------------------------
def _index_tensor(index, like):
    """Integer indices given as a Tensor, numpy array or list."""
    if isinstance(index, Tensor):
        return index._a
    kind, value, _ = _index_value(index, like._a.device)
    if kind == "mask":
        raise TypeError("expected integer indices, got a boolean mask")
    return value


@tensor_method()
def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[i][index[i][j][k]][k] (for dim=1): index has input's number of dimensions."""
    return _Gather.apply(input, dim, _index_tensor(index, input))


@tensor_method()
def scatter_add(input, dim, index, src):
    """A copy of input with src added at the positions index names along dim (repeats add up)."""
    src = src if isinstance(src, Tensor) else _as_tensor_like(src, input)
    return _ScatterAdd.apply(input, dim, _index_tensor(index, input), src)


@tensor_method()
def scatter_add_(input, dim, index, src):
    """In place: src added into input at the positions index names along dim (repeats add up); returns input."""
    if records(input, src):
        return inplace(input, lambda before: scatter_add(before, dim, index, src), "scatter_add_")
    out = scatter_add(input, dim, index, src)
    _core.copy_(input._a, out._a)
    input._version += 1
    return input


def _scatter_src(input, index, src, value, name):
    if (src is None) == (value is None):
        raise TypeError(f"{name}: give exactly one of src and value")
    if src is None:
        src = value
    if isinstance(src, Tensor):
        return src
    shape = index.shape if isinstance(index, Tensor) else np.shape(index)
    return _wrap(_core.full(list(shape), float(src), input._a.dtype, input._a.device))


def scatter(input, dim, index, src=None, value=None):
    """A copy of input with src (a tensor, or a number) written where index names along dim; where index repeats a
    position, the last write wins. The public tl.scatter and Tensor.scatter/scatter_ (ops/index_update.py) add
    PyTorch's reduce= over this."""
    if isinstance(src, numbers.Number):
        src, value = None, src
    return _Scatter.apply(input, dim, _index_tensor(index, input), _scatter_src(input, index, src, value, "scatter"))


@tensor_method()
def index_select(input, dim, index):
    """The entries of input along dim at the positions of the 1-d integer tensor index (a copy; repeats allowed)."""
    if input.requires_grad:  # recorded as input[:, ..., index] (the same values), whose adjoint accumulates
        index = index if isinstance(index, Tensor) else _wrap(_index_tensor(index, input))
        if index.ndim != 1:
            raise IndexError(f"index_select: index must be 1-d, got shape {list(index.shape)}")
        if input.ndim == 0:  # a 0-d input is indexed as one element, as the native path does
            input = input.reshape(1)
        return _Index.apply(input, (slice(None),) * (dim % input.ndim) + (index,))
    return _wrap(_core.index_select(input._a, dim, _index_tensor(index, input)))


def embedding(weight, input):
    """Rows of weight [num_embeddings, dim] picked by the integer indices in input (torch.embedding's order;
    tl.nn.functional.embedding takes (input, weight))."""
    if weight.requires_grad:
        return _Embedding.apply(weight, _index_tensor(input, weight))
    return _wrap(_core.embedding(weight._a, _index_tensor(input, weight)))


class _Embedding(Function):
    @staticmethod
    def forward(ctx, weight, index):
        ctx.index = index
        return _wrap(_core.embedding(weight._a, index))

    @staticmethod
    def backward(ctx, g):
        return _EmbeddingBackward.apply(g, ctx.index, ctx.input_shapes[0][0]), None


class _EmbeddingBackward(Function):
    """The embedding's weight gradient: zeros [num_weights, dim] with g's rows summed at their indices (in f32,
    rounded once). On CUDA the indices stay on the device (a sorted, deterministic sum; their range check is
    raised at the next read), so a training step does not wait for them."""

    @staticmethod
    def forward(ctx, g, index, num_weights):
        ctx.index = index
        return _wrap(_core.embedding_backward(g._a, index, num_weights))

    @staticmethod
    def backward(ctx, gg):
        return _Embedding.apply(gg, ctx.index), None, None


@tensor_method()
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an int64 [n, ndim] tensor, or one 1-d tensor per dimension."""
    coords = np.nonzero(input.numpy().reshape(input.shape) if input.ndim else input.numpy().reshape(1))
    device = input._a.device
    if as_tuple:
        return tuple(_wrap(_index_array(c.astype(np.int64), device)) for c in coords)
    stacked = np.stack(coords, axis=1).astype(np.int64) if coords else np.zeros((0, 0), np.int64)
    return _wrap(_index_array(stacked if input.ndim else stacked[:, :0], device))


def _advanced(input, indices):
    advanced = []
    for i, index in enumerate(indices):
        if index is None:
            advanced.append(None)
            continue
        kind, value, host = _index_value(index, input._a.device)
        if host is not None and len(advanced) < input._a.ndim:
            _check_host_index(host, input.shape[len(advanced)], len(advanced), "index_put_")
        if kind == "mask":
            if value.ndim != 1 and i != len(indices) - 1:
                raise IndexError("index_put_: a multi-dimensional mask must be the last index")
            advanced.extend(_index_array(c.astype(np.int64), input._a.device) for c in np.nonzero(value))
        else:
            advanced.append(value)
    return advanced


@tensor_method()
def index_put_(input, indices, values, accumulate=False):
    """input[indices] = values (or += with accumulate, where repeated positions add up), in place."""
    if records(input, values):
        return inplace(input, lambda before: index_put(before, indices, values, accumulate), "index_put_")
    values = _as_tensor_like(values, input)._a
    if values.dtype != input._a.dtype and input._a.dtype == "float16":
        values = _core.astype(values, "float16")
    if accumulate:
        _accumulating_scatter("index_put_", input._a)
    _core.index_put_(input._a, _advanced(input, indices), values, bool(accumulate))
    input._version += 1
    return input


@tensor_method()
def index_put(input, indices, values, accumulate=False):
    """A copy of input with values written at the positions of the index tensors in `indices` (a tuple, as
    input[indices] = values), or added there when accumulate=True (repeats then add up)."""
    if records(input, values):
        key = tuple(indices)
        if accumulate:
            values = values if isinstance(values, Tensor) else _as_tensor_like(values, input)
            return input + _IndexPut0.apply(values.expand(_getitem_array(input, key).shape), input.shape, key)
        return _SetItem.apply(input, key, values)
    return index_put_(input.clone(), indices, values, accumulate)
