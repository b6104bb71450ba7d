"""tl.linalg's norms and products with torch.linalg's signatures, composed of the library's ops (so each has their
gradients, to any order): vector_norm matrix_norm norm cross vecdot diagonal.

Reductions accumulate in f32 and round once, as tl.norm does (vector_norm is tl.norm; matrix_norm's 1 and inf
norms are tl.norm's p=1 over one dim, then the exact max or min over the other). The spectral norms (ord 2, -2)
and the nuclear norm ('nuc') are the largest, the smallest and the sum of svdvals (computed in float64 on the host,
see spectral), with their gradients."""
import math
import numbers

from ..errors import ShapeMismatchError
from ..ops.composite import diagonal as _diagonal
from ..ops.linalg import matmul
from ..ops.products import cross as _cross
from ..ops.reduction import _dim, amax, amin, norm as _norm
from ..ops.shape import broadcast_tensors, movedim
from ..tensor import Tensor
from .checks import float_input
from .spectral import svdvals

_MATRIX_ORDS = ("fro", 1, -1, math.inf, -math.inf)
_SINGULAR_ORDS = (2, -2, "nuc")


def _vector_ord(ord, name):
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real) or math.isnan(ord):
        raise ValueError(f"linalg.{name}: ord must be a real number (inf and -inf included) for a vector norm, "
                         f"got {ord!r}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ord-norm of x over dim (an int, a tuple of ints, or None for all elements): sum(|x|^ord)^(1/ord),
    max(|x|) for inf, min(|x|) for -inf, the count of non-zeros for 0. Accumulated in f32, rounded to f16."""
    x = float_input(x, dtype, "vector_norm")
    ord = _vector_ord(ord, "vector_norm")
    if dim is not None and not isinstance(dim, numbers.Integral):
        if isinstance(dim, str) or not all(isinstance(d, numbers.Integral) for d in dim):
            raise TypeError(f"linalg.vector_norm: dim must be an int, a tuple of ints or None, got {dim!r}")
        dims = [_dim(x, d, "linalg.vector_norm") for d in dim]
        if len(set(dims)) != len(dims):
            raise ValueError(f"linalg.vector_norm: dim {tuple(dim)} names a dimension twice")
        dim = dims or None  # dim=() reduces over every dimension, as PyTorch's
    elif dim is not None:
        dim = _dim(x, dim, "linalg.vector_norm")
    return _norm(x, ord, dim, keepdim)


def _matrix_dims(A, dim, name):
    if A.ndim < 2:
        raise ShapeMismatchError(f"linalg.{name}: expected a tensor of at least 2 dims, got {list(A.shape)}")
    if not isinstance(dim, (tuple, list)) or not all(isinstance(d, numbers.Integral) for d in dim):
        raise TypeError(f"linalg.{name}: dim must be a tuple of two ints, got {dim!r}")
    if len(dim) != 2:
        raise ValueError(f"linalg.{name}: dim must name two dimensions, got {tuple(dim)}")
    rows, cols = (_dim(A, d, f"linalg.{name}") for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.{name}: dim {tuple(dim)} names one dimension twice")
    return rows, cols


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of the matrices over dim (rows, columns): 'fro' (the square root of the sum of squares),
    1 / -1 (the largest / smallest column sum of |A|), inf / -inf (the largest / smallest row sum of |A|), 2 / -2
    (the largest / smallest singular value) and 'nuc' (the sum of the singular values), the last three from svdvals
    (float64 on the host, each rounded once; the sum in f32)."""
    A = float_input(A, dtype, "matrix_norm")
    rows, cols = _matrix_dims(A, dim, "matrix_norm")
    if isinstance(ord, bool) or ord not in _MATRIX_ORDS + _SINGULAR_ORDS:
        raise ValueError(f"linalg.matrix_norm: ord={ord!r} is not a matrix norm order; supported: 'fro', 'nuc', 1, "
                         f"-1, 2, -2, inf, -inf")
    if ord in _SINGULAR_ORDS:
        s = svdvals(movedim(A, (rows, cols), (-2, -1)))
        if ord == -2 and s.shape[-1] == 0:
            raise IndexError(f"linalg.matrix_norm: ord=-2 of empty matrices {list(A.shape)}: the smallest of no "
                             "singular values has no identity")
        # the largest of none is 0 as PyTorch's, as the sum of none
        result = s.sum(-1) if ord == "nuc" or s.shape[-1] == 0 else (amax if ord > 0 else amin)(s, -1)
        return result.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols)) if keepdim else result
    if ord == "fro":
        return _norm(A, 2.0, [rows, cols], keepdim)
    summed, extreme = (rows, cols) if abs(ord) == 1 else (cols, rows)  # 1: sums down columns; inf: along rows
    sums = _norm(A, 1.0, summed, True)
    if A.shape[extreme] == 0 and ord > 0:  # the largest of no sums is 0 as PyTorch's (the smallest has no identity)
        result = sums.sum(extreme, keepdim=True)
    else:
        result = (amax if ord > 0 else amin)(sums, extreme, keepdim=True)
    return result if keepdim else result.squeeze((rows, cols))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a matrix norm when ord is given and dim has two dimensions (or dim is None and A is 2-d),
    else a vector norm (ord None means 2; with dim None and ord None, over all elements). With ord given and dim
    None, A must be 1-d or 2-d."""
    if isinstance(dim, numbers.Integral):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) not in (1, 2):
            raise ValueError(f"linalg.norm: dim must name 1 or 2 dimensions, got {dim}")
    elif ord is not None and A.ndim not in (1, 2):
        raise ShapeMismatchError(f"linalg.norm: with ord given and dim None the input must be 1-d or 2-d, got "
                                 f"{list(A.shape)}")
    if ord is not None and (len(dim) == 2 if dim is not None else A.ndim == 2):
        return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; a vector norm takes a number")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along dim (default the last), broadcasting the other dimensions; both inputs
    have the same number of dimensions (as torch.linalg.cross asks)."""
    if input.ndim != other.ndim:
        raise ShapeMismatchError(f"linalg.cross: inputs must have the same number of dimensions, got "
                                 f"{list(input.shape)} and {list(other.shape)}")
    return _cross(input, other, dim)


def vecdot(x, y, *, dim=-1):
    """The dot products of the vectors along dim, broadcasting the other dimensions (real: no conjugation). A
    batched matmul of rows by columns: the products are summed in f32 and rounded once."""
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise TypeError(f"linalg.vecdot(): expected two Tensors, got {type(x).__name__} and {type(y).__name__}")
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"linalg.vecdot(): argument 'dim' must be int, not {type(dim).__name__}")
    x, y = broadcast_tensors(x, y)
    dim = _dim(x, dim, "linalg.vecdot")
    if x.ndim == 0:  # dim 0 or -1 of a scalar: the product itself, as PyTorch's
        return x * y
    x, y = movedim(x, dim, -1), movedim(y, dim, -1)
    return matmul(x.unsqueeze(-2), y.unsqueeze(-1)).squeeze((-2, -1))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """tl.diagonal with the last two dimensions as its default matrices (a copy, as tl.diagonal's)."""
    return _diagonal(A, offset, dim1, dim2)
