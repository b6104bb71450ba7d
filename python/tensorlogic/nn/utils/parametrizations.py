"""torch.nn.utils.parametrizations: weight_norm and spectral_norm as parametrizations (the forms PyTorch
recommends over the forward pre-hooks of nn.utils.weight_norm and nn.utils.spectral_norm), with PyTorch's
state_dict keys: for weight_norm module.parametrizations.<name>.original0 holds the magnitude g, original1 the
direction v; for spectral_norm .original holds the weight and .0._u, .0._v the power iteration's vectors; for
orthogonal .original holds what the orthogonal map reads and .0.base (with use_trivialization) the orthogonal
matrix it multiplies."""
import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import eye, tensor, zeros
from ...linalg import householder_product, matrix_exp, solve
from ...linalg.host import float64
from ...ops.composite import mv
from ...ops.random import randn
from ...ops.shape import cat
from ...tensor import Tensor
from ...type_info import finfo
from ..activation_functions import normalize
from ..module import Module
from .parametrize import register_parametrization
from .spectral_norm import check_iterations, checked_dim, output_dim, sigma_of, weight_matrix
from .weight_norm import _check_dim, norm_except_dim, weight_from


class _WeightNorm(Module):
    """weight = g * v / ||v||, the norm over every dimension but dim (-1: over the whole tensor)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_from(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Re-expresses module.<name> as g * v / ||v|| by a parametrization (g the norm over every dimension but
    dim; None normalises the whole tensor), so that g and v are the trained parameters. Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):  # (LSTM's `bias` is a flag)
        raise AttributeError(f"weight_norm: '{type(module).__name__}' has no parameter '{name}'")
    return register_parametrization(module, name, _WeightNorm(_check_dim(dim, weight, name)), unsafe=True)


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of weight as a matrix over dim, estimated by power iteration
    (the buffers _u and _v, stepped n_power_iterations times by each evaluation in training mode); a 1-d weight is
    divided by its norm."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        self.dim, self.eps = checked_dim(dim, weight), eps
        check_iterations(n_power_iterations)
        if weight.ndim > 1:
            self.n_power_iterations = n_power_iterations
            h, w = weight_matrix(weight, self.dim).shape
            with no_grad():
                self.register_buffer("_u", normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=eps))
                self.register_buffer("_v", normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=eps))
            self._power_method(weight_matrix(weight, self.dim), 15)  # a good estimate from the start, as PyTorch

    def _power_method(self, matrix, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(mv(matrix, self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(mv(matrix.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        """The normalised weight (stepping the power iteration first in training mode)."""
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        return weight / sigma_of(matrix, self._u.clone(), self._v.clone())

    def right_inverse(self, value):
        """The weight itself is the original: assigning module.<name> stores the value."""
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Re-expresses module.<name> as itself divided by its spectral norm, by a parametrization: the power
    iteration's vectors start from 15 iterations on a random vector and each access in training mode steps them
    n_power_iterations times. dim is the dimension of the outputs (None: 0, or 1 for the transposed convolutions).
    Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, output_dim(module, dim),
                                                                eps))


_MAPS = ("matrix_exp", "cayley", "householder")


def _orthonormal(q):
    """The Q of the QR decomposition of each tall matrix of q (float64), its columns signed so that R's diagonal is
    non-negative: q itself when q is orthogonal."""
    Q, R = np.linalg.qr(q)
    return Q * np.where(np.diagonal(R, axis1=-2, axis2=-1) < 0, -1.0, 1.0)[..., None, :]


class _Orthogonal(Module):
    """An orthogonal (semi-orthogonal when not square) matrix made from an unconstrained one X (PyTorch's maps): the
    exponential or the Cayley transform of the skew-symmetric matrix from X's lower triangle, or the product of the
    Householder reflectors in X's strict lower triangle; with use_trivialization, multiplied by the buffer `base`."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape, self.orthogonal_map = tuple(weight.shape), orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map == "householder":
            A = X.tril(-1)
            Q = householder_product(A, 2.0 / (1.0 + (A * A).sum(-2)))
            # X's diagonal holds signs (+-1) that are not trained: truncated, as PyTorch casts them to int
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        else:
            X = X.tril()
            if n != k:
                X = cat([X, zeros(X.shape[:-2] + (n, n - k), device=X.device)], -1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:  # Cayley: (I - A/2)^-1 (I + A/2)
                identity = eye(n, device=A.device)
                Q = solve(identity - A * 0.5, identity + A * 0.5)
            Q = Q[..., :k]
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        """What to store so that forward gives Q (made orthogonal first): with use_trivialization, Q becomes `base`
        (completed to a square orthogonal matrix by random columns when not square) and X is -I; without it, the
        Householder reflectors of Q's QR decomposition (the other maps have no inverse: NotImplementedError)."""
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                             f"{tuple(Q.shape)}.")
        n, k = Q.shape[-2:]
        transposed = n < k
        q = float64(Q.mT if transposed else Q)
        n, k = q.shape[-2:]
        if not hasattr(self, "base"):
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                          "parametrizations when use_trivialization=False.")
            h, tau = np.linalg.qr(q, mode="raw") if q.ndim == 2 else _batched_raw_qr(q)
            a = np.swapaxes(h, -2, -1).copy()
            sign = np.sign(np.diagonal(a, axis1=-2, axis2=-1)) * np.where(tau == 0.0, -1.0, 1.0)
            idx = np.arange(k)
            a[..., idx, idx] = sign
            out = tensor(a.astype(np.float16), device=Q.device)
            return out.mT if transposed else out
        if n == k:
            gram = np.swapaxes(q, -2, -1) @ q
            orthogonal = np.allclose(gram, np.eye(k), atol=10.0 * n * finfo(Q.dtype).eps)
            base = q if orthogonal else _orthonormal(q)
        else:
            extra = float64(randn(*q.shape[:-2], n, n - k, device=Q.device))
            base = _orthonormal(np.concatenate([q, extra], -1))
        self.base = tensor(base.astype(np.float16), device=Q.device)
        return (-eye(Q.shape[-2], Q.shape[-1], device=Q.device)).expand(Q.shape).clone()


def _batched_raw_qr(q):
    """numpy's raw QR (LAPACK geqrf: h transposed, tau) of each matrix of a batch."""
    flat = q.reshape((-1,) + q.shape[-2:])
    hs, taus = zip(*(np.linalg.qr(m, mode="raw") for m in flat))
    return np.stack(hs).reshape(q.shape[:-2] + hs[0].shape), np.stack(taus).reshape(q.shape[:-2] + taus[0].shape)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Makes module.<name> (a matrix or a batch of them) orthogonal, or semi-orthogonal (orthonormal rows or columns)
    when not square, by a parametrization: orthogonal_map is "matrix_exp" (the default for square matrices),
    "cayley" or "householder" (the default otherwise). With use_trivialization (the default) the present weight,
    made orthogonal, is kept in the buffer `base` and the trained matrix starts at -I, so the module starts from
    its own weight. Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if not isinstance(orthogonal_map, str) or orthogonal_map not in _MAPS:  # (an array has no truth value)
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f"{orthogonal_map!r:.80}")
    return register_parametrization(module, name, _Orthogonal(weight, orthogonal_map,
                                                              use_trivialization=use_trivialization), unsafe=True)
