"""Ordering and scans with PyTorch's names: sort argsort topk (stable; NaN is the largest value), cumsum
cumprod, flip roll repeat repeat_interleave. Sorted values are the input gathered at the native argsort's
indices, so their gradient is gather's; cumsum's is the reversed cumsum of the gradient."""
import collections
import numbers

import numpy as np

from .. import _core
from ..autograd.function import OpFamily
from ..creation import tensor
from ..tensor import Tensor, _wrap, tensor_method
from .indexing import gather, index_select
from .shape import cat

# torch.return_types.sort / topk: (values, indices) named tuples.
SortResult = collections.namedtuple("SortResult", ["values", "indices"])
TopkResult = collections.namedtuple("TopkResult", ["values", "indices"])


@tensor_method()
def argsort(input, dim=-1, descending=False, stable=False):
    """int64 indices that sort input along dim (always stable here, which PyTorch's stable=True promises)."""
    return _wrap(_core.argsort(input._a, int(dim), bool(descending)))


@tensor_method()
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) of input sorted along dim; stable, NaN sorted as the largest value."""
    if input.ndim == 0:
        return SortResult(input, argsort(input))
    indices = argsort(input, dim, descending)
    return SortResult(gather(input, dim, indices), indices)


@tensor_method()
def msort(input):
    """input sorted along its first dimension (the values of sort(input, 0))."""
    return sort(input, 0).values


@tensor_method()
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along dim and their int64 indices, in sorted order (which also
    satisfies sorted=False); equal values keep their index order."""
    size = input.shape[dim] if input.ndim else 1
    if not isinstance(k, numbers.Integral) or not 0 <= k <= size:
        raise ValueError(f"topk: k ({k}) must be an int in [0, {size}] (the size of dimension {dim})")
    if input.ndim == 0:
        return TopkResult(input, argsort(input))
    order = argsort(input, dim, descending=bool(largest)).narrow(dim, 0, int(k))
    return TopkResult(gather(input, dim, order), order)


def _reverse(input, dim):
    n = input.shape[dim]
    return index_select(input, dim, _wrap(_core.arange(n - 1, -1, -1, "int64", input._a.device)))


@tensor_method()
def flip(input, dims):
    """input with the order of each dimension in dims reversed (a copy, as in PyTorch)."""
    out = input
    for d in ([dims] if isinstance(dims, numbers.Integral) else dims):
        out = _reverse(out, d % max(input.ndim, 1))
    return out


@tensor_method()
def fliplr(input):
    """input with the order of dimension 1 reversed (a copy)."""
    return flip(input, 1)


@tensor_method()
def flipud(input):
    """input with the order of dimension 0 reversed (a copy)."""
    return flip(input, 0)


@tensor_method()
def roll(input, shifts, dims=None):
    """Elements shifted along dims (wrapping around); without dims the flattened tensor is rolled."""
    if dims is None:
        return roll(input.flatten(), shifts, 0).reshape(input.shape)
    shifts = [shifts] if isinstance(shifts, numbers.Integral) else list(shifts)
    dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    out = input
    for shift, dim in zip(shifts, dims):
        n = out.shape[dim]
        s = int(shift) % n if n else 0
        if s:
            head, tail = out.split([n - s, s], dim)
            out = cat([tail, head], dim)
    return out


@tensor_method()
def repeat(input, *sizes):
    """input tiled sizes[i] times along each dimension (leading new dimensions as needed), PyTorch's rule."""
    if len(sizes) == 1 and not isinstance(sizes[0], numbers.Integral):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes cannot repeat a tensor of {input.ndim} dimensions")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    # [s0, d0, s1, d1, ...] by broadcasting, then merged: the tiles of a dimension come one after another.
    # PyTorch's repeat returns new memory; reshape alone may give a view of the input with stride 0 along the
    # tiles (when the tiled dimensions merge), which in-place ops then refuse. contiguous() copies the
    # expansion whenever some size exceeds 1; with every size 1 the result is a copy of the input.
    if all(s == 1 for s in sizes):
        return x.clone()
    interleaved = x.reshape(sum(((1, d) for d in x.shape), ()))
    expanded = interleaved.expand(sum(((s, d) for s, d in zip(sizes, x.shape)), ()))
    return expanded.contiguous().reshape(tuple(s * d for s, d in zip(sizes, x.shape)))


@tensor_method()
def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated `repeats` times (an int or one count per element)."""
    if dim is None:
        input, dim = input.flatten(), 0
    n = input.shape[dim]
    raw = repeats.cpu().numpy() if isinstance(repeats, Tensor) else np.asarray(repeats)
    if raw.dtype.kind not in ("iu" if isinstance(repeats, Tensor) else "iub"):  # PyTorch refuses 2.5 too
        raise TypeError(f"repeat_interleave: repeats must be integers, got {raw.dtype} ({repeats!r})")
    counts = raw.astype(np.int64)
    counts = np.broadcast_to(counts, (n,)) if counts.ndim == 0 or counts.size == 1 else counts
    if counts.shape != (n,) or (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative, one per element of dimension {dim} ({n})")
    # The total in Python's integers: numpy's own sum wraps (four repeats of 2^62 made np.repeat fill a buffer
    # it had sized as 0, a segfault).
    total = int(counts.astype(object).sum())
    if total > np.iinfo(np.int64).max // 8:
        raise MemoryError(f"repeat_interleave: {total} repeated elements exceed the addressable memory")
    index = np.repeat(np.arange(n, dtype=np.int64), counts)
    return index_select(input, dim, tensor(index, device=input.device))


class _Scan(OpFamily):
    @staticmethod
    def forward(ctx, op, x, dim):
        ctx.op, ctx.dim = op, dim
        y = _wrap(_core.scan(op, x._a, dim))
        ctx.save_for_backward(x if op == _core.ScanOp.cumprod else None, y if op == _core.ScanOp.cumprod else None)
        return y

    @staticmethod
    def backward(ctx, g):
        dim = ctx.dim
        if ctx.op == _core.ScanOp.cumsum:  # d/dx_i sum_{k >= i} g_k: the reversed cumsum of g
            return None, flip(cumsum(flip(g, dim), dim), dim), None
        x, y = ctx.saved_tensors
        if bool((x == 0).any()):
            raise NotImplementedError("cumprod: the gradient where the input holds zeros is not implemented")
        # d/dx_i prod_{j <= k} x_j = y_k / x_i for k >= i: the reversed cumsum of g * y, over x.
        return None, flip(cumsum(flip(g * y, dim), dim), dim) / x, None


@tensor_method()
def cumsum(input, dim, *, dtype=None):
    """Inclusive cumulative sum along dim: float16 accumulates in float32 (each output rounded once); bool
    and integer data give exact int64 (PyTorch's rule)."""
    x = input if dtype is None else input.to(dtype=dtype)
    return _Scan.apply(_core.ScanOp.cumsum, x, int(dim))


@tensor_method()
def cumprod(input, dim, *, dtype=None):
    """Inclusive cumulative product along dim; float16 accumulates in float32 (each output rounded once), and dtype=
    converts the input first."""
    x = input if dtype is None else input.to(dtype=dtype)
    return _Scan.apply(_core.ScanOp.cumprod, x, int(dim))


__all__ = ["argsort", "sort", "msort", "topk", "flip", "fliplr", "flipud", "roll", "repeat", "repeat_interleave",
           "cumsum", "cumprod"]
