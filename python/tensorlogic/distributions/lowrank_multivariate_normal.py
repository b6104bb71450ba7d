"""LowRankMultivariateNormal: the Gaussian whose covariance is cov_factor cov_factor^T + diag(cov_diag), as
torch.distributions.LowRankMultivariateNormal (sample, rsample, log_prob, entropy, the three matrices). Densities go
through the Woodbury identity and the r x r capacitance matrix, so no d x d factorisation is needed."""
import math

from ..autograd.grad_mode import no_grad
from ..creation import eye
from ..errors import ShapeMismatchError
from ..linalg import cholesky, solve_triangular
from ..ops.random import randn
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, MeanAndModeAtLoc
from .multivariate_normal import half_log_det


def capacitance_tril(factor, diag):
    """The lower Cholesky factor of I + W^T D^-1 W (r x r) for W = factor, D = diag(diag)."""
    weighted = factor.mT / diag.unsqueeze(-2)
    return cholesky(weighted @ factor + eye(factor.shape[-1], device=factor.device))


def lowrank_mahalanobis(factor, diag, x, tril):
    """x^T (W W^T + D)^-1 x by Woodbury: sum(x^2 / D) - |L^-1 W^T D^-1 x|^2, L the capacitance factor."""
    projected = (factor.mT @ (x / diag).unsqueeze(-1))
    inner = solve_triangular(tril, projected, upper=False).squeeze(-1)
    return (x.square() / diag).sum(-1) - inner.square().sum(-1)


def lowrank_log_det(diag, tril):
    """log |W W^T + D| = log |C| + sum(log D) (the matrix determinant lemma)."""
    return 2 * half_log_det(tril) + diag.log().sum(-1)


class LowRankMultivariateNormal(MeanAndModeAtLoc, Distribution):
    """LowRankMultivariateNormal(loc, cov_factor, cov_diag): loc [..., d], cov_factor [..., d, r], cov_diag [..., d]
    (positive); batch shapes broadcast."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real_vector, "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        for name, value in (("loc", loc), ("cov_factor", cov_factor), ("cov_diag", cov_diag)):
            if not isinstance(value, Tensor):
                raise TypeError(f"LowRankMultivariateNormal: {name} must be a tensor, got {type(value).__name__}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading batch dimensions")
        d = loc.shape[-1]
        if cov_factor.shape[-2] != d:
            raise ShapeMismatchError(f"LowRankMultivariateNormal: cov_factor of shape {list(cov_factor.shape)} does "
                                     f"not fit loc of shape {list(loc.shape)} (its second last dimension must be {d})")
        if cov_diag.ndim < 1 or cov_diag.shape[-1] != d:
            raise ShapeMismatchError(f"LowRankMultivariateNormal: cov_diag of shape {list(cov_diag.shape)} does not "
                                     f"fit loc of shape {list(loc.shape)}")
        try:
            batch = tuple(broadcast_shapes(loc.shape[:-1], cov_factor.shape[:-2], cov_diag.shape[:-1]))
        except ShapeMismatchError:
            raise ShapeMismatchError(f"LowRankMultivariateNormal: the batch shapes of loc {list(loc.shape)}, "
                                     f"cov_factor {list(cov_factor.shape)} and cov_diag {list(cov_diag.shape)} do not "
                                     f"broadcast") from None
        self.loc = loc.expand(batch + (d,))
        self.cov_factor = cov_factor.expand(batch + cov_factor.shape[-2:])
        self.cov_diag = cov_diag.expand(batch + (d,))
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        self._capacitance_tril = capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch, (d,), validate_args)

    @property
    def variance(self):
        """The covariance's diagonal: sum(W^2, -1) + D."""
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (w.square().sum(-1) + d).expand(self._batch_shape + self._event_shape)

    @property
    def covariance_matrix(self):
        """W W^T + diag(D)."""
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (w @ w.mT + d.diag_embed()).expand(self._batch_shape + self._event_shape * 2)

    @property
    def precision_matrix(self):
        """D^-1 - D^-1 W C^-1 W^T D^-1 (Woodbury), C the capacitance matrix."""
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        a = solve_triangular(self._capacitance_tril, w.mT / d.unsqueeze(-2), upper=False)
        return ((1 / d).diag_embed() - a.mT @ a).expand(self._batch_shape + self._event_shape * 2)

    @property
    def scale_tril(self):
        """The lower Cholesky factor of the covariance (a d x d factorisation)."""
        return cholesky(self.covariance_matrix)

    def rsample(self, sample_shape=()):
        """loc + W e_W + sqrt(D) e_D with e_W, e_D standard normal: gradients reach all three parameters."""
        shape = self._extended_shape(sample_shape)
        w = self._unbroadcasted_cov_factor
        eps_w = randn(shape[:-1] + (w.shape[-1],), device=self.loc.device)
        eps_d = randn(shape, device=self.loc.device)
        return self.loc + (w @ eps_w.unsqueeze(-1)).squeeze(-1) + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """-(d log 2 pi + log |Sigma| + mahalanobis) / 2."""
        value = self._value(value, self.loc, "log_prob")
        diff = value - self.loc
        m = lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, diff,
                                self._capacitance_tril)
        log_det = lowrank_log_det(self._unbroadcasted_cov_diag, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + m)

    def entropy(self):
        """(d (1 + log 2 pi) + log |Sigma|) / 2."""
        log_det = lowrank_log_det(self._unbroadcasted_cov_diag, self._capacitance_tril)
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return h.expand(self._batch_shape)
