"""tl.linalg's orthogonal factorisation and least squares: qr pinv matrix_rank lstsq.

Computed in float64 on the host by numpy's LAPACK (geqrf/orgqr, gesdd, syevd) from the exact f16 values, each
result rounded once to f16 on the input's device; gradients are PyTorch's formulas written with tensor ops (so they
run on every device and can be differentiated again). The default tolerances follow PyTorch's rule, "the machine
epsilon of A's dtype times max(m, n)", and A's dtype is float16: singular values at or below 2^-10 * max(m, n)
times the largest are zero, as f16 data cannot resolve them (pass atol/rtol/rcond to choose otherwise)."""
import collections
import numbers

import numpy as np

from ..autograd.function import Function
from ..errors import ShapeMismatchError
from ..ops.linalg import matmul
from ..ops.shape import cat
from ..dtypes import float16
from ..tensor import Tensor
from ..type_info import finfo
from .checks import batch_shape, flags, float_input, matrices
from .host import HostFactors, check_finite, float64, getrf, getrs, rounded, to_device
from .lu_family import _solve
from .spectral import _SVD_FAILED

QRResult = collections.namedtuple("linalg_qr", ["Q", "R"])
LstsqResult = collections.namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

_QR_MODES = ("reduced", "complete", "r")
_LSTSQ_DRIVERS = (None, "gels", "gelsy", "gelsd", "gelss")
_EPS = finfo(float16).eps


def _qr64(a, mode):
    m, n = a.shape[-2:]
    if not a.size:  # numpy refuses empty matrices: Q the identity's first columns, R empty
        cols = m if mode == "complete" else min(m, n)
        q = np.broadcast_to(np.eye(m, cols), a.shape[:-2] + (m, cols))
        return (np.zeros((0,)) if mode == "r" else q), np.zeros(a.shape[:-2] + (cols, n))
    if mode == "r":
        return np.zeros((0,)), np.linalg.qr(a, mode="r")
    return np.linalg.qr(a, mode=mode)


class _QR(Function):
    multi_output = True

    @staticmethod
    def forward(ctx, A, mode):
        q, r = (rounded(x) for x in _qr64(float64(A), mode))
        ctx.mode = mode
        ctx.save_for_backward(A)
        ctx.factors = HostFactors((q, r), A.device, lambda again: _QR.apply(again, mode))
        return to_device(q, A), to_device(r, A)

    @staticmethod
    def backward(ctx, gQ, gR):
        (A,) = ctx.saved_tensors
        m, n = A.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                               "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        Q, R = ctx.factors.get(A)
        gQ = gQ if gQ is not None else Q.detach() * 0
        gR = gR.triu() if gR is not None else R.detach() * 0  # R's lower triangle is no function of A
        if m >= n:
            return _qr_backward(gQ, gR, Q, R), None
        # wide: A = Q [R1 R2], its first m columns a square QR and the rest Q R2, which moves Q's gradient
        gR1, gR2 = gR[..., :m], gR[..., m:]
        gX = _qr_backward(gQ + matmul(A[..., m:], gR2.mT), gR1, Q, R[..., :m])
        return cat([gX, matmul(Q, gR2)], -1), None


def _qr_backward(gQ, gR, Q, R):
    """The gradient of A = Q R for m >= n: (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q, copyltu mirroring
    the lower triangle onto the upper (R^-T by a solve of the upper-triangular R: exact substitution)."""
    M = matmul(R, gR.mT) - matmul(gQ.mT, Q)
    sym = M.tril() + M.tril(-1).mT
    return _solve(R, (gQ + matmul(Q, sym)).mT).mT


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R for each matrix of A, as torch.linalg.qr: mode 'reduced' (Q m x k, R k x n, k = min(m, n)),
    'complete' (Q m x m) or 'r' (R only; Q empty). Householder QR (LAPACK geqrf/orgqr through numpy) in float64 on
    the host, each result rounded once to f16 (R's diagonal signs are LAPACK's). The gradient is PyTorch's; as there,
    none for mode 'r' or for 'complete' with m > n (a RuntimeError at backward)."""
    A = matrices(A, "qr")
    if mode not in _QR_MODES:
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    return QRResult(*_QR.apply(A, mode))


def _tolerance(A, atol, rtol, name):
    """(atol, rtol) as float64 arrays by PyTorch's rule: both None, rtol = eps * max(m, n) (f16's eps); atol alone
    and positive, rtol = 0. Each a number or a tensor that broadcasts with A's batch dimensions."""
    atol = np.zeros(()) if atol is None else _host_tolerance(atol, "atol", name)
    if rtol is None:
        return atol, np.where(atol > 0, 0.0, _EPS * max(A.shape[-2:]))
    return atol, _host_tolerance(rtol, "rtol", name)


def _host_tolerance(value, what, name):
    if isinstance(value, Tensor):
        return float64(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"linalg.{name}: {what} must be a number or a tensor, got {type(value).__name__}")
    return np.float64(value)


def _kept(s, smax, atol, rtol):
    """Which of the values s [..., k] (magnitudes) exceed max(atol, rtol * smax) of their matrix."""
    return s > np.maximum(atol, rtol * smax)[..., None]


def _pinv64(a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    if not a.size:
        return np.zeros(a.shape[:-2] + (n, m))
    if hermitian:
        w, v = np.linalg.eigh(a)
        mags = np.abs(w)
        with np.errstate(divide="ignore"):
            inverse = np.where(_kept(mags, mags.max(axis=-1), atol, rtol), 1.0 / w, 0.0)
        return np.matmul(v * inverse[..., None, :], np.swapaxes(v, -1, -2))
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    with np.errstate(divide="ignore"):
        inverse = np.where(_kept(s, s[..., 0], atol, rtol), 1.0 / s, 0.0)
    return np.matmul(np.swapaxes(vh, -1, -2) * inverse[..., None, :], np.swapaxes(u, -1, -2))


class _Pinv(Function):
    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        a = float64(A)
        check_finite(a, "pinv", _SVD_FAILED)
        P = to_device(_pinv64(a, atol, rtol, hermitian), A)
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, G):
        A, P = ctx.saved_tensors
        return _pinv_backward(G, P, A), None, None, None


def _pinv_backward(G, P, A):
    """PyTorch's gradient of P = pinv(A) (constant rank): -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A),
    grouped so that the products stay min(m, n) wide."""
    m, n = A.shape[-2:]
    Pt, Gt = P.mT, G.mT
    if m <= n:
        K = matmul(Gt, P)
        KPt = matmul(K, Pt)
        return -matmul(P, K).mT + KPt - matmul(matmul(A, P), KPt) + matmul(matmul(Pt, P), Gt - matmul(K, A))
    K = matmul(P, Gt)
    PtK = matmul(Pt, K)
    return -matmul(K, P).mT + matmul(matmul(Gt - matmul(A, K), P), Pt) + PtK - matmul(matmul(PtK, P), A)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse of each matrix of A, as torch.linalg.pinv: from the SVD (the eigenvalues
    with hermitian=True, reading the lower triangle) in float64 on the host, rounded once to f16; singular values
    at or below max(atol, rtol * the largest) count as zero, by default rtol = 2^-10 * max(m, n) (f16's eps: see
    the module). The gradient is PyTorch's (for a rank that does not change nearby)."""
    A = matrices(A, "pinv")
    flags("pinv", hermitian=hermitian)
    atol, rtol = _tolerance(A, atol, rtol, "pinv")
    return _Pinv.apply(A, atol, rtol, bool(hermitian))


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values (|eigenvalues| with hermitian=True) of each matrix above max(atol, rtol * the
    largest), as torch.linalg.matrix_rank (int64): float64 on the host; by default rtol = 2^-10 * max(m, n) (f16's
    eps: the rank f16 data can resolve); tol is PyTorch's older name for atol."""
    A = matrices(A, "matrix_rank")
    flags("matrix_rank", hermitian=hermitian)
    if tol is not None:
        if atol is not None or rtol is not None:
            raise ValueError("linalg.matrix_rank: tol is the older name of atol; pass tol alone, or atol and rtol")
        atol, rtol = tol, 0.0
    a = float64(A)
    check_finite(a, "matrix_rank", _SVD_FAILED)
    atol, rtol = _tolerance(A, atol, rtol, "matrix_rank")
    if not a.size:
        rank = np.zeros(a.shape[:-2], np.int64)
    else:
        s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
        rank = _kept(s, s.max(axis=-1), atol, rtol).sum(axis=-1)
    return to_device(rank, A, np.int64)


class _Solved:
    """lstsq's float64 results on the host: the solution, the residual matrix A X - B, the squared residuals (when
    they are defined), the rank and singular values (of the drivers that report them: of A's own batch, as
    PyTorch's), the tolerance used. a [..., m, n] and b [..., m, k] broadcast."""

    def __init__(self, a, b, rcond, driver):
        m, n = a.shape[-2:]
        self.rtol = 0.0
        if not a.size:  # no equations or no unknowns: X = 0, as the minimum-norm solution
            self.x = np.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (n, b.shape[-1]))
            self.rank = np.zeros(a.shape[:-2] if driver not in (None, "gels") else (0,), np.int64)
            self.singular_values = np.zeros(a.shape[:-2] + (0,) if driver in ("gelsd", "gelss") else (0,))
            full = False
        elif driver in (None, "gels"):  # QR, full rank assumed (as LAPACK gels)
            self.x = _qr_solution(a, b)
            self.rank = self.singular_values = np.zeros((0,))
            full = m > n
        else:  # rank-revealing: the minimum-norm solution through the SVD, cut at rcond
            self.rtol = _EPS * max(m, n) if rcond is None else float(rcond)
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            keep = s > self.rtol * s[..., :1]
            with np.errstate(divide="ignore"):
                scale = np.where(keep, 1.0 / s, 0.0)
            self.x = np.swapaxes(vh, -1, -2) @ (scale[..., None] * (np.swapaxes(u, -1, -2) @ b))
            self.rank = keep.sum(axis=-1)
            self.singular_values = s if driver in ("gelsd", "gelss") else np.zeros((0,))
            full = m > n and driver != "gelsy" and bool((self.rank == n).all())
        self.r = a @ self.x - b
        self.residuals = (self.r ** 2).sum(axis=-2) if full else np.zeros((0,))


def _qr_solution(a, b):
    """X minimising |A X - B| for A of full rank: R^-1 Q^T B (m >= n), or the minimum-norm Q R^-T B through the QR
    of A^T (m < n). R's solves by LAPACK getrs (exact substitution: an upper triangle needs no pivoting; a zero on
    its diagonal, a rank-deficient A, gives inf or NaN as gels gives garbage)."""
    m, n = a.shape[-2:]
    tall = m >= n
    q, r = np.linalg.qr(a if tall else np.swapaxes(a, -1, -2))
    rhs = np.swapaxes(q, -1, -2) @ b if tall else b
    batch = np.broadcast_shapes(r.shape[:-2], rhs.shape[:-2])
    lu, pivots, _ = getrf(r if tall else np.swapaxes(r, -1, -2))
    k = lu.shape[-1]
    y = getrs(np.broadcast_to(lu, batch + (k, k)), np.broadcast_to(pivots, batch + (k,)),
              np.broadcast_to(rhs, batch + rhs.shape[-2:]))
    return y if tall else q @ y


class _Lstsq(Function):
    """(solution, residuals) of a _Solved, wired to A and B for the gradients."""

    multi_output = True

    @staticmethod
    def forward(ctx, A, B, solved, driver, rcond):
        x, r = rounded(solved.x), rounded(solved.r)
        ctx.rtol, ctx.has_residuals = solved.rtol, solved.residuals.size > 0
        ctx.save_for_backward(A, B)
        ctx.factors = HostFactors((x, r), A.device, lambda a, b: _again(a, b, driver, rcond))
        return to_device(x, A), to_device(solved.residuals, A)

    @staticmethod
    def backward(ctx, gX, gRes):
        A, B = ctx.saved_tensors
        X, R = ctx.factors.get(A, B)
        gA = gB = None
        if gX is not None:  # X = pinv(A) B, pinv cut where the solution was
            P = _Pinv.apply(A, np.zeros(()), np.float64(ctx.rtol), False)
            gA, gB = _pinv_backward(matmul(gX, B.mT), P, A), matmul(P.mT, gX)
        if gRes is not None and ctx.has_residuals:  # |A X - B|^2 at its minimum: X's own change does not count
            weighted = R * gRes.unsqueeze(-2)
            gA = 2 * matmul(weighted, X.mT) + (gA if gA is not None else 0)
            gB = -2 * weighted + (gB if gB is not None else 0)
        return gA, gB, None, None, None


def _again(A, B, driver, rcond):
    """The solution and residual matrix as tensors recorded from A and B (for a backward that is recorded)."""
    X = _Lstsq.apply(A, B, _Solved(float64(A), float64(B), rcond, driver), driver, rcond)[0]
    return X, matmul(A, X) - B


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) of min |A X - B| for each matrix of A, as torch.linalg.lstsq;
    B may be a batch of vectors (A's batch and rows); batch dimensions broadcast. Float64 on the host, rounded once.
    driver None or 'gels' (PyTorch's on CUDA): QR of A (of A^T when m < n: the minimum-norm solution), full rank
    assumed, residuals when m > n, rank and singular_values empty. 'gelsy', 'gelsd', 'gelss': the minimum-norm
    solution through the SVD, singular values at or below rcond * the largest counting as zero (rcond None:
    2^-10 * max(m, n), f16's eps); rank, and for gelsd/gelss the singular values and (full rank, m > n) the
    residuals. Gradients as PyTorch's: the solution's through pinv(A) B, the residuals' too."""
    A = matrices(A, "lstsq")
    B = float_input(B, None, "lstsq")
    if driver not in _LSTSQ_DRIVERS:
        raise ValueError("linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), got "
                         f"{driver!r}")
    if rcond is not None and (isinstance(rcond, bool) or not isinstance(rcond, numbers.Real)):
        raise TypeError(f"linalg.lstsq: rcond must be a number, got {type(rcond).__name__}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise ShapeMismatchError(f"linalg.lstsq: A {list(A.shape)} and B {list(B.shape)} do not fit (A's rows must "
                                 "match B's)")
    batch = batch_shape("lstsq", A, Bm)
    a, b = float64(A), float64(Bm)  # A's own batch: the rank and singular values are of A's matrices
    if driver not in (None, "gels"):
        check_finite(a, "lstsq", _SVD_FAILED)
    solved = _Solved(a, b, rcond, driver)
    A = A.broadcast_to(batch + tuple(A.shape[-2:]))
    Bm = Bm.broadcast_to(batch + tuple(Bm.shape[-2:]))
    X, residuals = _Lstsq.apply(A, Bm, solved, driver, rcond)
    rank = to_device(solved.rank, A, np.int64)
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, to_device(solved.singular_values, A))
