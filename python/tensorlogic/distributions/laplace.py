"""Laplace: the double-exponential distribution of a location and a scale, as torch.distributions.Laplace
(sample, rsample, log_prob, entropy, cdf, icdf, mean, mode, variance)."""
import math

from ..autograd.grad_mode import no_grad
from ..ops.random import rand
from . import constraints
from .distribution import Distribution, MeanAndModeAtLoc, broadcast_all


class Laplace(MeanAndModeAtLoc, Distribution):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale), over the broadcast shape of loc and scale
    (tensors or numbers)."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Laplace", loc=loc, scale=scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def stddev(self):
        """sqrt(2) scale."""
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        """2 scale^2."""
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc - scale sign(u) log(1 - |u|) for u uniform on (-1, 1): gradients reach loc and scale."""
        # 2 rand - (1 - 2**-11) is (2k - 2047) / 2048: odd multiples of 2**-11, exact in f16 and symmetric about 0,
        # so |u| < 1 and the log stays finite
        u = rand(self._extended_shape(sample_shape), device=self.loc.device) * 2 - (1 - 2.0 ** -11)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """-log(2 scale) - |value - loc| / scale."""
        value = self._value(value, self.loc, "log_prob")
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        """1/2 - sign(value - loc) expm1(-|value - loc| / scale) / 2."""
        d = self._value(value, self.loc, "cdf") - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value):
        """loc - scale sign(value - 1/2) log(1 - 2 |value - 1/2|)."""
        t = self._value(value, self.loc, "icdf") - 0.5
        return self.loc - self.scale * t.sign() * (-2 * t.abs()).log1p()

    def entropy(self):
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
