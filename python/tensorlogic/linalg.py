"""tl.linalg: torch.linalg's norms, products, Cholesky factorisation and triangular solves with its signatures,
composed of the library's ops (so each has their gradients, to any order): vector_norm matrix_norm norm cross
vecdot matmul diagonal cholesky solve_triangular.

Reductions accumulate in f32 and round once, as tl.norm does (vector_norm is tl.norm; matrix_norm's 1 and inf
norms are tl.norm's p=1 over one dim, then the exact max or min over the other). The spectral norms (ord 2, -2)
and the nuclear norm ('nuc') need singular values, which TensorLogic does not compute: they raise
NotImplementedError naming the orders that work. cholesky and solve_triangular go column by column (row by row),
each step a batched matmul summed in f32 and rounded once: made for the small matrices of covariances and
whitening (a Python loop of n steps), not for large factorisations."""
import math
import numbers

from .errors import LinAlgError, ShapeMismatchError
from .ops.composite import diagonal as _diagonal
from .ops.linalg import matmul
from .ops.products import cross as _cross
from .ops.reduction import _dim, amax, amin, norm as _norm
from .ops.shape import broadcast_shapes, broadcast_tensors, cat, movedim, stack
from .tensor import Tensor

_MATRIX_ORDS = ("fro", 1, -1, math.inf, -math.inf)
_SINGULAR_ORDS = (2, -2, "nuc")


def _float_input(x, dtype, name):
    """x converted to `dtype` when given; a TypeError (as PyTorch's) for integer or bool data, which have no norm."""
    if dtype is not None:
        x = x.to(dtype=dtype)
    if not x.is_floating_point():
        raise TypeError(f"linalg.{name}: expected a floating point tensor as input, got {x.dtype}")
    return x


def _vector_ord(ord, name):
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real) or math.isnan(ord):
        raise ValueError(f"linalg.{name}: ord must be a real number (inf and -inf included) for a vector norm, "
                         f"got {ord!r}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ord-norm of x over dim (an int, a tuple of ints, or None for all elements): sum(|x|^ord)^(1/ord),
    max(|x|) for inf, min(|x|) for -inf, the count of non-zeros for 0. Accumulated in f32, rounded to f16."""
    x = _float_input(x, dtype, "vector_norm")
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
    1 / -1 (the largest / smallest column sum of |A|), inf / -inf (the largest / smallest row sum of |A|).
    ord 2, -2 and 'nuc' need singular values: NotImplementedError."""
    A = _float_input(A, dtype, "matrix_norm")
    rows, cols = _matrix_dims(A, dim, "matrix_norm")
    if ord in _SINGULAR_ORDS and not isinstance(ord, bool):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, which TensorLogic does "
                                  f"not compute; supported orders: 'fro', 1, -1, inf, -inf")
    if isinstance(ord, bool) or ord not in _MATRIX_ORDS:
        raise ValueError(f"linalg.matrix_norm: ord={ord!r} is not a matrix norm order; supported: 'fro', 1, -1, "
                         f"inf, -inf (2, -2 and 'nuc' need singular values)")
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


def _square(A, name):
    A = _float_input(A, None, name)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeMismatchError(f"linalg.{name}: A must be batches of square matrices, got {list(A.shape)}")
    return A


def _not_positive_definite(pivots):
    """The LinAlgError for the first matrix whose pivots (the Schur complements' leading entries, [..., n]) are
    not all positive, naming its batch element and leading minor as PyTorch does; None when all are."""
    bad = (~(pivots > 0)).cpu().numpy().reshape(-1, pivots.shape[-1])
    if not bad.any():
        return None
    element = int(bad.any(axis=1).argmax())
    where = f"(Batch element {element}): " if pivots.ndim > 1 else ""
    return LinAlgError(f"linalg.cholesky: {where}The factorization could not be completed because the input is not "
                       f"positive-definite (the leading minor of order {int(bad[element].argmax()) + 1} is not "
                       "positive-definite).")


def cholesky(A, *, upper=False):
    """The lower-triangular L with L @ L.mT == A for each symmetric positive-definite matrix of A (only its lower
    triangle is read; the gradient, as PyTorch's, is symmetric), or L.mT with upper=True. LinAlgError when a matrix
    is not positive-definite."""
    A = _square(A, "cholesky")
    # PyTorch's values come from the lower triangle (mirrored), its gradient is that of a symmetric input, so
    # symmetric: the values from the mirror, the gradient through (A + A^T) / 2 (equal for symmetric A).
    sym = 0.5 * (A + A.mT)
    A = sym + (A.tril() + A.tril(-1).mT - sym).detach()
    n = A.shape[-1]
    cols, pivots = [], []
    for j in range(n):
        a = A[..., j:, j]  # column j from the diagonal down
        if j:
            found = stack(cols, dim=-1)  # [..., n, j]: the columns of L so far
            a = a - matmul(found[..., j:, :], found[..., j, :].unsqueeze(-1)).squeeze(-1)
        pivot = a[..., :1]
        pivots.append(pivot)
        diag = pivot.sqrt()
        parts = ([a.new_zeros(a.shape[:-1] + (j,))] if j else []) + [diag, a[..., 1:] / diag]
        cols.append(cat(parts, dim=-1))
    error = _not_positive_definite(cat(pivots, dim=-1).detach())
    if error is not None:
        raise error
    L = stack(cols, dim=-1)
    return L.mT if upper else L


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A @ X == B (left=True) or X @ A == B, for triangular A (upper or lower: the other triangle is not
    read; with unitriangular, neither is the diagonal, taken as ones); batch dimensions broadcast. By
    substitution, one row of X at a time."""
    A = _square(A, "solve_triangular")
    B = _float_input(B, None, "solve_triangular")
    if B.ndim < 2:
        raise ShapeMismatchError(f"linalg.solve_triangular: B must have at least 2 dimensions, got {list(B.shape)}")
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ShapeMismatchError(f"linalg.solve_triangular: A {list(A.shape)} and B {list(B.shape)} do not fit "
                                 "(A's columns must match B's rows)")
    B = B.broadcast_to(tuple(broadcast_shapes(A.shape[:-2], B.shape[:-2])) + tuple(B.shape[-2:]))
    rows = [None] * n
    for i in (reversed(range(n)) if upper else range(n)):
        row = B[..., i, :]
        done = range(i + 1, n) if upper else range(i)
        if done:
            coeffs = A[..., i, i + 1:] if upper else A[..., i, :i]
            solved = stack([rows[k] for k in done], dim=-2)
            row = row - matmul(coeffs.unsqueeze(-2), solved).squeeze(-2)
        rows[i] = row if unitriangular else row / A[..., i, i:i + 1]
    return stack(rows, dim=-2)


__all__ = ["vector_norm", "matrix_norm", "norm", "cross", "vecdot", "matmul", "diagonal", "cholesky",
           "solve_triangular", "LinAlgError"]
