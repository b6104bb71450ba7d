"""Poisson, as torch.distributions.Poisson (sample, log_prob, mean, mode, variance); draws are numpy's exact ones
on the host (host_random)."""
from ..ops.special import lgamma, xlogy
from . import constraints
from .distribution import Distribution, broadcast_all
from .host_random import draw, host64


class Poisson(Distribution):
    """Poisson(rate): P(k) = rate^k exp(-rate) / k! for k = 0, 1, ...; draws are f16 counts (integers exact up to
    2048, as any f16)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all("Poisson", rate=rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        """rate."""
        return self.rate

    @property
    def mode(self):
        """floor(rate)."""
        return self.rate.floor()

    @property
    def variance(self):
        """rate."""
        return self.rate

    def sample(self, sample_shape=()):
        """Counts of shape sample_shape + batch_shape (NaN where rate is negative or not finite)."""
        shape = self._extended_shape(sample_shape)
        rate = host64(self.rate, shape)
        return draw(lambda g, r: g.poisson(r), (rate >= 0) & (rate < 1e15), shape, self.rate, rate)

    def log_prob(self, value):
        """value log(rate) - rate - lgamma(value + 1)."""
        value = self._value(value, self.rate, "log_prob")
        return xlogy(value, self.rate) - self.rate - lgamma(value + 1)
