"""tl.linalg's symmetric eigendecomposition and singular value decomposition: eigh eigvalsh svd svdvals.

Computed in float64 on the host by numpy's LAPACK (syevd, gesdd) from the exact f16 values and rounded once to f16
on the input's device. The gradients are PyTorch's formulas written with tensor ops (so they run on every device
and can be differentiated again): ill-defined where eigenvalues or singular values repeat and the loss depends on
the vectors (inf or NaN there, as PyTorch's); the values alone (eigvalsh, svdvals) have gradients everywhere."""
import collections

import numpy as np

from ..autograd.function import Function, records
from ..creation import eye
from ..ops.arrange import diag_embed
from ..ops.linalg import matmul
from .checks import flags, matrices, square
from .host import HostFactors, check_finite, float64, rounded, to_device

EighResult = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SvdResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])

_EIGH_FAILED = ("The algorithm failed to converge because the input matrix is ill-conditioned or has too many "
                "repeated eigenvalues (it holds non-finite values).")
_SVD_FAILED = "The algorithm failed to converge because the input matrix contained non-finite values."
_SVD_DRIVERS = (None, "gesvd", "gesvdj", "gesvda")  # cuSOLVER's: the same decomposition here, whichever is named


def _uplo(UPLO, name):
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.{name}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def _eigh64(a, uplo, vectors=True):
    if not a.size:
        w = np.zeros(a.shape[:-1])
        return (w, np.broadcast_to(np.eye(a.shape[-1]), a.shape)) if vectors else w
    return np.linalg.eigh(a, UPLO=uplo) if vectors else np.linalg.eigvalsh(a, UPLO=uplo)


class _Eigh(Function):
    multi_output = True

    @staticmethod
    def forward(ctx, A, uplo, name):
        a = float64(A)
        check_finite(a, name, _EIGH_FAILED)
        w, v = (rounded(x) for x in _eigh64(a, uplo))
        ctx.save_for_backward(A)
        ctx.factors = HostFactors((w, v), A.device, lambda again: _Eigh.apply(again, uplo, name))
        return to_device(w, A), to_device(v, A)

    @staticmethod
    def backward(ctx, gL, gV):
        (A,) = ctx.saved_tensors
        L, V = ctx.factors.get(A)
        if gV is None:  # eigenvalues only: V diag(gL) V^T, defined for repeated eigenvalues too
            return matmul(V * gL.unsqueeze(-2), V.mT), None, None
        # V (skew(V^T gV) / (L_j - L_i) + diag(gL)) V^T: the symmetric part of the eigenvector gradient
        VtgV = matmul(V.mT, gV)
        gaps = L.unsqueeze(-2) - L.unsqueeze(-1) + eye(L.shape[-1], device=L.device)
        inner = 0.5 * (VtgV - VtgV.mT) / gaps
        if gL is not None:
            inner = inner + diag_embed(gL)
        return matmul(matmul(V, inner), V.mT), None, None


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix of A, reading only its lower
    (UPLO='L') or upper ('U') triangle, as torch.linalg.eigh. float64 on the host (LAPACK syevd), each result
    rounded once to f16; each eigenvector's sign is LAPACK's choice. The gradient is PyTorch's (symmetric);
    LinAlgError for a matrix holding inf or NaN."""
    A = square(A, "eigh")
    return EighResult(*_Eigh.apply(A, _uplo(UPLO, "eigh"), "eigh"))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of each symmetric matrix of A, from its UPLO triangle, as eigh's (float64 on the
    host, rounded once); their gradient V diag(g) V^T is defined for repeated eigenvalues too."""
    A = square(A, "eigvalsh")
    uplo = _uplo(UPLO, "eigvalsh")
    if records(A):
        return _Eigh.apply(A, uplo, "eigvalsh")[0]
    a = float64(A)
    check_finite(a, "eigvalsh", _EIGH_FAILED)
    return to_device(_eigh64(a, uplo, vectors=False), A)


def _svd64(a, full_matrices, vectors=True):
    m, n = a.shape[-2:]
    if not a.size:  # numpy refuses empty matrices: no singular values, identity completions
        batch, k = a.shape[:-2], min(m, n)
        s = np.zeros(batch + (k,))
        if not vectors:
            return s
        u = np.broadcast_to(np.eye(m, m if full_matrices else k), batch + (m, m if full_matrices else k))
        vh = np.broadcast_to(np.eye(n if full_matrices else k, n), batch + (n if full_matrices else k, n))
        return u, s, vh
    return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=vectors)


class _Svd(Function):
    multi_output = True

    @staticmethod
    def forward(ctx, A, full_matrices, name):
        a = float64(A)
        check_finite(a, name, _SVD_FAILED)
        u, s, vh = (rounded(x) for x in _svd64(a, full_matrices))
        ctx.full_matrices = full_matrices
        ctx.save_for_backward(A)
        ctx.factors = HostFactors((u, s, vh), A.device, lambda again: _Svd.apply(again, full_matrices, name))
        return to_device(u, A), to_device(s, A), to_device(vh, A)

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        (A,) = ctx.saved_tensors
        U, S, Vh = ctx.factors.get(A)
        m, n, k = A.shape[-2], A.shape[-1], S.shape[-1]
        if not k:
            return A.detach() * 0, None, None
        if ctx.full_matrices:  # the completing vectors are arbitrary: their gradient is ignored, as PyTorch's
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = gU[..., :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        if gU is None and gVh is None:  # singular values only: U diag(gS) Vh, defined for repeated ones too
            return matmul(U * gS.unsqueeze(-2), Vh), None, None
        row, col = S.unsqueeze(-2), S.unsqueeze(-1)
        # S_k^2 - S_j^2 as a product: a difference of f16 squares would lose the gap of close singular values
        gaps = (row - col) * (row + col) + eye(k, device=S.device)
        inner = 0
        if gU is not None:
            UtgU = matmul(U.mT, gU)
            inner = (UtgU - UtgU.mT) * row
        if gVh is not None:
            VtgV = matmul(Vh, gVh.mT)
            inner = inner + col * (VtgV - VtgV.mT)
        inner = inner / gaps
        if gS is not None:
            inner = inner + diag_embed(gS)
        if m > k and gU is not None:  # U's columns span only part of R^m: gU's part outside them, through S^-1
            gUSinv = gU / row
            gA = matmul(matmul(U, inner) + gUSinv - matmul(U, matmul(U.mT, gUSinv)), Vh)
        elif n > k and gVh is not None:
            SinvgVh = gVh / col
            gA = matmul(U, matmul(inner, Vh) + SinvgVh - matmul(matmul(SinvgVh, Vh.mT), Vh))
        else:
            gA = matmul(matmul(U, inner), Vh)
        return gA, None, None


def _driver(driver, name):
    if driver not in _SVD_DRIVERS:
        raise ValueError(f"linalg.{name}: driver must be None, 'gesvd', 'gesvdj' or 'gesvda', got {driver!r}")


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh for each matrix of A, S descending, as torch.linalg.svd (full_matrices:
    U m x m and Vh n x n, else m x k and k x n, k = min(m, n)). float64 on the host (LAPACK gesdd whatever cuSOLVER
    driver is named), each result rounded once to f16; the signs of each pair of singular vectors are LAPACK's
    choice. The gradient is PyTorch's (the completing columns of full_matrices carry none); LinAlgError for a
    matrix holding inf or NaN."""
    A = matrices(A, "svd")
    _driver(driver, "svd")
    flags("svd", full_matrices=full_matrices)
    return SvdResult(*_Svd.apply(A, bool(full_matrices), "svd"))


def svdvals(A, *, driver=None):
    """The singular values of each matrix of A, descending, as svd's (float64 on the host, rounded once); their
    gradient U diag(g) Vh is defined for repeated singular values too."""
    A = matrices(A, "svdvals")
    _driver(driver, "svdvals")
    if records(A):
        return _Svd.apply(A, False, "svdvals")[1]
    a = float64(A)
    check_finite(a, "svdvals", _SVD_FAILED)
    return to_device(_svd64(a, False, vectors=False), A)
