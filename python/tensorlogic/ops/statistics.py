"""Order statistics, paired reductions and covariances with PyTorch's names: median nanmedian kthvalue mode quantile
nanquantile aminmax std_mean var_mean count_nonzero cov corrcoef. Each order statistic gathers the input at positions of
the native (stable) argsort, so its values are input elements and their gradient is gather's (all of it to
the element chosen, as in PyTorch). NaN sorts as the largest value: median and quantile give NaN for a
slice holding one (median's index is its first NaN), nanmedian and nanquantile skip them."""
import collections
import numbers
import warnings

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from .elementwise import clamp, isnan
from .linalg import mm
from .indexing import gather
from .ordering import argsort
from .reduction import _dim, _dims, amax, amin, mean, std, var

# torch.return_types.*: (values, indices) / (min, max) named tuples
Median = collections.namedtuple("median", ["values", "indices"])
KthValue = collections.namedtuple("kthvalue", ["values", "indices"])
Mode = collections.namedtuple("mode", ["values", "indices"])
AMinMax = collections.namedtuple("aminmax", ["min", "max"])


def _pick(input, dim, position, keepdim):
    """(values, indices): the elements at sorted position `position` (an int64 tensor shaped like input with dim
    of size 1) of every slice along dim."""
    order = argsort(input, dim)
    indices = gather(order, dim, position)
    values = gather(input, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, indices


def _median(input, dim, keepdim, skip_nan, name):
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            raise ValueError(f"{name}: an empty tensor has no median")
        return _median(flat, 0, False, skip_nan, name).values
    if input.ndim == 0:
        return Median(input, tensor(np.zeros((), np.int64), device=input.device))
    dim = _dim(input, dim, name)
    n = input.shape[dim]
    if n == 0:
        raise ValueError(f"{name}: dimension {dim} is empty (a median needs at least one element)")
    nans = isnan(input).sum(dim, keepdim=True)  # exact int64
    if skip_nan:  # the lower median of the numbers; position 0 (a NaN) when there are none
        position = ((n - nans - 1) // 2).clamp(min=0)
    else:  # the lower median, or the first NaN (sorted after every number)
        position = ((n - nans) * (nans > 0).long() + ((n - 1) // 2) * (nans == 0).long())
    return Median(*_pick(input, dim, position, keepdim))


@tensor_method()
def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or (values, indices) along dim; NaN where a slice holds NaN."""
    return _median(input, dim, keepdim, False, "median")


@tensor_method()
def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaN: the lower median of each slice's numbers (NaN only for a slice of NaNs)."""
    return _median(input, dim, keepdim, True, "nanmedian")


@tensor_method()
def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element (k counts from 1) along dim."""
    dim = _dim(input, dim, "kthvalue")
    n = input.shape[dim] if input.ndim else 1
    if not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise IndexError(f"kthvalue: k ({k}) must be in [1, {n}], the size of dimension {dim}")
    if input.ndim == 0:
        return KthValue(input, tensor(np.zeros((), np.int64), device=input.device))
    shape = list(input.shape)
    shape[dim] = 1
    position = tensor(np.full(shape, k - 1, np.int64), device=input.device)
    return KthValue(*_pick(input, dim, position, keepdim))


@tensor_method()
def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value of each slice along dim (the smallest among equally frequent
    ones) and the index of its last occurrence, as PyTorch's CPU kernel. Counted on the host."""
    dim = _dim(input, dim, "mode")
    if input.ndim == 0:
        return Mode(input, tensor(np.zeros((), np.int64), device=input.device))
    x = np.moveaxis(input.detach().cpu().numpy(), dim, -1)
    if x.shape[-1] == 0:  # before the reshape, whose -1 numpy cannot infer for no elements (its message leaked)
        raise IndexError(f"mode: expected reduction dim {dim} to have non-zero size")
    rows = x.reshape(-1, x.shape[-1])
    found = np.empty(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True, equal_nan=False)
        best = values[np.argmax(counts)]  # np.unique sorts: argmax takes the smallest of the most frequent
        found[r] = np.flatnonzero((row == best) | (np.isnan(row) & np.isnan(best)) if row.dtype.kind == "f"
                                  else row == best)[-1]
    indices = tensor(np.moveaxis(found.reshape(x.shape[:-1] + (1,)), -1, dim), device=input.device)
    values = gather(input, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return Mode(values, indices)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, skip_nan, name):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    if not input.is_floating_point():
        raise TypeError(f"{name}: input must be a float tensor, got {input.dtype}")
    qs = np.asarray(q.detach().cpu().numpy() if isinstance(q, Tensor) else q, np.float64)
    if qs.ndim > 1 or ((qs < 0) | (qs > 1) | np.isnan(qs)).any():
        raise ValueError(f"{name}: q must be a number or a 1-d tensor of values in [0, 1], got {q}")
    if dim is None:
        x, dim_of_x = input.reshape(-1), 0
    else:
        dim_of_x = _dim(input, dim, name)
        x = input
    x = x.movedim(dim_of_x, -1) if x.ndim else x.reshape(1)
    n = x.shape[-1]
    if n == 0:
        raise ValueError(f"{name}: cannot compute a quantile of an empty slice")
    rows = x.reshape(-1, n)
    counts = n - isnan(rows).sum(1).cpu().numpy().astype(np.int64)  # the numbers of each row
    ranks = qs.reshape(1, -1) * (np.maximum(counts, 1) - 1).reshape(-1, 1)  # [rows, len(q)]
    low, high = np.floor(ranks), np.ceil(ranks)
    if interpolation == "lower":
        high = low
    elif interpolation == "higher":
        low = high
    elif interpolation == "nearest":
        low = high = np.round(ranks)  # halves to even, as torch.round
    weight = {"linear": ranks - low, "midpoint": np.where(high > low, 0.5, 0.0)}.get(interpolation, 0.0 * ranks)
    if not skip_nan:  # a row holding NaN: its last sorted element, a NaN
        low = np.where((counts < n)[:, None], n - 1, low)
        high = np.where((counts < n)[:, None], n - 1, high)
    ordered = rows.gather(1, argsort(rows, 1))
    v_low = ordered.gather(1, tensor(low.astype(np.int64), device=input.device))
    v_high = ordered.gather(1, tensor(high.astype(np.int64), device=input.device))
    out = v_low + (v_high - v_low) * tensor(weight.astype(np.float16), device=input.device)
    out = out.reshape(tuple(x.shape[:-1]) + (qs.size,)).movedim(-1, 0)  # q's dim first, as in PyTorch
    if keepdim:
        kept = [1] * input.ndim if dim is None else list(input.shape)
        if dim is not None and input.ndim:
            kept[dim_of_x] = 1
        out = out.reshape((qs.size,) + tuple(kept))
    return out.reshape(out.shape[1:]) if qs.ndim == 0 else out


@tensor_method()
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (q a number or a 1-d tensor in [0, 1]; a tensor q adds a leading dim) over dim (all
    elements when None), interpolating between sorted neighbours; NaN for a slice holding NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@tensor_method()
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaN (NaN only for a slice of NaNs)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


@tensor_method()
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over dim (all elements when None)."""
    if dim is None and keepdim:
        return AMinMax(amin(input, (), True), amax(input, (), True))
    dims = () if dim is None else dim
    return AMinMax(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _std_var_mean(fn, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # std_mean(input, unbiased)
        dim, unbiased = None, dim
    spread = fn(input, dim, unbiased, keepdim, correction=correction)
    return spread, mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim (all elements when None); correction or unbiased as in std."""
    return _std_var_mean(std, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim (all elements when None); correction or unbiased as in var."""
    return _std_var_mean(var, input, dim, unbiased, keepdim, correction)


@tensor_method()
def count_nonzero(input, dim=None):
    """The number of non-zero elements over dim (an int or a tuple; all when None), exact int64."""
    if dim is not None and not isinstance(dim, numbers.Integral) and len(set(_dims(dim))) != len(_dims(dim)):
        raise ShapeMismatchError(f"count_nonzero: dim {dim} repeats a dimension")
    return (input != 0).sum(dim)


def _cov_weights(weights, name, observations, integral):
    """fweights (integral) or aweights (floating): checked as PyTorch checks them (their values read on the host)."""
    if not isinstance(weights, Tensor):
        raise TypeError(f"cov(): argument '{name}' must be Tensor, not {type(weights).__name__}")
    if weights.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{weights.ndim} dimensions")
    if integral != (weights.dtype.name in ("int32", "int64")) or weights.dtype.name == "bool":
        raise RuntimeError(f"cov(): expected {name} to have {'integral' if integral else 'floating point'} dtype but "
                           f"got {name} with {weights.dtype.name} dtype")
    if weights.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input but "
                           f"got {weights.numel()} != {observations}")
    if observations and bool(weights.min() < 0):
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return weights


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in input's rows (observations in its columns; a 1-d input is one
    variable), as torch.cov: correction (1: Bessel's) is subtracted from the number of observations, fweights
    (integer counts) and aweights (float importance weights) weight the observations. Weights are checked on the
    host, as PyTorch checks them; too few degrees of freedom warn and give inf/NaN, as there."""
    if not isinstance(input, Tensor):
        raise TypeError(f"cov(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} "
                           "dimensions")
    if input.dtype.name == "bool":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if not isinstance(correction, numbers.Integral) or isinstance(correction, bool):
        raise TypeError(f"cov(): argument 'correction' must be int, not {type(correction).__name__}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    observations = x.shape[1]
    w = None if fweights is None else _cov_weights(fweights, "fweights", observations, True)
    if aweights is not None:
        aweights = _cov_weights(aweights, "aweights", observations, False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = observations
        norm = observations - correction
        average = x.sum(1) / w_sum
    else:
        w_sum = w.sum()
        if not bool(w_sum != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        average = (x * w).sum(1) / w_sum
        norm = w_sum - correction * (w * aweights).sum() / w_sum if aweights is not None and correction else \
            w_sum - correction
    if bool(norm <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    centred = x - average.unsqueeze(1)
    return (mm(centred, (centred if w is None else centred * w).t()) / norm).squeeze()


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in input's rows: cov(input) scaled by the standard
    deviations on either side and clipped to [-1, 1] (NaN where a variable does not vary)."""
    if isinstance(input, Tensor) and input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c  # 1, or NaN for a variance of 0, inf or NaN
    deviation = c.diagonal().sqrt()
    return clamp(c / deviation.reshape(-1, 1) / deviation.reshape(1, -1), -1, 1)


for _fn in (cov, corrcoef):
    tensor_method()(_fn)

__all__ = ["cov", "corrcoef", "median", "nanmedian", "kthvalue", "mode", "quantile", "nanquantile", "aminmax",
           "std_mean", "var_mean", "count_nonzero"]
