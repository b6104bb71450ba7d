"""tl.linalg's Cholesky factorisation and triangular solves, composed of the library's ops (so each has their
gradients, to any order): cholesky cholesky_ex solve_triangular. They go column by column (row by row), each step a
batched matmul summed in f32 and rounded once: made for the small matrices of covariances and whitening (a Python
loop of n steps), not for large factorisations."""
import collections

import numpy as np

from ..errors import LinAlgError, ShapeMismatchError
from ..ops.linalg import matmul
from ..ops.shape import cat, stack
from .checks import batch_shape, flags, float_input, square
from .host import batch_prefix, to_device

CholeskyExResult = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])


def _first_bad_pivots(pivots):
    """[...] int32 array: the 1-based order of the first leading minor whose pivot (the Schur complement's leading
    entry) is not positive, 0 where all are."""
    bad = ~(pivots > 0).cpu().numpy()
    return (bad.argmax(axis=-1) + 1) * bad.any(axis=-1)


def _not_positive_definite(info, batch_shape):
    """The LinAlgError naming the first matrix that is not positive-definite and its leading minor, as PyTorch's."""
    flat = info.reshape(-1)
    element = int((flat > 0).argmax())
    return LinAlgError(f"linalg.cholesky: {batch_prefix(element, batch_shape)}The factorization could not be "
                       "completed because the input is not positive-definite (the leading minor of order "
                       f"{int(flat[element])} is not positive-definite).")


def _factor(A, upper, name):
    """(L or L^T, info as an int32 array) of cholesky_ex; rows past a failed pivot are NaN."""
    A = square(A, name)
    flags(name, upper=upper)
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
    if not n:
        return A * 1, np.zeros(A.shape[:-2], np.int32)
    L = stack(cols, dim=-1)
    return (L.mT if upper else L), _first_bad_pivots(cat(pivots, dim=-1).detach()).astype(np.int32)


def cholesky(A, *, upper=False):
    """The lower-triangular L with L @ L.mT == A for each symmetric positive-definite matrix of A (only its lower
    triangle is read; the gradient, as PyTorch's, is symmetric), or L.mT with upper=True. LinAlgError when a matrix
    is not positive-definite."""
    L, info = _factor(A, upper, "cholesky")
    if info.any():
        raise _not_positive_definite(info, A.shape[:-2])
    return L


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info) of cholesky without its error: info (int32, one per matrix) is 0, or the order of the first leading
    minor that is not positive-definite (that matrix's L is then partly NaN, as PyTorch's is unspecified);
    check_errors=True raises cholesky's LinAlgError instead."""
    flags("cholesky_ex", check_errors=check_errors)
    L, info = _factor(A, upper, "cholesky_ex")
    if check_errors and info.any():
        raise _not_positive_definite(info, A.shape[:-2])
    return CholeskyExResult(L, to_device(info, L, np.int32))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A @ X == B (left=True) or X @ A == B, for triangular A (upper or lower: the other triangle is not
    read; with unitriangular, neither is the diagonal, taken as ones); batch dimensions broadcast. By
    substitution, one row of X at a time."""
    A = square(A, "solve_triangular")
    B = float_input(B, None, "solve_triangular")
    if B.ndim < 2:
        raise ShapeMismatchError(f"linalg.solve_triangular: B must have at least 2 dimensions, got {list(B.shape)}")
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ShapeMismatchError(f"linalg.solve_triangular: A {list(A.shape)} and B {list(B.shape)} do not fit "
                                 "(A's columns must match B's rows)")
    B = B.broadcast_to(batch_shape("solve_triangular", A, B) + tuple(B.shape[-2:]))
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
