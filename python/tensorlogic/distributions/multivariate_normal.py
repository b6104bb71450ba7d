"""MultivariateNormal: the Gaussian over vectors of the last dimension of loc, given by exactly one of its
covariance matrix, precision matrix or lower Cholesky factor scale_tril, as torch.distributions.MultivariateNormal
(sample, rsample, log_prob, entropy; the other two matrices, mean, mode, variance). Everything goes through the
Cholesky factor (tl.linalg), so gradients reach loc and whichever matrix was given."""
import math

from ..autograd.grad_mode import no_grad
from ..creation import eye
from ..errors import ShapeMismatchError
from ..linalg import cholesky, solve_triangular
from ..ops.random import randn
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, MeanAndModeAtLoc, _expand


def _eye_like(L):
    return eye(L.shape[-1], device=L.device)


def mahalanobis(L, x):
    """x^T (L L^T)^{-1} x for the vectors x (last dimension) under the lower factors L, batch dimensions
    broadcast: the squared length of L^{-1} x."""
    return solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)


def half_log_det(L):
    """log |L L^T| / 2: the sum of the logs of L's diagonal."""
    return L.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^{-1}. With J the exchange matrix, J P J = U U^T (U lower) gives
    P = (J U J)(J U J)^T, J U J upper; so P^{-1} = L L^T with L = (J U J)^{-T}, which is lower."""
    U = cholesky(P.flip((-2, -1)))
    return solve_triangular(U.flip((-2, -1)).mT, _eye_like(P), upper=False)


class MultivariateNormal(MeanAndModeAtLoc, Distribution):
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None): loc [..., d] and
    one matrix [..., d, d]; batch shapes broadcast."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if not isinstance(loc, Tensor):
            raise TypeError(f"MultivariateNormal: loc must be a tensor, got {type(loc).__name__}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {k: v for k, v in (("covariance_matrix", covariance_matrix), ("precision_matrix", precision_matrix),
                                   ("scale_tril", scale_tril)) if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        (kind, matrix), = given.items()
        if not isinstance(matrix, Tensor):
            raise TypeError(f"MultivariateNormal: {kind} must be a tensor, got {type(matrix).__name__}")
        if matrix.ndim < 2:
            raise ValueError(f"{kind} matrix must be at least two-dimensional, with optional leading batch "
                             "dimensions")
        d = loc.shape[-1]
        if tuple(matrix.shape[-2:]) != (d, d):
            raise ShapeMismatchError(f"MultivariateNormal: {kind} of shape {list(matrix.shape)} does not fit loc of "
                                     f"shape {list(loc.shape)} (its last two dimensions must be {d} x {d})")
        batch_shape = tuple(broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        self.loc = loc.broadcast_to(batch_shape + (d,))
        self._given = {kind: matrix.broadcast_to(batch_shape + (d, d))}
        if kind == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif kind == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)
        super().__init__(batch_shape, (d,), validate_args)
        if kind == "scale_tril":  # the other two are checked by their Cholesky factorisation, always
            self._check(matrix, lambda: (matrix.diagonal(dim1=-2, dim2=-1) > 0) & (matrix.triu(1) == 0).all(-1),
                        "scale_tril must be lower triangular with a positive diagonal")

    def expand(self, batch_shape, _instance=None):
        """loc and the given matrix expanded to batch_shape (the Cholesky factor stays unbroadcast)."""
        new = super().expand(batch_shape, _instance)
        d = self._event_shape[0]
        new.loc = _expand(self.loc, new.batch_shape + (d,), "MultivariateNormal")
        new._given = {k: _expand(v, new.batch_shape + (d, d), "MultivariateNormal") for k, v in self._given.items()}
        return new

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    @property
    def scale_tril(self):
        """The lower Cholesky factor of the covariance."""
        if "scale_tril" in self._given:
            return self._given["scale_tril"]
        return self._unbroadcasted_scale_tril.broadcast_to(self._matrix_shape())

    @property
    def covariance_matrix(self):
        """L @ L.mT."""
        if "covariance_matrix" in self._given:
            return self._given["covariance_matrix"]
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).broadcast_to(self._matrix_shape())

    @property
    def precision_matrix(self):
        """The inverse of the covariance: L^{-T} L^{-1}."""
        if "precision_matrix" in self._given:
            return self._given["precision_matrix"]
        L_inv = solve_triangular(self._unbroadcasted_scale_tril, _eye_like(self.loc), upper=False)
        return (L_inv.mT @ L_inv).broadcast_to(self._matrix_shape())

    @property
    def variance(self):
        """The covariance's diagonal: the squared lengths of the rows of L."""
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).broadcast_to(self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        """loc + L eps with eps standard normal: gradients reach loc and the matrix."""
        eps = randn(self._extended_shape(sample_shape), device=self.loc.device)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """The log-density at value (its last dimension the event), batch dimensions broadcast."""
        d = self._event_shape[0]
        m = mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (d * math.log(2 * math.pi) + m) - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        """d/2 (1 + log 2 pi) + log|covariance| / 2."""
        d = self._event_shape[0]
        h = 0.5 * d * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return h.broadcast_to(self._batch_shape)
