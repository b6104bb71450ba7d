"""Normal: the Gaussian of mean loc and standard deviation scale, as torch.distributions.Normal (sample,
rsample, log_prob, entropy, cdf, icdf; loc and scale tensors or numbers, broadcast together)."""
import math

from ..autograd.grad_mode import no_grad
from ..ops.elementwise import erf, erfinv, log
from ..ops.random import randn
from . import constraints
from .distribution import Distribution, MeanAndModeAtLoc, broadcast_all


class Normal(MeanAndModeAtLoc, Distribution):
    """Normal(loc, scale): independent Gaussians over the broadcast shape of loc and scale."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Normal", loc=loc, scale=scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def stddev(self):
        """scale."""
        return self.scale

    @property
    def variance(self):
        """scale squared."""
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc + scale * eps with eps standard normal: gradients reach loc and scale."""
        return self.loc + randn(self._extended_shape(sample_shape), device=self.loc.device) * self.scale

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """The log-density at value."""
        value = self._value(value, self.loc, "log_prob")
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - log(self.scale) - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        """0.5 + 0.5 log(2 pi) + log(scale)."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)

    def cdf(self, value):
        """P(X <= value)."""
        value = self._value(value, self.loc, "cdf")
        return 0.5 * (1 + erf((value - self.loc) * (1.0 / math.sqrt(2)) / self.scale))

    def icdf(self, value):
        """The value whose cdf is the given probability."""
        value = self._value(value, self.loc, "icdf")
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)
