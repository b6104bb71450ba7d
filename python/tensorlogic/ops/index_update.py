"""Index-based updates and lookups with PyTorch's names, composed of scatter/scatter_add/gather/nonzero (so
they have those ops' gradients): index_add index_copy index_fill scatter (with its reduce=) scatter_reduce index_reduce
put (and their in-place forms), take argwhere isin, and the scatters of views: slice_scatter select_scatter
diagonal_scatter (index_put on the positions the view covers, so its gradients)."""
import numbers

from ..autograd.grad_mode import no_grad
from ..creation import arange, full, ones, tensor, zeros
from ..dtypes import int64
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from .elementwise import _written_back, copy_, maximum, minimum, where
from .counting import searchsorted
from .indexing import _scatter_src, index_put, nonzero, scatter as _scatter, scatter_add
from .ordering import argsort


def _spread(input, dim, index, source, name):
    """index [n] broadcast to source's shape along dim (the index scatter takes), after PyTorch's checks."""
    dim = dim % max(input.ndim, 1)
    if not isinstance(index, Tensor) or index.ndim > 1 or index.is_floating_point():
        raise TypeError(f"{name}: index must be a 0-d or 1-d integer tensor")
    index = index.reshape(-1).long()
    if source.ndim != input.ndim or source.shape[dim] != index.shape[0] or any(
            source.shape[d] != input.shape[d] for d in range(input.ndim) if d != dim):
        raise ShapeMismatchError(f"{name}: source {list(source.shape)} must match input {list(input.shape)} except "
                                 f"along dim {dim}, where it has one slice per index ({index.shape[0]})")
    shape = [1] * input.ndim
    shape[dim] = index.shape[0]
    return dim, index.reshape(shape).expand(source.shape)


@tensor_method()
def index_add(input, dim, index, source, *, alpha=1):
    """A copy of input with alpha * source's slices added at the positions index names along dim (repeats add)."""
    dim, spread = _spread(input, dim, index, source, "index_add")
    return scatter_add(input, dim, spread, source if alpha == 1 else source * alpha)


@tensor_method()
def index_copy(input, dim, index, source):
    """A copy of input with source's slices written at the positions index names along dim."""
    dim, spread = _spread(input, dim, index, source, "index_copy")
    return _scatter(input, dim, spread, source)


@tensor_method()
def index_fill(input, dim, index, value):
    """A copy of input with the slices index names along dim set to value (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Number):
        raise TypeError(f"index_fill: value must be a number, got {type(value).__name__}")
    if not isinstance(index, Tensor):
        raise TypeError("index_fill: index must be a 0-d or 1-d integer tensor")
    shape = list(input.shape)
    shape[dim] = index.numel()
    source = full(shape, value, dtype=input.dtype, device=input.device)
    dim, spread = _spread(input, dim, index, source, "index_fill")
    return _scatter(input, dim, spread, source)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _check_scatter_reduce(input, dim, index, src, reduce):
    """PyTorch's rules: index an integer tensor of input's rank, no larger than src anywhere nor than input
    off dim; returns dim in [0, ndim) and src cut to index's shape (the part that takes part)."""
    if not isinstance(input, Tensor) or not isinstance(src, Tensor) or not isinstance(index, Tensor):
        raise TypeError("scatter_reduce: input, index and src must be Tensors")
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(_REDUCTIONS)}, got {reduce!r}")
    if index.is_floating_point() or index.dtype.name == "bool":
        raise TypeError(f"scatter_reduce: index must be an integer tensor, got {index.dtype}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"scatter_reduce: src ({src.dtype.name}) must have the dtype of the input "
                           f"({input.dtype.name})")
    if reduce == "mean" and input.dtype.name == "bool":
        raise NotImplementedError("scatter_reduce: reduce='mean' is not implemented for bool tensors (as in PyTorch)")
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise IndexError(f"scatter_reduce: dim {dim} is out of range for a {input.ndim}-d input")
    dim %= max(input.ndim, 1)
    if index.ndim != input.ndim or src.ndim != input.ndim or any(
            i > s or (d != dim and i > n) for d, (i, s, n) in enumerate(zip(index.shape, src.shape, input.shape))):
        raise ShapeMismatchError(f"scatter_reduce: index {list(index.shape)} must have the rank of input "
                                 f"{list(input.shape)} and src {list(src.shape)}, be no larger than src, and no "
                                 f"larger than input except along dim {dim}")
    for d, size in enumerate(index.shape):
        src = src.narrow(d, 0, size)
    return dim, src


def _output_keys(input, dim, index):
    """The flat (row-major) position in input that each index element sends its src element to."""
    strides = [1] * input.ndim
    for d in range(input.ndim - 2, -1, -1):
        strides[d] = strides[d + 1] * input.shape[d + 1]
    keys = index.long() * strides[dim]
    for d in range(input.ndim):
        if d != dim:
            shape = [1] * input.ndim
            shape[d] = index.shape[d]
            keys = keys + arange(index.shape[d], device=input.device).reshape(shape) * strides[d]
    return keys.reshape(-1)


def _segments(keys, values):
    """keys and values sorted by key (stably: equal keys keep their order), and each element's rank in its key's run."""
    order = argsort(keys, stable=True)
    keys, values = keys[order], values[order]
    return keys, values, arange(keys.shape[0], device=keys.device) - searchsorted(keys, keys)


def _extreme(input, keys, values, hit, reduce, include_self):
    """amax/amin's values (no gradient), in input's dtype: sorted by key, then by value, each run's last element is its
    extreme; written into a scratch row whose extra slot takes every other element's write. Floats sort by value
    times the sign (NaN sorts last either way, so it wins both, as in PyTorch); integers and bools, whose negation
    could overflow or is not defined, sort descending for amin."""
    if input.is_floating_point():
        by_value = argsort(values * (1.0 if reduce == "amax" else -1.0), stable=True)
    else:
        by_value = argsort(values, stable=True, descending=reduce == "amin")
    keys, values, _ = _segments(keys[by_value], values[by_value])
    last = keys != keys.roll(-1)
    last[-1:] = True
    n = input.numel()
    scratch = zeros(n + 1, dtype=input.dtype, device=input.device).scatter(0, where(last, keys, n), values)
    best = scratch[:n].reshape(input.shape)
    if include_self:
        best = (maximum if reduce == "amax" else minimum)(best, input)
    return where(hit, best, input)


def _product(input, keys, values, n_hits, include_self):
    """prod, differentiable, in input's dtype: one scatter per rank in the key runs, so that no two writes of a round
    meet."""
    keys, values, rank = _segments(keys, values)
    n = input.numel()
    one = 1.0 if input.is_floating_point() else True if input.dtype.name == "bool" else 1
    out = (input if include_self else where(n_hits > 0, one, input)).reshape(-1)
    for r in range(int(rank.max().item()) + 1 if keys.shape[0] else 0):
        now = rank == r
        factors = ones(n + 1, dtype=input.dtype, device=input.device).scatter(0, where(now, keys, n),
                                                                              where(now, values, one))
        out = out * factors[:n]
    return out.reshape(input.shape)


@tensor_method()
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """A copy of input where each src element is reduced into out[..., index, ...] along dim: reduce is sum, prod,
    mean, amax or amin; include_self=False leaves out the input's values at the positions index names.
    amax/amin's gradient is shared equally by the elements equal to the result, as in PyTorch."""
    dim, src = _check_scatter_reduce(input, dim, index, src, reduce)
    # (counted exactly in int64: float16 counts stop at 2048; the zero written is of input's dtype)
    n_hits = scatter_add(zeros(input.shape, dtype=int64, device=input.device), dim, index,
                         ones(index.shape, dtype=int64, device=input.device))
    hit = n_hits > 0
    zero = 0.0 if input.is_floating_point() else False if input.dtype.name == "bool" else 0
    base = input if include_self else where(hit, zero, input)
    if reduce in ("sum", "mean"):
        total = scatter_add(base, dim, index, src)
        if reduce == "sum":
            return total
        count = where(hit, n_hits + int(include_self), 1)
        if not input.is_floating_point():  # integer means round down, as PyTorch's
            return total.div(count.to(total.dtype), rounding_mode="floor")
        return total / count
    keys = _output_keys(input, dim, index)
    if reduce == "prod":
        return _product(input, keys, src.reshape(-1), n_hits, include_self)
    with no_grad():
        best = _extreme(input.detach(), keys, src.detach().reshape(-1), hit, reduce, include_self)
    if not (input.requires_grad or src.requires_grad):
        return best
    # The gradient: out = sum of the elements equal to it, each weighted 1 / their number (the value itself is
    # `best`, exact; the weighted sum only carries the gradient). As in PyTorch, an input value left out by
    # include_self=False still counts among the ties when it happens to equal the result, and gets no gradient.
    ties_self = (input == best).to(input.dtype)
    ties_src = (src == best.gather(dim, index)).to(input.dtype)
    count = scatter_add(ties_self, dim, index, ties_src)
    self_share = ties_self if include_self else where(hit, 0.0, ties_self)
    # the values that tie only: another may be infinite (a max onto -inf), whose product with a share of 0 is NaN
    share = scatter_add(where(self_share > 0, input, 0.0) * self_share / where(count > 0, count, 1.0), dim, index,
                        where(ties_src > 0, src, 0.0) * ties_src / count.gather(dim, index))
    # (an infinite result is share itself: the tied infinities' sum, exact, where the carrier would be inf - inf)
    return where(best.isfinite(), best + (share - share.detach()), share)


# scatter's reduce=, PyTorch's older form of scatter_reduce with include_self: its two reductions by their names there
_SCATTER_REDUCTIONS = {"add": "sum", "multiply": "prod"}


@tensor_method()
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of input with src (a tensor, or a number) written where index names along dim; where index repeats a
    position, the last write wins. reduce='add' or 'multiply' combines src with what is there instead (as
    scatter_reduce's 'sum' and 'prod' with include_self; their gradients too, which PyTorch does not implement)."""
    if reduce is None:
        return _scatter(input, dim, index, src, value)
    if reduce not in _SCATTER_REDUCTIONS:
        raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    if isinstance(src, numbers.Number):
        src, value = None, src
    return scatter_reduce(input, dim, index, _scatter_src(input, index, src, value, "scatter"),
                          _SCATTER_REDUCTIONS[reduce])


_written_back(scatter, "scatter_")


@tensor_method()
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """A copy of input where source's slices are reduced (prod, mean, amax or amin) into the slices index names along
    dim; include_self=False leaves out input's own values there. scatter_reduce over index spread along dim, so its
    gradients (amax/amin's ties share, as in PyTorch)."""
    if reduce not in _REDUCTIONS[1:]:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if isinstance(index, Tensor) and (index.is_floating_point() or index.dtype.name == "bool"):
        raise RuntimeError(f"index_reduce(): Expected dtype int32/int64 for index but got: {index.dtype.name}")
    dim, spread = _spread(input, dim, index, source, "index_reduce")
    return scatter_reduce(input, dim, spread, source, reduce, include_self=include_self)


@tensor_method()
def put(input, index, source, accumulate=False):
    """A copy of input with source's elements written (added with accumulate=True) at the flat, row-major positions
    index holds (negative ones count from the end): take's inverse. index_put on input seen as 1-d, so its
    gradients."""
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        raise TypeError("put(): index and source must be Tensors")
    if index.dtype.name != "int64":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index.dtype.name}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input.dtype.name} and source.dtype = {source.dtype.name}")
    if source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    n = input.numel()
    if index.numel() and n == 0 or index.numel() and not bool(((index >= -n) & (index < n)).all()):
        raise IndexError(f"put_(): an index is out of range for a tensor of {n} elements")
    flat = index_put(input.reshape(-1), (index.reshape(-1),), source.reshape(-1), accumulate)
    return flat.reshape(input.shape)


for _fn in (index_add, index_copy, index_fill, scatter_reduce, index_reduce, put):
    _written_back(_fn, _fn.__name__ + "_")


@tensor_method()
def take(input, index):
    """input's elements at the flat (row-major) positions index holds, in index's shape."""
    return input.reshape(-1)[index.long()] if index.ndim else input.reshape(-1)[index.long().reshape(1)].reshape(())


@tensor_method()
def argwhere(input):
    """[n, ndim] int64: the index of every non-zero element, in row-major order (nonzero's result)."""
    return nonzero(input)


@tensor_method()
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with src written into input[..., start:end:step, ...] (the slice along dim, Python's
    clamping of start and end); src must have the slice's shape."""
    dim = _checked_dim(input, dim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    positions = range(input.shape[dim])[slice(start, end, step)]
    _check_src(src, input.shape[:dim] + (len(positions),) + input.shape[dim + 1:], "slice_scatter")
    index = arange(positions.start, positions.stop, positions.step, device=input.device)
    return _scatter_view(input, src.movedim(dim, 0), [dim], (index,))


@tensor_method()
def select_scatter(input, src, dim, index):
    """A copy of input with src written into input.select(dim, index); src must have that view's shape."""
    dim = _checked_dim(input, dim, "select_scatter")
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {dim}")
    _check_src(src, input.shape[:dim] + input.shape[dim + 1:], "select_scatter")
    return _scatter_view(input, src.unsqueeze(0), [dim], (tensor([index % size], device=input.device),))


@tensor_method()
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with src written into input.diagonal(offset, dim1, dim2) (src: input's other dims, then the
    diagonal's length, as diagonal() returns)."""
    dim1, dim2 = _checked_dim(input, dim1, "diagonal_scatter"), _checked_dim(input, dim2, "diagonal_scatter")
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    length = max(0, min(input.shape[dim1] + min(offset, 0), input.shape[dim2] - max(offset, 0)))
    rest = tuple(n for d, n in enumerate(input.shape) if d not in (dim1, dim2))
    _check_src(src, rest + (length,), "diagonal_scatter")
    rows = arange(length, device=input.device)
    return _scatter_view(input, src.movedim(-1, 0), [dim1, dim2], (rows - min(offset, 0), rows + max(offset, 0)))


def _checked_dim(input, dim, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim == 0 or not -input.ndim <= dim < input.ndim:
        raise IndexError(f"{name}: dimension {dim} out of range for a tensor of {input.ndim} dimensions")
    return dim % input.ndim


def _check_src(src, shape, name):
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' must be Tensor, not {type(src).__name__}")
    if tuple(src.shape) != tuple(shape):
        raise ShapeMismatchError(f"{name}: expected src to have a size equal to the slice of self. src size = "
                                 f"{list(src.shape)}, slice size = {list(shape)}")


def _scatter_view(input, src, dims, index):
    """index_put of src on the positions `index` (one index tensor per dim of `dims`) of input with those dims moved
    to the front; src laid out as that indexing selects (the indexed positions first, then the other dims)."""
    front = list(range(len(dims)))
    return index_put(input.movedim(dims, front), index, src.to(input.dtype)).movedim(front, dims)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor of elements' shape: whether each element occurs among test_elements (a tensor or a number)."""
    if not isinstance(elements, Tensor):
        raise TypeError(f"isin: elements must be a Tensor, got {type(elements).__name__}")
    tests = test_elements.reshape(-1) if isinstance(test_elements, Tensor) else \
        tensor([test_elements] if isinstance(test_elements, numbers.Number) else list(test_elements),
               device=elements.device)
    found = (elements.unsqueeze(-1) == tests).any(-1)  # any() of nothing is False: an empty test set finds none
    return ~found if invert else found


__all__ = ["index_add", "index_copy", "index_fill", "scatter", "scatter_reduce", "index_reduce", "put", "take", "argwhere", "isin",
           "slice_scatter", "select_scatter", "diagonal_scatter"]
