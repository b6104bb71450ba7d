"""Gamma, Chi2 and InverseGamma, as torch.distributions' (sample, rsample, log_prob, entropy, cdf, mean, mode,
variance). Draws are made on the host (gamma_sampler: Marsaglia-Tsang in float64 on the Philox stream) and copied
to the parameters' device; rsample's gradient reaches the concentration implicitly (implicit_grads), as PyTorch's."""
import math

import numpy as np

from ..creation import tensor
from ..ops.special import digamma, lgamma, xlogy
from . import constraints
from .distribution import Distribution, broadcast_all, clamp_data
from .gamma_sampler import TINY, regularized_gamma_tensor, rsample_standard_gamma, standard_gamma
from .host_random import host64
from .transformed_distribution import TransformedDistribution
from .transforms_elementwise import PowerTransform


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0 (a = concentration),
    over the broadcast shape of concentration and rate (tensors or numbers). sample() draws on the host in float64
    and returns float16 on the parameters' device, clamped below at f16's smallest normal."""

    has_rsample = True
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(type(self).__name__, concentration=concentration, rate=rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        """concentration / rate."""
        return self.concentration / self.rate

    @property
    def mode(self):
        """(concentration - 1) / rate, clamped at 0."""
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        """concentration / rate^2."""
        return self.concentration / self.rate ** 2

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + batch_shape, without gradient (host-computed; see the class)."""
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(host64(self.concentration, shape)) / host64(self.rate, shape)
        return tensor(np.maximum(x, TINY).astype(np.float16), device=self.rate.device)

    def rsample(self, sample_shape=()):
        """Draws whose gradients reach rate (x = g / rate) and concentration (through the standard draw g, whose
        derivative dg/da = -(dF/da) / pdf keeps its CDF value F(g; a) fixed)."""
        shape = self._extended_shape(sample_shape)
        x = rsample_standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return clamp_data(x, min=TINY)

    def log_prob(self, value):
        """a log(rate) + (a - 1) log(value) - rate value - lgamma(a)."""
        value = self._value(value, self.rate, "log_prob")
        a = self.concentration
        return xlogy(a, self.rate) + xlogy(a - 1, value) - self.rate * value - lgamma(a)

    def cdf(self, value):
        """P(concentration, rate value), the regularised lower incomplete gamma, computed on the host in float64:
        differentiable in value and rate, not in concentration (as PyTorch's, through torch.special.gammainc)."""
        value = self._value(value, self.rate, "cdf")
        return regularized_gamma_tensor(self.concentration, self.rate * value)

    def entropy(self):
        """a - log(rate) + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1.0 - a) * digamma(a)


class Chi2(Gamma):
    """Chi2(df): the Gamma of concentration df / 2 and rate 1/2."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all("Chi2", df=df)
        self.df = df
        super().__init__(0.5 * df, 0.5, validate_args)

    def expand(self, batch_shape, _instance=None):
        """df, concentration and rate expanded to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new.concentration, new.rate = (t.expand(new.batch_shape) for t in (self.concentration, self.rate))
        return new



class InverseGamma(TransformedDistribution):
    """InverseGamma(concentration, rate): 1 / X for X ~ Gamma(concentration, rate)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        super().__init__(Gamma(concentration, rate, validate_args=False), PowerTransform(-1.0), validate_args)

    @property
    def concentration(self):
        """The concentration of the Gamma inverted."""
        return self.base_dist.concentration

    @property
    def rate(self):
        """The rate of the Gamma inverted."""
        return self.base_dist.rate

    @property
    def mean(self):
        """rate / (concentration - 1) where concentration > 1, infinite elsewhere."""
        return (self.rate / (self.concentration - 1)).masked_fill(self.concentration <= 1, math.inf)

    @property
    def mode(self):
        """rate / (concentration + 1)."""
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        """rate^2 / ((a - 1)^2 (a - 2)) where a = concentration > 2, infinite elsewhere."""
        a = self.concentration
        return (self.rate.square() / ((a - 1).square() * (a - 2))).masked_fill(a <= 2, math.inf)

    def entropy(self):
        """a + log(rate) + lgamma(a) - (1 + a) digamma(a)."""
        a = self.concentration
        return a + self.rate.log() + lgamma(a) - (1 + a) * digamma(a)
