"""PyTorch's top-level and Tensor-method forms of tl.linalg's functions: inverse det logdet slogdet pinverse svd qr
cholesky matrix_power matrix_exp orgqr lu_unpack (tl.inverse(A) and A.inverse() alike), and torch's cholesky_solve and
cholesky_inverse, which torch.linalg lacks."""
import collections
import math

from ..creation import zeros
from ..ops.elementwise import where
from ..tensor import tensor_method
from . import least_squares, lu_family as _lu, matrix_functions, spectral, triangular
from .checks import flags
from .cholesky_solve import cholesky_inverse, cholesky_solve

SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])
SvdResult = collections.namedtuple("svd", ["U", "S", "V"])
QRResult = collections.namedtuple("qr", ["Q", "R"])


@tensor_method()
def inverse(input):
    """The inverse of each square matrix (tl.linalg.inv)."""
    return _lu.inv(input)


@tensor_method()
def det(input):
    """The determinant of each square matrix (tl.linalg.det)."""
    return _lu.det(input)


@tensor_method()
def slogdet(input):
    """(sign, logabsdet) of each square matrix's determinant (tl.linalg.slogdet)."""
    return SlogdetResult(*_lu.slogdet(input))


@tensor_method()
def logdet(input):
    """log det of each square matrix, as torch.logdet: NaN for a negative determinant, -inf for a singular matrix;
    from slogdet (so it does not overflow where det would), with its gradient."""
    sign, logabsdet = _lu.slogdet(input)
    return where(sign < 0, math.nan, logabsdet)


@tensor_method()
def pinverse(input, rcond=1e-15):
    """The pseudo-inverse with singular values at or below rcond times the largest counted as zero (as torch.pinverse:
    tl.linalg.pinv with rtol=rcond)."""
    return least_squares.pinv(input, rtol=rcond)


@tensor_method()
def svd(input, some=True, compute_uv=True):
    """(U, S, V) with input = U diag(S) V^T, as torch.svd (V, not Vh; some=True: the reduced factors). With
    compute_uv=False, U and V are zeros (m x m and n x n) and S alone is computed."""
    flags("svd", some=some, compute_uv=compute_uv)
    if not compute_uv:
        S = spectral.svdvals(input)
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return SvdResult(zeros(batch + (m, m), device=input.device), S, zeros(batch + (n, n), device=input.device))
    U, S, Vh = spectral.svd(input, full_matrices=not some)
    return SvdResult(U, S, Vh.mT)


@tensor_method()
def qr(input, some=True):
    """(Q, R) of the reduced (some=True) or complete QR factorisation (torch.qr; tl.linalg.qr)."""
    flags("qr", some=some)
    return QRResult(*least_squares.qr(input, "reduced" if some else "complete"))


@tensor_method()
def cholesky(input, upper=False):
    """The Cholesky factor of each symmetric positive-definite matrix (torch.cholesky; tl.linalg.cholesky)."""
    return triangular.cholesky(input, upper=upper)


@tensor_method()
def matrix_power(input, n):
    """The n-th power of each square matrix (tl.linalg.matrix_power)."""
    return _lu.matrix_power(input, n)


@tensor_method()
def matrix_exp(input):
    """The matrix exponential of each square matrix (tl.linalg.matrix_exp)."""
    return matrix_functions.matrix_exp(input)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from tl.linalg.lu_factor's (LU, pivots)."""
    return _lu.lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots)


@tensor_method()
def orgqr(input, tau):
    """The product of the Householder reflectors stored by geqrf (tl.linalg.householder_product)."""
    return matrix_functions.householder_product(input, tau)


__all__ = ["inverse", "det", "logdet", "slogdet", "pinverse", "svd", "qr", "cholesky", "matrix_power", "matrix_exp",
           "orgqr", "lu_unpack", "cholesky_solve", "cholesky_inverse"]
