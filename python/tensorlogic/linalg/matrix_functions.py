"""tl.linalg.matrix_exp and tl.linalg.householder_product, computed in float64 on the host from the exact f16 values
and rounded once. matrix_exp: scaling and squaring around a Taylor polynomial of degree 18 (a matrix scaled below
norm 1/2, where the remainder is below float64's resolution). Their gradients are written with tensor ops, so they
can be differentiated again: matrix_exp's is the top-right block of matrix_exp([[A^T, G], [0, A^T]]) (the adjoint of
its Fréchet derivative); householder_product's follows the product rule over the reflectors."""
import numpy as np

from ..autograd.function import Function
from ..creation import eye, zeros
from ..errors import ShapeMismatchError
from ..ops.linalg import matmul
from ..ops.shape import cat, stack
from .checks import float_input, matrices, square
from .host import check_finite, float64, to_device

_TAYLOR_DEGREE = 18


def _expm(a):
    """exp of each matrix of a float64 [..., n, n] array."""
    norm = np.abs(a).sum(-2).max() if a.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    x = a / 2.0 ** squarings
    identity = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    result = identity.copy()
    for degree in range(_TAYLOR_DEGREE, 0, -1):  # Horner: I + x/1 (I + x/2 (I + ...))
        result = identity + (x @ result) / degree
    for _ in range(squarings):
        result = result @ result
    return result


class _MatrixExp(Function):
    @staticmethod
    def forward(ctx, A):
        a = float64(A)
        check_finite(a, "matrix_exp", "the input holds non-finite values")
        ctx.save_for_backward(A)
        return to_device(_expm(a), A)

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        n = A.shape[-1]
        at = A.mT
        block = cat([cat([at, g], -1), cat([zeros(A.shape, device=A.device), at], -1)], -2)
        return _MatrixExp.apply(block)[..., :n, n:]


def matrix_exp(A):
    """The matrix exponential of each square matrix of A [..., n, n] (torch.linalg.matrix_exp)."""
    return _MatrixExp.apply(square(A, "matrix_exp"))


def _reflectors(A, k):
    """The Householder vectors of the first k columns of A [..., m, n]: below the diagonal A's entries, 1 on it, 0
    above (LAPACK's storage, as geqrf leaves it)."""
    m = A.shape[-2]
    return A[..., :, :k].tril(-1) + eye(m, k, device=A.device)


class _HouseholderProduct(Function):
    @staticmethod
    def forward(ctx, A, tau):
        a, t = float64(A), float64(tau)
        m, n = a.shape[-2:]
        k = t.shape[-1]
        q = np.broadcast_to(np.eye(m, n), a.shape[:-2] + (m, n)).copy()
        for i in range(k - 1, -1, -1):  # H_0 (H_1 (... (H_{k-1} E)))
            v = np.zeros(a.shape[:-2] + (m,))
            v[..., i] = 1.0
            v[..., i + 1:] = a[..., i + 1:, i]
            q -= t[..., i, None, None] * v[..., :, None] * (v[..., None, :] @ q)
        ctx.save_for_backward(A, tau)
        return to_device(q, A)

    @staticmethod
    def backward(ctx, g):
        A, tau = ctx.saved_tensors
        m, n = A.shape[-2:]
        k = tau.shape[-1]
        v = _reflectors(A, k)
        cols = [v[..., :, i:i + 1] for i in range(k)]
        taus = [tau[..., i, None, None] for i in range(k)]
        right = [None] * k  # R_i = H_{i+1} ... H_{k-1} E
        r = eye(m, n, device=A.device).expand(*A.shape[:-2], m, n)
        for i in range(k - 1, -1, -1):
            right[i] = r
            r = r - taus[i] * cols[i] * matmul(cols[i].mT, r)
        left = eye(m, device=A.device).expand(*A.shape[:-2], m, m)  # P_i = H_0 ... H_{i-1}
        grad_v, grad_tau = [], []
        for i in range(k):
            a = matmul(right[i].mT, cols[i])  # R_i^T v
            b = matmul(left, cols[i])  # P_i v
            ga = matmul(g, a)
            # d/dH_i is M = P_i^T G R_i^T; with H_i = I - tau v v^T: dv = -tau (M + M^T) v, dtau = -v^T M v
            grad_v.append(-taus[i] * (matmul(left.mT, ga) + matmul(right[i], matmul(g.mT, b))))
            grad_tau.append(-(b * ga).sum((-2, -1)))
            left = left - taus[i] * b * cols[i].mT
        gv = cat(grad_v, -1).tril(-1) if k else zeros(A.shape[:-2] + (m, 0), device=A.device)
        ga = cat([gv, zeros(A.shape[:-2] + (m, n - k), device=A.device)], -1) if n > k else gv
        gt = stack(grad_tau, -1) if k else zeros(tau.shape, device=A.device)
        return ga, gt


def householder_product(A, tau):
    """The first n columns of H_0 H_1 ... H_{k-1} (torch.linalg.householder_product), H_i = I - tau_i v_i v_i^T with
    v_i column i of A [..., m, n] below the diagonal, 1 on it and 0 above (geqrf's storage); tau [..., k], k <= n <=
    m."""
    A, tau = matrices(A, "householder_product"), float_input(tau, None, "householder_product")
    m, n = A.shape[-2:]
    if tau.ndim < 1 or not m >= n >= tau.shape[-1] or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ShapeMismatchError(f"linalg.householder_product: expected A [..., m, n] with m >= n and tau [..., k] "
                                 f"with k <= n and A's batch, got {list(A.shape)} and {list(tau.shape)}")
    return _HouseholderProduct.apply(A, tau)


__all__ = ["matrix_exp", "householder_product"]
