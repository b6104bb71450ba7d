"""Cauchy and HalfCauchy, as torch.distributions.Cauchy and HalfCauchy (sample, rsample, log_prob, entropy, cdf,
icdf, mean, mode, variance)."""
import math

from ..autograd.grad_mode import no_grad
from ..ops.random import rand
from . import constraints
from .distribution import Distribution, broadcast_all
from .folded import FoldedAtZero


class Cauchy(Distribution):
    """Cauchy(loc, scale): density 1 / (pi scale (1 + ((x - loc) / scale)^2)). Draws are loc + scale tan(pi v / 2)
    with v an odd multiple of 2^-11 in (-1, 1) from tl.rand, so |draws - loc| stay below ~1304 scale: the tails
    beyond (probability 2^-11 / (pi / 2)... about 5e-4) are cut off."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Cauchy", loc=loc, scale=scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def mean(self):
        """Undefined: NaN of batch_shape, as in PyTorch."""
        return self.loc.new_full(self._batch_shape, math.nan)

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """Infinite, as in PyTorch."""
        return self.loc.new_full(self._batch_shape, math.inf)

    def rsample(self, sample_shape=()):
        """loc + scale tan(pi v / 2): gradients reach loc and scale."""
        v = rand(self._extended_shape(sample_shape), device=self.loc.device) * 2 - (1 - 2.0 ** -11)
        return self.loc + self.scale * (v * (math.pi / 2)).tan()

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """-log(pi) - log(scale) - log1p(((value - loc) / scale)^2)."""
        value = self._value(value, self.loc, "log_prob")
        return -math.log(math.pi) - self.scale.log() - ((value - self.loc) / self.scale).square().log1p()

    def cdf(self, value):
        """atan((value - loc) / scale) / pi + 1/2."""
        value = self._value(value, self.loc, "cdf")
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        """loc + scale tan(pi (value - 1/2))."""
        value = self._value(value, self.loc, "icdf")
        return ((value - 0.5) * math.pi).tan() * self.scale + self.loc

    def entropy(self):
        """log(4 pi) + log(scale)."""
        return math.log(4 * math.pi) + self.scale.log()


class HalfCauchy(FoldedAtZero):
    """HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""

    family = Cauchy

    @property
    def mean(self):
        """Infinite."""
        return self.scale.new_full(self._batch_shape, math.inf)

    @property
    def variance(self):
        """Infinite."""
        return self.scale.new_full(self._batch_shape, math.inf)
