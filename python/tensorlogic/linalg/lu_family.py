"""tl.linalg's LU family: lu_factor lu_factor_ex lu lu_solve solve solve_ex inv inv_ex det slogdet, and torch's
lu_unpack.

The factorisation is LAPACK's (getrf with partial pivoting, then getrs: see host) in float64 on the host from the
exact f16 values, each result rounded once to f16 on the input's device: f16 adds that one rounding to float64's own
error (about 1e-16 times the condition number). Singular matrices raise LinAlgError with PyTorch's messages (the _ex
forms return info instead). Gradients are PyTorch's formulas written with tensor ops whose solves are this module's
_solve: they run on every device and can be differentiated again."""
import collections
import numbers

import numpy as np

from ..autograd.function import Function
from ..creation import eye, tensor
from ..errors import LinAlgError, ShapeMismatchError
from ..ops.arrange import diag_embed
from ..ops.linalg import matmul
from ..ops.shape import cat
from ..tensor import Tensor
from .checks import batch_shape, flags, float_input, matrices, square
from .host import batch_prefix, float64, getrf, getrs, permutation_matrix, rounded, to_device

LUFactorResult = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = collections.namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = collections.namedtuple("linalg_lu", ["P", "L", "U"])
LUUnpackResult = collections.namedtuple("lu_unpack", ["P", "L", "U"])
InvExResult = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
SolveExResult = collections.namedtuple("linalg_solve_ex", ["result", "info"])
SlogdetResult = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])


def _singular(name, info, batch_shape):
    """PyTorch's LinAlgError for the first matrix whose U has an exactly zero diagonal entry (info > 0)."""
    flat = info.reshape(-1)
    element = int((flat > 0).argmax())
    where, i = batch_prefix(element, batch_shape), int(flat[element])
    if name.startswith("inv"):
        return LinAlgError(f"linalg.{name}: {where}The diagonal element {i} is zero, the inversion could not be "
                           "completed because the input matrix is singular.")
    if name.startswith("lu_factor"):
        return LinAlgError(f"linalg.{name}: {where}U[{i},{i}] is zero and using it on lu_solve would result in a "
                           "division by zero. If you still want to perform the factorization, consider calling "
                           "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return LinAlgError(f"linalg.{name}: {where}The solver failed because the input matrix is singular.")


class _Solve(Function):
    """(X, info) with A X = B for square A [..., n, n] and B [..., n, k] of one batch shape; `errors` names the
    function whose LinAlgError a singular matrix raises (None: none, X then holds inf or NaN)."""

    @staticmethod
    def forward(ctx, A, B, errors):
        a, b = float64(A), float64(B)
        try:  # numpy's batched gesv: the same getrf/getrs, without a Python loop over the matrices
            x, info = np.linalg.solve(a, b), np.zeros(a.shape[:-2], np.int32)
        except np.linalg.LinAlgError:  # some matrix is singular: which, and at which pivot, from getrf
            lu, pivots, info = getrf(a)
            if errors is not None:
                raise _singular(errors, info, A.shape[:-2]) from None
            x = getrs(lu, pivots, b)
        X = to_device(x, A)
        ctx.save_for_backward(A, X)
        return X, to_device(info, A, np.int32)

    @staticmethod
    def backward(ctx, gX):
        A, X = ctx.saved_tensors
        gB = _solve(A.mT, gX)  # A^-T gX, itself a solve: rounded once, and differentiable again
        gA = -matmul(gB, X.mT) if ctx.needs_input_grad[0] else None
        return gA, gB if ctx.needs_input_grad[1] else None, None


def _solve(A, B):
    """A^-1 B for square A and B of A's batch shape, without singularity checks (the solves of backward formulas)."""
    return _Solve.apply(A, B, None)[0]


def _rhs_matrices(A, B, left, name):
    """(A, B as matrices, whether B was a vector): PyTorch's rule reads B as vectors when it is 1-d or A's shape
    without its last dimension; for left=False, A and B transposed (X A = B is A^T X^T = B^T); batches broadcast."""
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2:
        raise ShapeMismatchError(f"linalg.{name}: B must have at least 1 dimension, got {list(B.shape)}")
    n = A.shape[-1]
    if (Bm.shape[-2] if left else Bm.shape[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise ShapeMismatchError(f"linalg.{name}: Incompatible shapes of A and B for the equation {equation} "
                                 f"({n}x{n} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    if not left:
        A, Bm = A.mT, Bm.mT
    batch = batch_shape(name, A, Bm)
    return A.broadcast_to(batch + (n, n)), Bm.broadcast_to(batch + tuple(Bm.shape[-2:])), vector


def solve_ex(A, B, *, left=True, check_errors=False):
    """(X, info) of solve without its error: info (int32, one per matrix) is 0, or the 1-based index of the first
    zero pivot of a singular matrix, whose X then holds inf or NaN (as PyTorch's); check_errors=True raises
    solve's LinAlgError instead."""
    A = square(A, "solve_ex")
    B = float_input(B, None, "solve_ex")
    flags("solve_ex", left=left, check_errors=check_errors)
    A, Bm, vector = _rhs_matrices(A, B, left, "solve_ex")
    X, info = _Solve.apply(A, Bm, "solve_ex" if check_errors else None)
    X = X if left else X.mT
    return SolveExResult(X.squeeze(-1) if vector else X, info)


def solve(A, B, *, left=True):
    """X with A @ X == B (left=True) or X @ A == B for square A, as torch.linalg.solve: B may be a batch of vectors
    (1-d, or A's shape without its last dimension); batch dimensions broadcast. LU with partial pivoting in float64
    on the host (LAPACK getrf/getrs), rounded once to f16; LinAlgError for a singular matrix. Gradients: B's is
    A^-T G (a solve), A's is -A^-T G X^T."""
    A = square(A, "solve")
    B = float_input(B, None, "solve")
    flags("solve", left=left)
    A, Bm, vector = _rhs_matrices(A, B, left, "solve")
    X = _Solve.apply(A, Bm, "solve")[0]
    X = X if left else X.mT
    return X.squeeze(-1) if vector else X


def _identity(A):
    return eye(A.shape[-1], device=A.device).broadcast_to(tuple(A.shape))


def inv_ex(A, *, check_errors=False):
    """(inverse, info) of inv without its error: info (int32, one per matrix) is 0, or the 1-based index of the
    first zero pivot of a singular matrix, whose inverse then holds inf or NaN (as PyTorch's); check_errors=True
    raises inv's LinAlgError instead."""
    A = square(A, "inv_ex")
    flags("inv_ex", check_errors=check_errors)
    X, info = _Solve.apply(A, _identity(A), "inv_ex" if check_errors else None)
    return InvExResult(X, info)


def inv(A):
    """The inverse of each square matrix of A, as torch.linalg.inv: solve(A, I) in float64 on the host (LAPACK
    getrf/getrs), rounded once to f16 (entries beyond 65504 are inf); LinAlgError for a singular matrix, naming the
    zero diagonal element of U as PyTorch does. The gradient is -A^-T G A^-T."""
    A = square(A, "inv")
    return _Solve.apply(A, _identity(A), "inv")[0]


class _Cofactor(Function):
    """det(A) A^-T, the gradient of det, from the SVD in float64 (A = U diag(s) Vh: det(U) det(Vh) U diag(prod of
    the other s) Vh), defined for singular A too, and rounded once (where det(A) * inv(A) in f16 would underflow)."""

    @staticmethod
    def forward(ctx, A):
        a = float64(A)
        n = a.shape[-1]
        if n:
            u, s, vh = np.linalg.svd(a)
            others = np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]).prod(axis=-1)
            sign = np.sign(np.linalg.det(u) * np.linalg.det(vh))
            c = sign[..., None, None] * np.matmul(u * others[..., None, :], vh)
        else:
            c = a
        C = to_device(c, A)
        ctx.save_for_backward(A, C)
        return C

    @staticmethod
    def backward(ctx, H):
        # d(det A^-T) = tr(A^-1 dA) C - C dA^T A^-T, so the gradient of <H, C> is <H, C> A^-T - A^-T H^T C
        A, C = ctx.saved_tensors
        inverse, info = _Solve.apply(A, _identity(A), None)
        if bool(info.any()):
            raise NotImplementedError("linalg.det: the second derivative of det at a singular matrix is not "
                                      "implemented")
        AinvT = inverse.mT
        return (H * C).sum((-2, -1), keepdim=True) * AinvT - matmul(matmul(AinvT, H.mT), C)


class _Det(Function):
    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        with np.errstate(over="ignore"):  # beyond float64's range: inf, as beyond f16's
            return to_device(np.linalg.det(float64(A)), A)

    @staticmethod
    def backward(ctx, g):
        (A,) = ctx.saved_tensors
        return g.unsqueeze(-1).unsqueeze(-1) * _Cofactor.apply(A)


def det(A):
    """The determinant of each square matrix of A, as torch.linalg.det: float64 on the host (LAPACK's LU, as
    numpy's det), rounded once to f16, so beyond 65504 in size it is inf (slogdet keeps its logarithm). The
    gradient is the cofactor matrix det(A) A^-T, from the SVD, so it is right for singular matrices too."""
    return _Det.apply(square(A, "det"))


class _Slogdet(Function):
    """(log|det A|, sign): the logarithm first, being the differentiable output."""

    @staticmethod
    def forward(ctx, A):
        sign, logabs = np.linalg.slogdet(float64(A))
        ctx.save_for_backward(A)
        return to_device(logabs, A), to_device(sign, A)

    @staticmethod
    def backward(ctx, g):
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        # g A^-T as one solve of A^T against g I (singular A: inf and NaN, as PyTorch's)
        return _solve(A.mT, diag_embed(g.unsqueeze(-1).expand(tuple(g.shape) + (n,))))


def slogdet(A):
    """(sign, logabsdet) of each square matrix's determinant, as torch.linalg.slogdet: sign is 1, -1 or 0 (a singular
    matrix, whose logabsdet is -inf). float64 on the host (LAPACK's LU, as numpy's slogdet), each rounded once; the
    gradient of logabsdet is A^-T."""
    logabs, sign = _Slogdet.apply(square(A, "slogdet"))
    return SlogdetResult(sign, logabs)


class _LUFactor(Function):
    """(LU, pivots, info) of getrf; LU the differentiable output."""

    @staticmethod
    def forward(ctx, A):
        lu, pivots, info = getrf(float64(A))
        LU = to_device(lu, A)
        ctx.save_for_backward(LU)
        ctx.P = rounded(permutation_matrix(pivots, A.shape[-2]))
        return LU, to_device(pivots, A, np.int32), to_device(info, A, np.int32)

    @staticmethod
    def backward(ctx, gLU):
        (LU,) = ctx.saved_tensors
        return matmul(tensor(ctx.P, device=LU.device), _lu_backward(gLU, LU))


def _factors(LU):
    """(L, U) unpacked from getrf's LU [..., m, n]: L m x k with its unit diagonal, U k x n, k = min(m, n)."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    return LU[..., :, :k].tril(-1) + eye(m, k, device=LU.device), LU[..., :k, :].triu()


def _lu_backward(gLU, LU):
    """P^T times the gradient of A = P L U from that of the packed LU (PyTorch's formulas for square, tall and wide
    A): with M = triu(gU U^T - L^T gL) (tall) the gradient is [L1^-T M + gL1; gL2] U^-T; wide, with
    M = tril(L^T gL - gU U^T, -1), it is L^-T [M U1^-T + gU1, gU2]. Every solve is of an upper triangle (L^T, U,
    U1), which LU's pivoting leaves alone: exact substitution."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L, U = _factors(LU)
    gL, gU = gLU[..., :, :k].tril(-1), gLU[..., :k, :].triu()
    if m >= n:
        M = (matmul(gU, U.mT) - matmul(L.mT, gL)).triu()
        top = _solve(L[..., :k, :].mT, M) + gL[..., :k, :]
        left = cat([top, gL[..., k:, :]], -2) if m > k else top
        return _solve(U, left.mT).mT
    M = (matmul(L.mT, gL) - matmul(gU, U.mT)).tril(-1)
    first = _solve(U[..., :k], M.mT).mT + gU[..., :k]
    return _solve(L.mT, cat([first, gU[..., k:]], -1))


def _lu_factor(A, name, pivot):
    A = matrices(A, name)
    flags(name, pivot=pivot)
    if not pivot:
        raise NotImplementedError(f"linalg.{name}: LU without pivoting is not implemented (LAPACK's getrf pivots)")
    return _LUFactor.apply(A)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info) of lu_factor without its error: info (int32, one per matrix) is 0, or the 1-based index of
    U's first zero diagonal entry (the factorisation is still complete, as PyTorch's); check_errors=True raises
    lu_factor's LinAlgError instead."""
    flags("lu_factor_ex", check_errors=check_errors)
    LU, pivots, info = _lu_factor(A, "lu_factor_ex", pivot)
    if check_errors and bool(info.any()):
        raise _singular("lu_factor_ex", info.cpu().numpy(), LU.shape[:-2])
    return LUFactorExResult(LU, pivots, info)


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of each matrix of A (m x n), as torch.linalg.lu_factor: LAPACK's getrf with partial pivoting in
    float64 on the host, LU rounded once to f16 (L below its implied unit diagonal, U on and above it), pivots the
    1-based row interchanges (int32). LinAlgError when U has a zero on its diagonal (lu and lu_factor_ex accept
    those); pivot=False is not implemented (NotImplementedError, as PyTorch's on the CPU). The gradient is
    PyTorch's, for square, tall and wide matrices."""
    LU, pivots, info = _lu_factor(A, "lu_factor", pivot)
    if bool(info.any()):
        raise _singular("lu_factor", info.cpu().numpy(), LU.shape[:-2])
    return LUFactorResult(LU, pivots)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P @ L @ U, as torch.linalg.lu: lu_factor's factorisation unpacked (P the permutation
    matrix in f16, L m x k unit lower-triangular, U k x n upper-triangular, k = min(m, n)); singular matrices are
    fine. The gradient flows through lu_factor's."""
    LU, pivots, _ = _lu_factor(A, "lu", pivot)
    L, U = _factors(LU)
    P = to_device(permutation_matrix(pivots.cpu().numpy(), LU.shape[-2]), LU)
    return LUResult(P, L, U)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from lu_factor's (LU, pivots), as torch.lu_unpack: P the [..., m, m] permutation matrix, L m x k
    unit lower-triangular, U k x n upper-triangular; an empty tensor in place of P without unpack_pivots and of L and
    U without unpack_data. The gradient flows from L and U into LU."""
    LU = matrices(LU_data, "lu_unpack", "LU_data")
    m, n = LU.shape[-2:]
    if not isinstance(LU_pivots, Tensor) or LU_pivots.dtype.name != "int32":
        raise TypeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype "
                        f"(lu_factor's pivots), got {LU_pivots!r:.60}")
    pivots = LU_pivots.cpu().numpy()
    if pivots.shape != tuple(LU.shape[:-2]) + (min(m, n),):
        raise ShapeMismatchError(f"lu_unpack: LU_pivots must have shape {list(LU.shape[:-2]) + [min(m, n)]} for "
                                 f"LU_data of shape {list(LU.shape)}, got {list(pivots.shape)}")
    if pivots.size and (pivots.min() < 1 or pivots.max() > m):
        raise ValueError(f"lu_unpack: pivots must be between 1 and LU.size(-2) = {m} inclusive (lu_factor's pivots)")
    empty = LU.new_empty(0)
    L, U = _factors(LU) if unpack_data else (empty, empty)
    P = to_device(permutation_matrix(pivots, m), LU) if unpack_pivots else empty
    return LUUnpackResult(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (A^T X = B with adjoint; X A = B or X A^T = B with left=False) for the A that lu_factor's
    (LU, pivots) stand for, as torch.linalg.lu_solve; batch dimensions broadcast. Two triangular solves and the
    permutation, each solve in float64 on the host and rounded once; gradients reach LU and B."""
    LU = square(LU, "lu_solve")
    B = matrices(B, "lu_solve", "B")
    flags("lu_solve", left=left, adjoint=adjoint)
    n = LU.shape[-1]
    if not isinstance(pivots, Tensor) or pivots.dtype.name != "int32" or tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise TypeError(f"linalg.lu_solve: pivots must be an int32 tensor of shape {list(LU.shape[:-1])} "
                        f"(lu_factor's), got {pivots!r:.60}")
    if not left:  # X A = B is A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    if B.shape[-2] != n:
        raise ShapeMismatchError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} "
                                 f"and {B.shape[-2]}x{B.shape[-1]})")
    batch = batch_shape("lu_solve", LU, B)
    LU = LU.broadcast_to(batch + (n, n))
    B = B.broadcast_to(batch + tuple(B.shape[-2:]))
    pivots = pivots.cpu().numpy()
    P = to_device(np.broadcast_to(permutation_matrix(pivots, n), batch + (n, n)), LU)
    L, U = _factors(LU)
    if adjoint:  # A^T = U^T L^T P^T: X = P L^-T U^-T B
        return matmul(P, _solve(L.mT, _solve(U.mT, B)))
    return _solve(U, _solve(L, matmul(P.mT, B)))


def matrix_power(A, n):
    """A^n for each square matrix of A, as torch.linalg.matrix_power: by repeated squaring (each product summed in
    f32 and rounded once), the identity for n = 0, inv(A)^-n for negative n."""
    A = base = square(A, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n < 0:
        A, n = inv(A), -n
    result = None
    while n:
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if n:
            A = matmul(A, A)
    if result is None:
        return _identity(A) * 1
    return result.clone() if result is base else result  # a new tensor, as PyTorch's
