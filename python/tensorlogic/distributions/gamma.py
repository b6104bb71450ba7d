"""Gamma and Beta, as torch.distributions.Gamma and Beta (sample, log_prob, entropy, mean, mode, variance). Sampling
runs on the host (gamma_sampler: Marsaglia-Tsang in float64 on the Philox stream) and is copied to the parameters'
device; there is no rsample (PyTorch's implicit reparameterisation of the Gamma is not implemented)."""
import numpy as np

from ..creation import tensor
from ..ops.special import digamma, lgamma, xlogy
from .distribution import Distribution, broadcast_all
from .gamma_sampler import standard_gamma

_TINY = 2.0 ** -14  # f16's smallest normal: draws are clamped to it, as torch clamps to finfo.tiny
_ONE_BELOW = 1.0 - 2.0 ** -11


def _host(t, shape):
    """t expanded to shape, as a float64 numpy array."""
    return np.broadcast_to(t.detach().cpu().numpy().astype(np.float64), shape)


class Gamma(Distribution):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0 (a = concentration),
    over the broadcast shape of concentration and rate (tensors or numbers). sample() draws on the host in float64
    and returns float16 on the parameters' device, clamped below at f16's smallest normal."""

    arg_constraints_names = ("concentration", "rate")

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all("Gamma", concentration=concentration, rate=rate)
        super().__init__(self.rate.shape, (), validate_args)
        self._check(self.concentration > 0, "concentration must be positive")
        self._check(self.rate > 0, "rate must be positive")

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
        x = standard_gamma(_host(self.concentration, shape)) / _host(self.rate, shape)
        return tensor(np.maximum(x, _TINY).astype(np.float16), device=self.rate.device)

    def log_prob(self, value):
        """a log(rate) + (a - 1) log(value) - rate value - lgamma(a)."""
        value = self._value(value, self.rate, "log_prob")
        self._check(value > 0, "log_prob's values must be positive")
        a = self.concentration
        return xlogy(a, self.rate) + xlogy(a - 1, value) - self.rate * value - lgamma(a)

    def entropy(self):
        """a - log(rate) + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1.0 - a) * digamma(a)


class Beta(Distribution):
    """Beta(concentration1, concentration0): density x^(a-1) (1-x)^(b-1) / B(a, b) on (0, 1) with a =
    concentration1, b = concentration0 (tensors or numbers, broadcast). sample() draws X / (X + Y) from two host
    Gamma draws in float64 and returns float16 on the parameters' device, clamped to [2**-14, 1 - 2**-11]."""

    arg_constraints_names = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(
            "Beta", concentration1=concentration1, concentration0=concentration0)
        super().__init__(self.concentration1.shape, (), validate_args)
        self._check(self.concentration1 > 0, "concentration1 must be positive")
        self._check(self.concentration0 > 0, "concentration0 must be positive")

    @property
    def mean(self):
        """a / (a + b)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """(a - 1) / (a + b - 2) (defined where a, b > 1)."""
        return (self.concentration1 - 1) / (self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self):
        """a b / ((a + b)^2 (a + b + 1))."""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total ** 2 * (total + 1))

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + batch_shape, without gradient (host-computed; see the class)."""
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(_host(self.concentration1, shape))
        y = standard_gamma(_host(self.concentration0, shape))
        ratio = np.clip(x / (x + y), _TINY, _ONE_BELOW)
        return tensor(ratio.astype(np.float16), device=self.concentration1.device)

    def _log_normalizer(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)

    def log_prob(self, value):
        """(a - 1) log(value) + (b - 1) log(1 - value) - log B(a, b)."""
        value = self._value(value, self.concentration1, "log_prob")
        self._check((value > 0) & (value < 1), "log_prob's values must lie in (0, 1)")
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - self._log_normalizer()

    def entropy(self):
        """log B(a, b) - (a - 1) digamma(a) - (b - 1) digamma(b) + (a + b - 2) digamma(a + b)."""
        a, b = self.concentration1, self.concentration0
        return (self._log_normalizer() - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                + (a + b - 2) * digamma(a + b))
