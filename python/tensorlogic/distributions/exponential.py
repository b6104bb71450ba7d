"""Exponential: the exponential distribution of a rate, as torch.distributions.Exponential (sample, rsample,
log_prob, entropy, cdf, icdf, mean, mode, variance)."""
from ..autograd.grad_mode import no_grad
from ..ops.random import rand
from ..type_info import finfo
from . import constraints
from .distribution import Distribution, broadcast_all


class Exponential(Distribution):
    """Exponential(rate): density rate exp(-rate x) on x >= 0; rate a tensor or a number. Draws are -log(1 - u) /
    rate with u from tl.rand (multiples of 2**-11 in [0, 1)), so a standard draw never exceeds log(2048) ~ 7.6:
    the tail beyond it (probability 1/2048) is cut off."""

    has_rsample = True
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all("Exponential", rate=rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def mode(self):
        """0."""
        return self.rate.new_zeros(self._batch_shape)

    @property
    def stddev(self):
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def variance(self):
        """1 / rate^2."""
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        """-log(1 - u) / rate: gradients reach rate. The standard draw of u = 0 is raised from 0 to 2^-14 (f16's
        tiny): draws are positive, as PyTorch's exponential_ (a Weibull's E^(1/k) has an infinite derivative in k
        at E = 0)."""
        u = rand(self._extended_shape(sample_shape), device=self.rate.device)
        return (-(-u).log1p()).clamp(min=finfo(u.dtype).tiny) / self.rate

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """log(rate) - rate value."""
        value = self._value(value, self.rate, "log_prob")
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        """1 - exp(-rate value)."""
        value = self._value(value, self.rate, "cdf")
        return -(-self.rate * value).expm1()

    def icdf(self, value):
        """-log(1 - value) / rate."""
        value = self._value(value, self.rate, "icdf")
        return -(-value).log1p() / self.rate

    def entropy(self):
        """1 - log(rate)."""
        return 1.0 - self.rate.log()
