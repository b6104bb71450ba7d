"""The host side of tl.linalg's factorisations: f16 tensors as float64 arrays (exact: every f16 is a float64) and
results rounded once back to f16 on the input's device; LAPACK's LU (getrf, getrs), which numpy does not expose,
from the OpenBLAS that CPU matmul already links (scipy-openblas32's LAPACKE, through ctypes); PyTorch's messages
for the matrices it refuses; the factors a multi-output Function's backward reads."""
import ctypes
import os

import numpy as np
import scipy_openblas32

from ..autograd.grad_mode import is_grad_enabled
from ..creation import tensor
from ..errors import LinAlgError

_COL_MAJOR = 102  # LAPACKE's matrix_layout for Fortran order: no transposed copies inside LAPACKE
_LAPACK = ctypes.CDLL(os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True)))
_INT, _DOUBLE_P, _INT_P = ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_int)
_getrf = _LAPACK.scipy_LAPACKE_dgetrf  # (layout, m, n, a, lda, ipiv) -> info
_getrf.argtypes, _getrf.restype = [_INT, _INT, _INT, _DOUBLE_P, _INT, _INT_P], _INT
_getrs = _LAPACK.scipy_LAPACKE_dgetrs  # (layout, trans, n, nrhs, a, lda, ipiv, b, ldb) -> info
_getrs.argtypes, _getrs.restype = [_INT, ctypes.c_char, _INT, _INT, _DOUBLE_P, _INT, _INT_P, _DOUBLE_P, _INT], _INT


def float64(t):
    """A tensor's values as a float64 array on the host."""
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def rounded(values, dtype=np.float16):
    """values rounded once to f16 (or cast to an integer dtype), contiguous; beyond f16's range they round to
    +-inf, as every op's results do."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(values, dtype=dtype, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)


def to_device(values, like, dtype=np.float16):
    """values rounded once (see rounded) as a tensor on `like`'s device."""
    return tensor(rounded(values, dtype), device=like.device)


def batch_prefix(index, batch_shape):
    """PyTorch's '(Batch element k): ' naming the flat index of a failing matrix, '' for a single matrix."""
    return f"(Batch element {index}): " if len(batch_shape) else ""


def getrf(a):
    """The LU factorisation with partial pivoting of each matrix of a [..., m, n] float64 array (LAPACK dgetrf):
    (lu [..., m, n] with L's unit diagonal implied, pivots [..., min(m, n)] 1-based as LAPACK's and PyTorch's,
    info [...]: 0, or the 1-based index of the first exactly zero diagonal entry of U)."""
    *batch, m, n = a.shape
    k, count = min(m, n), int(np.prod(batch))
    flat = a.reshape(count, m, n)
    lu = np.empty_like(flat)
    pivots = np.tile(np.arange(1, k + 1, dtype=np.int32), (flat.shape[0], 1))
    info = np.zeros(flat.shape[0], np.int32)
    for i in range(flat.shape[0] if k else 0):
        f = np.asfortranarray(flat[i])
        piv = np.empty(k, np.int32)
        info[i] = _getrf(_COL_MAJOR, m, n, f.ctypes.data_as(_DOUBLE_P), max(1, m), piv.ctypes.data_as(_INT_P))
        lu[i], pivots[i] = f, piv
    if not k:
        lu[...] = flat
    return lu.reshape(a.shape), pivots.reshape(tuple(batch) + (k,)), info.reshape(tuple(batch))


def getrs(lu, pivots, b, transpose=False):
    """X with A X = B (A^T X = B with transpose) for each A = P L U given by getrf's (lu, pivots) of square
    matrices [..., n, n] and B [..., n, k] of the same batch shape (LAPACK dgetrs). A zero pivot divides by zero:
    inf and NaN in X, as PyTorch's _ex functions give."""
    *batch, n, k = b.shape
    count = int(np.prod(batch))
    flat_lu, flat_piv = lu.reshape(count, n, n), pivots.reshape(count, n)
    x = np.array(b.reshape(count, n, k), dtype=np.float64, order="C")
    if not (n and k):
        return x.reshape(b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(x.shape[0]):
            f, rhs = np.asfortranarray(flat_lu[i]), np.asfortranarray(x[i])
            piv = np.ascontiguousarray(flat_piv[i], dtype=np.int32)
            _getrs(_COL_MAJOR, b"T" if transpose else b"N", n, k, f.ctypes.data_as(_DOUBLE_P), n,
                   piv.ctypes.data_as(_INT_P), rhs.ctypes.data_as(_DOUBLE_P), n)
            x[i] = rhs
    return x.reshape(b.shape)


def permutation(pivots, m):
    """The row order of getrf's factorisation: A[perm] = L U, from its 1-based row interchanges [..., k]."""
    flat = pivots.reshape(int(np.prod(pivots.shape[:-1])), pivots.shape[-1]) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for i in range(flat.shape[1]):
        j = flat[:, i]
        perm[rows, i], perm[rows, j] = perm[rows, j], perm[rows, i].copy()
    return perm.reshape(pivots.shape[:-1] + (m,))


def permutation_matrix(pivots, m):
    """P with A = P L U ([..., m, m] of 0 and 1) from getrf's pivots: P[perm[i], i] = 1."""
    perm = permutation(pivots, m)
    p = np.zeros(perm.shape + (m,))
    np.put_along_axis(p, perm[..., None], 1.0, axis=-1)  # row i of P^T is the unit vector at perm[i]
    return np.swapaxes(p, -1, -2)


def check_finite(a, name, message):
    """PyTorch's LinAlgError for the first matrix holding inf or NaN, where its algorithm fails to converge."""
    bad = ~np.isfinite(a).all(axis=(-2, -1)).reshape(-1)
    if bad.any():
        raise LinAlgError(f"linalg.{name}: {batch_prefix(int(bad.argmax()), a.shape[:-2])}{message}")


class HostFactors:
    """The f16 factors a multi-output Function computed, kept on the host for its backward. Its outputs cannot be
    saved (each output's node holds the Function's node: a cycle); backward reads these copies, or, when it is
    itself recorded (create_graph), computes the factors again by `again(input)`, so they carry the graph."""

    def __init__(self, arrays, device, again):
        self.arrays, self.device, self.again = arrays, device, again

    def get(self, *saved_inputs):
        if is_grad_enabled():
            return self.again(*saved_inputs)
        return tuple(tensor(a, device=self.device) for a in self.arrays)
