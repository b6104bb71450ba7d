"""Functions and Tensor methods that PyTorch programs use, each a composition of the engine's ops (no kernel
of its own, so each has the gradients of the ops it is made of): outer dot mv addmm diag diagonal trace
lerp clamp_min clamp_max log2 log10 frac fmod logical_xor isclose allclose nan_to_num nansum nanmean
masked_select masked_scatter take_along_dim tile ravel moveaxis meshgrid hstack vstack dstack column_stack tensor_split
tril_indices triu_indices dist renorm, the aliases ger (outer) and row_stack (vstack), and the torch-level forms of
clone, numel, is_floating_point and get_device.

diagonal (and diag of a matrix) returns a copy, not a view: writing into it does not reach the input."""
import math
import numbers

import numpy as np

from .. import _core
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.views import note_view

from ..creation import arange, tensor, zeros
from ..errors import ShapeMismatchError
from ..promotion import check_cast, promoted
from ..tensor import Tensor, _wrap, tensor_method
from .elementwise import check_bool_mask, log, remainder, trunc, where
from .index_update import diagonal_scatter
from .indexing import gather
from .linalg import matmul
from .shape import _TensorSplit, cat, clone, movedim, pad  # noqa: F401  (clone: torch.clone)

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _vector(t, op, name):
    if not isinstance(t, Tensor) or t.ndim != 1:
        raise ShapeMismatchError(f"{op}: {name} must be a 1-d tensor, got "
                                 f"{list(t.shape) if isinstance(t, Tensor) else type(t).__name__}")


def numel(input):
    """The number of elements of input."""
    return input.numel()


def is_floating_point(input):
    """True for float16 tensors (every float dtype name means float16)."""
    return input.is_floating_point()


@tensor_method()
def get_device(input):
    """The index of the device input is on (0 for cuda:0, metal, ane), -1 on the CPU, as PyTorch answers."""
    return -1 if input.device.type == "cpu" else input.device.index


@tensor_method()
def outer(input, vec2):
    """input[i] * vec2[j] for 1-d input and vec2."""
    _vector(input, "outer", "input")
    _vector(vec2, "outer", "vec2")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


@tensor_method()
def ger(input, vec2):
    """outer(input, vec2) under its old name (PyTorch's deprecated alias)."""
    return outer(input, vec2)


@tensor_method()
def dot(input, tensor):
    """The inner product of two 1-d tensors of equal length, accumulated in f32 and rounded once (a matmul)."""
    _vector(input, "dot", "input")
    _vector(tensor, "dot", "tensor")
    if input.shape != tensor.shape:
        raise ShapeMismatchError(f"dot: inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                                 f"[{tensor.shape[0]}] to have the same number of elements")
    return matmul(input.unsqueeze(0), tensor.unsqueeze(1)).reshape(())


@tensor_method()
def mv(input, vec):
    """The product of a 2-d matrix and a 1-d vector."""
    _vector(vec, "mv", "vec")
    if input.ndim != 2 or input.shape[1] != vec.shape[0]:
        raise ShapeMismatchError(f"mv: size mismatch, got input {list(input.shape)} and vec {list(vec.shape)}")
    return matmul(input, vec)


@tensor_method()
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2) for 2-d mat1 and mat2 (input broadcast to the product)."""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ShapeMismatchError(f"addmm: mat1 and mat2 must be 2-d, got {list(mat1.shape)} and {list(mat2.shape)}")
    product = matmul(mat1, mat2)
    product = product if alpha == 1 else product * alpha
    return product + (input if beta == 1 else input * beta) if beta != 0 else product


@tensor_method()
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal (shifted by offset) of the matrices over dim1 and dim2, as the last dim of the result."""
    if input.ndim < 2:
        raise ShapeMismatchError(f"diagonal: expected a tensor of at least 2 dims, got {list(input.shape)}")
    for name, value in (("offset", offset), ("dim1", dim1), ("dim2", dim2)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"diagonal(): argument '{name}' must be int, not {type(value).__name__}")
    for d in (dim1, dim2):
        if not -input.ndim <= d < input.ndim:
            raise IndexError(f"diagonal: Dimension out of range (expected to be in range of [{-input.ndim}, "
                             f"{input.ndim - 1}], but got {d})")
    if dim1 % input.ndim == dim2 % input.ndim:
        raise ValueError(f"diagonal: dim1 and dim2 name one dimension ({dim1}, {dim2})")
    rows, cols = input.shape[dim1], input.shape[dim2]
    return _Diagonal.apply(input, max(min(offset, cols), -rows), dim1, dim2)  # (beyond: empty, as past int64)


class _Diagonal(Function):
    """diagonal as the core's strided view of input's memory (so an in-place op on it writes the matrix, as in
    PyTorch); its gradient is g written onto the diagonal of zeros (diagonal_scatter: differentiable again)."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def view_name(args, index):
        return "Diagonal"

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        if ctx is not _NULL:  # (setting an attribute of the null ctx is a Python call)
            ctx.place = (offset, dim1, dim2)
        out = _wrap(_core.diagonal(x._a, offset, dim1, dim2))
        if ctx is not _NULL or grad_enabled():
            note_view(x, out, (_Diagonal, (offset, dim1, dim2), None))
        return out

    @staticmethod
    def backward(ctx, g):
        shape = ctx.input_shapes[0]
        return diagonal_scatter(zeros(shape, dtype=g.dtype, device=g.device), g, *ctx.place), None, None, None


_diagonal = diagonal  # diag's argument `diagonal` hides the function inside diag


@tensor_method()
def diag(input, diagonal=0):
    """A 1-d input becomes the (shifted) diagonal of a square matrix; a 2-d input gives its diagonal."""
    if input.ndim == 2:
        return _diagonal(input, diagonal).clone()  # a copy, as PyTorch's diag (diagonal is the view)
    if input.ndim != 1:
        raise ShapeMismatchError(f"diag: expected a 1-d or 2-d input, got {list(input.shape)}")
    k, n = diagonal, input.shape[0] + abs(diagonal)
    result = zeros((n, n), dtype=input.dtype, device=input.device)  # first: an impossible size is a MemoryError
    rows = pad(input, (0, k) if k >= 0 else (-k, 0))  # row i holds the value its diagonal element takes
    i = arange(n, device=input.device)
    on_diagonal = (i.unsqueeze(0) - i.unsqueeze(1)) == k
    return where(on_diagonal, rows.unsqueeze(1), result)


@tensor_method()
def trace(input):
    """The sum of a 2-d input's diagonal."""
    if input.ndim != 2:
        raise ShapeMismatchError(f"trace: expected a matrix, got {list(input.shape)}")
    return diagonal(input).sum()


@tensor_method()
def lerp(input, end, weight):
    """input + weight * (end - input), in the result type of the three. As in PyTorch, end and a weight tensor with
    dimensions must have input's dtype (a 0-d weight promotes like a number, by category)."""
    for name, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and (other.ndim or other is end) and other.dtype is not input.dtype:
            raise TypeError(f"lerp: expected {name} of dtype {input.dtype.name}, got {other.dtype.name} (PyTorch "
                            "neither)")
    input, end, weight = promoted(input, end, weight)
    return input + (end - input) * weight


@tensor_method()
def lerp_(input, end, weight):
    """In-place lerp (the usual exponential moving average: ema.lerp_(p, 1 - decay))."""
    out = lerp(input, end, weight)
    check_cast(out.dtype, input.dtype, "lerp_")
    return input.copy_(out)


@tensor_method()
def clamp_min(input, min):
    """clamp(input, min=min): values below min raised to it (min a number or a tensor that broadcasts)."""
    return input.clamp(min=min)


@tensor_method()
def clamp_max(input, max):
    """clamp(input, max=max): values above max lowered to it (max a number or a tensor that broadcasts)."""
    return input.clamp(max=max)


@tensor_method()
def log2(input):
    """log(x) / ln 2 (two roundings: within 2 f16 ulps)."""
    return log(input) * (1.0 / _LN2)


@tensor_method()
def log10(input):
    """log(x) / ln 10 (two roundings: within 2 f16 ulps)."""
    return log(input) * (1.0 / _LN10)


@tensor_method()
def frac(input):
    """x - trunc(x) (exact in floating point)."""
    return input - trunc(input)


@tensor_method()
def fmod(input, other):
    """The remainder of input / other with the sign of input (C's fmod): sign(x) * remainder(|x|, |y|), exact
    in f16 since it is no larger than |x| (remainder with the divisor's sign may not be); in the two's result
    type (integers stay integers)."""
    input, other = promoted(input, other)
    return remainder(input.abs(), abs(other)) * input.sign()


@tensor_method()
def logical_xor(input, other):
    """The bool tensor of (input != 0) xor (other != 0), broadcasting; other may be a number."""
    return (input != 0) != (other != 0)


@tensor_method()
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise (equal infinities too; NaNs only with equal_nan)."""
    other = other if isinstance(other, Tensor) else tensor(other, device=input.device)
    close = ((input - other).abs() <= (other.abs() * rtol + atol)) + (input == other)
    if equal_nan:
        close = close + input.isnan() * other.isnan()
    return close > 0


@tensor_method()
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether isclose holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


@tensor_method()
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf (default the largest f16, 65504), -inf -> neginf (default -65504)."""
    big = float(np.finfo(np.float16).max)
    out = where(input.isnan(), float(nan), input)
    out = where(out == math.inf, big if posinf is None else float(posinf), out)
    return where(out == -math.inf, -big if neginf is None else float(neginf), out)


@tensor_method()
def nansum(input, dim=None, keepdim=False):
    """sum with NaNs counted as zero."""
    zeroed = where(input.isnan(), 0.0, input)
    return zeroed.sum() if dim is None else zeroed.sum(dim, keepdim=keepdim)


@tensor_method()
def nanmean(input, dim=None, keepdim=False):
    """mean over the elements that are not NaN."""
    kept = ~input.isnan()
    count = kept.sum() if dim is None else kept.sum(dim, keepdim=keepdim)
    return nansum(input, dim, keepdim) / count


@tensor_method()
def masked_select(input, mask):
    """The 1-d tensor of input's elements where the bool mask (broadcast with input) is True."""
    check_bool_mask("masked_select", mask, "masked_select: expected BoolTensor for mask, got")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    return input.expand(*shape)[mask.expand(*shape)]


@tensor_method()
def masked_scatter(input, mask, source):
    """input (broadcast with the bool mask) with source's elements, in row-major order, written where mask is True.
    source needs at least as many elements as mask has True values: checked on the CPU; on a GPU (where counting
    would make the host wait) the gather that reads source raises its range error at the next read instead."""
    check_bool_mask("masked_scatter", mask, "masked_scatter_ only supports boolean masks, but got mask with dtype")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{input.dtype.name} and {source.dtype.name}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    mask, flat = mask.expand(*shape), source.reshape(-1)
    if (input.device.type == "cpu" or flat.numel() == 0) and int(mask.sum()) > flat.numel():
        raise RuntimeError("masked_scatter_: Number of elements of source < number of ones in mask")
    if flat.numel() == 0:  # (no True in mask: nothing to read)
        return input.expand(*shape).clone()
    position = (mask.reshape(-1).long().cumsum(0) - 1).clamp_min(0)  # the source element each True place takes
    return where(mask, gather(flat, 0, position).reshape(shape), input)


def take_along_dim(input, indices, dim=None):
    """gather with indices broadcast against input (dim=None: over the flattened input)."""
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        raise TypeError("take_along_dim(): input and indices must be Tensors")
    if indices.dtype.name not in ("int64", "int32"):
        raise TypeError(f"take_along_dim(): dtype of indices should be int64, got {indices.dtype.name}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"take_along_dim(): argument 'dim' must be int, not {type(dim).__name__}")
    if input.ndim != indices.ndim:
        raise ShapeMismatchError(f"take_along_dim(): input and indices should have the same number of dimensions, "
                                 f"but got {input.ndim} dimensions and {indices.ndim} dimensions respectively")
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise IndexError(f"take_along_dim(): dim {dim} is out of range for a {input.ndim}-d input")
    if input.ndim == 0:
        return gather(input.reshape(1), 0, indices.reshape(1)).reshape(())
    dim = dim % input.ndim
    shape = list(np.broadcast_shapes(tuple(input.shape[:dim]) + (1,) + tuple(input.shape[dim + 1:]),
                                     tuple(indices.shape[:dim]) + (1,) + tuple(indices.shape[dim + 1:])))
    source, index = list(shape), list(shape)
    source[dim], index[dim] = input.shape[dim], indices.shape[dim]
    return gather(input.expand(*source), dim, indices.expand(*index))


Tensor.take_along_dim = take_along_dim


@tensor_method()
def tile(input, dims):
    """input repeated dims[i] times along each dim (dims padded with leading ones, as repeat needs)."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


@tensor_method()
def ravel(input):
    """input flattened to 1-d, reshape(-1): a view when the strides allow one, else a copy, as in PyTorch."""
    return input.reshape(-1)


@tensor_method()
def moveaxis(input, source, destination):
    """Another name for movedim: a view with dim(s) source moved to position(s) destination."""
    return movedim(input, source, destination)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-d tensors: 'ij' (matrix) or 'xy' (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        _vector(t, "meshgrid", "each input")
    swap = indexing == "xy" and len(tensors) >= 2
    order = [1, 0] + list(range(2, len(tensors))) if swap else list(range(len(tensors)))
    shape = tuple(tensors[k].shape[0] for k in order)
    grids = []
    for k, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(k)] = t.shape[0]
        grids.append(t.reshape(*view).expand(*shape))
    return tuple(grids)


def _atleast(t, ndim):
    if t.ndim >= ndim:
        return t
    if ndim == 3 and t.ndim == 2:
        return t.unsqueeze(-1)
    if ndim == 3:
        return t.reshape(1, -1, 1)
    return t.reshape(1, -1) if ndim == 2 else t.reshape(-1)


def hstack(tensors):
    """cat along dim 1 (dim 0 for 1-d tensors)."""
    tensors = [_atleast(t, 1) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """cat along dim 0 of the tensors made at least 2-d (1-d ones become rows)."""
    return cat([_atleast(t, 2) for t in tensors], 0)


def row_stack(tensors):
    """vstack(tensors) under its other name."""
    return vstack(tensors)


def dstack(tensors):
    """cat along dim 2 of the tensors made at least 3-d."""
    return cat([_atleast(t, 3) for t in tensors], 2)


def column_stack(tensors):
    """1-d tensors as columns (and 2-d ones as they are), side by side."""
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


_MAX_EMPTY_SECTIONS = 2**16  # sections beyond the dimension's size are empty; more than this is not a real use


@tensor_method()
def tensor_split(input, indices_or_sections, dim=0):
    """Splits into n nearly equal parts (the first size % n one longer) or at the given indices."""
    size = input.shape[dim]
    if isinstance(indices_or_sections, numbers.Integral):
        n = int(indices_or_sections)
        if n <= 0:
            raise ValueError(f"tensor_split: number of sections must be larger than 0, got {n}")
        if n > max(size, _MAX_EMPTY_SECTIONS):
            raise ValueError(f"tensor_split: {n} sections of a dimension of size {size} would be mostly empty "
                             f"tensors; at most {max(size, _MAX_EMPTY_SECTIONS)} are made")
        return _TensorSplit.apply(input, _core.split, [size // n + (1 if k < size % n else 0) for k in range(n)], dim)
    edges = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
    if edges == sorted(edges):  # consecutive pieces: one split (one backward node for all of them)
        return _TensorSplit.apply(input, _core.split, [end - start for start, end in zip(edges[:-1], edges[1:])], dim)
    return tuple(input.narrow(dim, start, max(0, end - start)) for start, end in zip(edges[:-1], edges[1:]))


_MAX_INDEX_PAIRS = 2**28  # 4 GiB of int64 coordinates: a larger triangle is a request beyond memory


def _triangle_indices(row, col, offset, lower, device, op):
    for name, value in (("row", row), ("col", col), ("offset", offset)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    if row < 0 or col < 0:
        raise ValueError(f"{op}(): row and col must be non-negative, got {row} and {col}")
    if row * col > _MAX_INDEX_PAIRS:
        raise MemoryError(f"{op}(): a {row} x {col} triangle has too many coordinates to hold")
    rows, cols = np.tril_indices(row, offset, col) if lower else np.triu_indices(row, offset, col)
    return tensor(np.stack([rows, cols]).astype(np.int64).reshape(2, -1), device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """[2, N] int64 coordinates of the lower triangle (with offset) of a row x col matrix, row by row."""
    return _triangle_indices(row, col, offset, True, device, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """[2, N] int64 coordinates of the upper triangle (with offset) of a row x col matrix, row by row."""
    return _triangle_indices(row, col, offset, False, device, "triu_indices")


@tensor_method()
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast) over all elements, a 0-d tensor: p = 0 counts the non-zero
    differences, inf and -inf give the largest and smallest magnitude."""
    if not isinstance(other, Tensor):
        raise TypeError(f"dist: other must be a tensor, got {type(other).__name__}")
    for t, name in ((input, "input"), (other, "other")):
        if not t.is_floating_point():
            raise TypeError(f"dist: {name} must be a float tensor, got {t.dtype.name}")
    return (input - other).norm(p)


@tensor_method()
def renorm(input, p, dim, maxnorm):
    """input with each slice along dim (input.select(dim, i)) whose p-norm exceeds maxnorm scaled to have norm
    maxnorm (times 1 / (1 + 1e-7 / norm), PyTorch's guard), the others unchanged; gradients flow through the
    norms as in PyTorch."""
    if not input.is_floating_point():
        raise TypeError(f"renorm: input must be a float tensor, got {input.dtype.name}")
    if input.ndim < 2:
        raise ShapeMismatchError(f"renorm: input needs at least 2 dimensions, got {input.ndim}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(f"renorm: p must be a positive number, got {p!r}")
    if isinstance(maxnorm, bool) or not isinstance(maxnorm, numbers.Real) or not maxnorm >= 0:
        raise ValueError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm!r}")
    if not isinstance(dim, numbers.Integral) or not -input.ndim <= dim < input.ndim:
        raise IndexError(f"renorm: dim {dim!r} is out of range for a {input.ndim}-d tensor")
    others = tuple(d for d in range(input.ndim) if d != dim % input.ndim)
    norms = input.norm(p, dim=others, keepdim=True)
    return input * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


__all__ = ["clone", "numel", "is_floating_point", "get_device", "outer", "ger", "dist", "renorm", "row_stack", "dot", "mv", "addmm", "diagonal", "diag", "trace", "lerp",
           "clamp_min", "clamp_max", "log2", "log10", "frac", "fmod", "logical_xor", "isclose", "allclose",
           "nan_to_num", "nansum", "nanmean", "masked_select", "masked_scatter", "take_along_dim", "tile", "ravel",
           "moveaxis", "meshgrid", "hstack", "vstack", "dstack", "column_stack", "tensor_split", "tril_indices",
           "triu_indices"]
