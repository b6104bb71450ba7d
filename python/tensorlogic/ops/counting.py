"""Counting and bucketing with PyTorch's names: unique unique_consecutive bincount histc histogram searchsorted
bucketize. None has a gradient in PyTorch. The sizes of unique's and bincount's results depend on the
data, so they are computed on the host (numpy), as PyTorch's GPU kernels also wait for the data; searchsorted
and bucketize stay on the device: a value's position is the number of boundaries below it (exact int64
counts of a broadcast comparison)."""
import collections
import math
import numbers

import numpy as np

from ..creation import tensor, zeros
from ..dtypes import float16, int64
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from .elementwise import isnan


def _host(t):
    return t.detach().cpu().numpy()


def _on(values, like, dtype=None):
    return tensor(np.ascontiguousarray(values if dtype is None else values.astype(dtype)), device=like.device)


def _result(output, inverse, counts, return_inverse, return_counts):
    extra = ([inverse] if return_inverse else []) + ([counts] if return_counts else [])
    return tuple([output] + extra) if extra else output


@tensor_method()
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002 (torch's name)
    """The distinct elements (dim=None: of the flattened input) or distinct slices along dim, in ascending order;
    optionally the index of each element's value in the result (shaped like input, or along dim) and each
    value's count. Every NaN counts as distinct, as in PyTorch."""
    x = _host(input)
    if dim is None:
        values, inverse, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(x.shape)
    else:
        if not isinstance(dim, numbers.Integral) or not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
            raise IndexError(f"unique: dim {dim} is out of range for a tensor of {x.ndim} dims")
        values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=int(dim))
        inverse = inverse.reshape(-1)
    return _result(_on(values, input), _on(inverse, input, np.int64), _on(counts, input, np.int64), return_inverse,
                   return_counts)


@tensor_method()
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (dim=None: of the flattened input) or slices along dim kept once;
    optionally each element's run number and each run's length."""
    x = _host(input)
    if dim is None:
        rows = x.reshape(-1, 1)
    else:
        if not isinstance(dim, numbers.Integral) or not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
            raise IndexError(f"unique_consecutive: dim {dim} is out of range for a tensor of {x.ndim} dims")
        rows = np.moveaxis(x, int(dim), 0).reshape(x.shape[int(dim)], -1)
    starts = np.ones(rows.shape[0], bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), rows.shape[0]))
    if dim is None:
        values, inverse = x.reshape(-1)[starts], inverse.reshape(x.shape)
    else:
        values = np.compress(starts, x, axis=int(dim))
    return _result(_on(values, input), _on(inverse, input, np.int64), _on(counts, input, np.int64), return_inverse,
                   return_counts)


@tensor_method()
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... max(input) occurs in a 1-d tensor of non-negative integers (at least
    minlength bins): int64 counts, or the sums of `weights` (float16) per bin."""
    if input.ndim != 1 or input.is_floating_point() or input.dtype.name == "bool":
        raise TypeError(f"bincount: input must be a 1-d integer tensor, got {input.dtype} of shape {list(input.shape)}")
    if not isinstance(minlength, numbers.Integral) or minlength < 0:
        raise ValueError(f"bincount: minlength must be a non-negative int, got {minlength}")
    x = _host(input).astype(np.int64)
    if (x < 0).any():
        raise ValueError("bincount: input must hold non-negative values only")
    size = max(int(x.max()) + 1 if x.size else 0, int(minlength))
    values, where_ = np.unique(x, return_inverse=True)  # summed over the values that occur
    if weights is None:
        sums, dtype = np.bincount(where_, minlength=values.size), np.int64
    else:
        if weights.shape != input.shape:
            raise ShapeMismatchError(f"bincount: weights {list(weights.shape)} must have the input's shape "
                                     f"{list(input.shape)}")
        sums, dtype = np.bincount(where_, _host(weights).astype(np.float64), values.size), np.float16
    return _scattered(size, values, sums, dtype, input)


def _scattered(size, positions, values, dtype, like):
    """A tensor of `size` zeros (made by the engine: an impossible size is a MemoryError) with values at positions."""
    out = zeros((size,), dtype=int64 if dtype is np.int64 else float16, device=like.device)
    if positions.size:
        out[_on(positions, like, np.int64)] = _on(values, like, dtype)
    return out


@tensor_method()
def histc(input, bins=100, min=0, max=0):  # noqa: A002 (torch's names)
    """A histogram of `bins` equal-width bins over [min, max] (the data's range when both are 0); elements outside
    are ignored, the last bin includes max. float16 counts (exact to 2048 per bin)."""
    if not isinstance(bins, numbers.Integral) or bins <= 0:
        raise ValueError(f"histc: bins must be a positive int, got {bins}")
    x = _host(input).astype(np.float64).reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    if lo == hi:  # PyTorch widens an empty range by 1 on each side
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):  # an inf bound put every element in bin 0, a NaN one in none
        raise ValueError(f"histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise ValueError(f"histc: max ({max}) must be larger than min ({min})")
    inside = x[(x >= lo) & (x <= hi)]
    # the bin of each element (max falls in the last), counted over the bins that occur only
    index = np.minimum(((inside - lo) * (bins / (hi - lo))).astype(np.int64), bins - 1)
    occupied, counts = np.unique(index, return_counts=True)
    return _scattered(int(bins), occupied, counts, np.float16, input)


Histogram = collections.namedtuple("histogram", ["hist", "bin_edges"])


def _histogram_edges(x, bins, range_):
    """The float16 bin edges: `bins` (a 1-d tensor of increasing edges) as given, or bins + 1 equal steps over
    range_ (the data's finite range by default; an empty range widened by 0.5 on each side, as PyTorch does)."""
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.shape[0] < 1:
            raise ShapeMismatchError(f"histogram: bins must be a 1-d tensor of edges, got shape {list(bins.shape)}")
        edges = _host(bins).astype(np.float64)
        if (np.diff(edges) < 0).any():
            raise ValueError("histogram: the bin edges must increase monotonically")
        return edges
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins <= 0:
        raise ValueError(f"histogram: bins must be a positive int or a 1-d tensor of edges, got {bins!r}")
    if range_ is None:
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"histogram: the data's range [{lo}, {hi}] is not finite; give range=(min, max)")
    else:
        lo, hi = (float(v) for v in range_)
        if lo > hi:
            raise ValueError(f"histogram: min should not exceed max, but got min {lo} max {hi}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, int(bins) + 1).astype(np.float16).astype(np.float64)


@tensor_method()
def histogram(input, bins, *, range=None, weight=None, density=False):  # noqa: A002 (torch's names)
    """torch.histogram of a float tensor's elements: (hist, bin_edges), both float16. bins is a count (equal
    bins over `range`, the data's range by default) or a 1-d tensor of edges; each bin holds [edge_i, edge_i+1)
    and the last one its right edge too; elements outside (and NaNs) are not counted. weight (input's shape)
    sums weights instead of counting; density divides by the total and the bin widths. Counted on the host
    (numpy), against the float16 edges it returns."""
    if not isinstance(input, Tensor) or not input.is_floating_point():
        raise TypeError(f"histogram: input must be a float tensor, got "
                        f"{input.dtype.name if isinstance(input, Tensor) else type(input).__name__}")
    x = _host(input).astype(np.float64).reshape(-1)
    edges = _histogram_edges(x, bins, range)
    w = None
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.shape != input.shape:
            raise ShapeMismatchError(f"histogram: weight must be a tensor of the input's shape {list(input.shape)}, "
                                     f"got {list(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
        w = _host(weight).astype(np.float64).reshape(-1)
    n = max(edges.size - 1, 0)
    inside = (x >= edges[0]) & (x <= edges[-1]) if n else np.zeros(x.shape, bool)
    index = np.minimum(np.searchsorted(edges, x[inside], side="right") - 1, n - 1)
    hist = np.bincount(index, None if w is None else w[inside], minlength=n).astype(np.float64)
    if density:
        hist = hist / (hist.sum() * np.diff(edges))
    return Histogram(_on(hist, input, np.float16), _on(edges, input, np.float16))


def _positions(boundaries, values, right):
    """The number of boundaries (..., M) below each value (..., K) (at or below: right=True), exact int64; NaN
    values go after every boundary."""
    expanded = values.unsqueeze(-1)
    below = (boundaries.unsqueeze(-2) <= expanded) if right else (boundaries.unsqueeze(-2) < expanded)
    return (below.sum(-1) + isnan(values).long() * boundaries.shape[-1]).reshape(values.shape)


@tensor_method()
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value of input would be inserted into sorted_sequence (1-d, or one sorted row per leading index
    of input) to keep it sorted: the first such place, or the last with right=True / side='right'. int64 (int32
    with out_int32)."""
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: side='left' contradicts right=True")
        right = side == "right"
    if sorter is not None:
        sorted_sequence = sorted_sequence.gather(-1, sorter)
    values = input if isinstance(input, Tensor) else tensor(np.asarray(input), device=sorted_sequence.device)
    if sorted_sequence.ndim > 1 and tuple(sorted_sequence.shape[:-1]) != tuple(values.shape[:-1]):
        raise ShapeMismatchError(f"searchsorted: the leading dims of sorted_sequence {list(sorted_sequence.shape)} "
                                 f"and input {list(values.shape)} must match")
    if sorted_sequence.ndim == 0:
        raise ShapeMismatchError("searchsorted: sorted_sequence must have at least 1 dimension")
    count = _positions(sorted_sequence, values, right)  # N-d: row r of the values searches row r of the sequence
    return count.int() if out_int32 else count.long()


@tensor_method()
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element: i with boundaries[i-1] < x <= boundaries[i] (right=True: boundaries[i-1] <= x <
    boundaries[i]) for 1-d ascending boundaries. int64 (int32 with out_int32)."""
    if boundaries.ndim != 1:
        raise ShapeMismatchError(f"bucketize: boundaries must be 1-d, got {list(boundaries.shape)}")
    values = input if isinstance(input, Tensor) else tensor(np.asarray(input), device=boundaries.device)
    count = _positions(boundaries.reshape(-1), values, right)
    return count.int() if out_int32 else count.long()


__all__ = ["unique", "unique_consecutive", "bincount", "histc", "histogram", "searchsorted", "bucketize"]
