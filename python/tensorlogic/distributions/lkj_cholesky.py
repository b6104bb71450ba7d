"""LKJCholesky: the lower Cholesky factors of correlation matrices with density proportional to det(C)^(eta - 1)
(Lewandowski, Kurowicka and Joe, 2009), as torch.distributions.LKJCholesky (sample, log_prob).

Draws: the onion method on the host in float64 (numpy's exact Beta and Gaussian samplers keyed from tl's stream):
row k of the factor is sqrt(y) u beside sqrt(1 - y) on the diagonal, u uniform on the sphere of R^k and
y ~ Beta(k / 2, eta + (d - 2) / 2 - (k - 1) / 2). PyTorch (2.13) draws y with first concentration k - 1/2, which
is k / 2 only for the first row: its correlations beyond the first pair are too spread (for d = 3 and eta = 1 their
variance is 0.30, where the LKJ marginal Beta(eta - 1 + d/2) on (-1, 1) gives 0.25); these follow the marginal."""
import math
import numbers

import numpy as np

from ..creation import arange, tensor
from ..ops.special import lgamma
from . import constraints
from .distribution import Distribution, broadcast_all
from .host_random import generator, host64


class LKJCholesky(Distribution):
    """LKJCholesky(dim, concentration=1.): factors of dim x dim correlation matrices; concentration (eta, positive, a
    tensor or a number) is the batch. eta = 1 is uniform over correlation matrices; larger eta favours the
    identity."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = int(dim)
        (self.concentration,) = broadcast_all("LKJCholesky", concentration=concentration)
        super().__init__(self.concentration.shape, (self.dim, self.dim), validate_args)

    def sample(self, sample_shape=()):
        """Factors of shape sample_shape + batch_shape + (dim, dim), drawn on the host (see the module)."""
        shape = self._extended_shape(sample_shape)
        eta = host64(self.concentration, shape[:-2])
        valid = (eta > 0) & np.isfinite(eta)
        eta = np.where(valid, eta, 1.0)
        g, d = generator(), self.dim
        factor = np.zeros(shape)
        factor[..., 0, 0] = 1.0
        for k in range(1, d):
            y = g.beta(k / 2, eta + (d - 2) / 2 - (k - 1) / 2)
            u = g.standard_normal(shape[:-2] + (k,))
            u /= np.linalg.norm(u, axis=-1, keepdims=True)
            factor[..., k, :k] = np.sqrt(y)[..., None] * u
            factor[..., k, k] = np.sqrt(1 - y)
        factor[~valid] = np.nan
        return tensor(factor.astype(np.float16), device=self.concentration.device)

    def log_prob(self, value):
        """sum_k (2 (eta - 1) + d - k - 1) log L_kk - log c(eta), the determinant's power and the Jacobian of
        L -> L L^T, over the LKJ normaliser (Stan's form)."""
        value = self._value(value, self.concentration, "log_prob")
        d, eta = self.dim, self.concentration
        diagonal = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        order = 2 * (eta - 1).unsqueeze(-1) + (d - 1) - arange(1, d, device=eta.device).to(eta.dtype)
        unnormalised = (order * diagonal.log()).sum(-1)
        # log c = (d - 1) log(pi) / 2 + log Gamma_{d-1}(alpha - 1/2) - (d - 1) lgamma(alpha), alpha = eta + (d - 1) / 2,
        # with Gamma_p the multivariate gamma: p (p - 1) / 4 log(pi) + sum_j lgamma(x - j / 2)
        alpha = eta + 0.5 * (d - 1)
        p = d - 1
        steps = arange(p, device=eta.device).to(eta.dtype) * 0.5
        multivariate = lgamma((alpha - 0.5).unsqueeze(-1) - steps).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
        return unnormalised - (0.5 * p * math.log(math.pi) + multivariate - p * lgamma(alpha))
