"""Uniform: the uniform distribution on [low, high), as torch.distributions.Uniform (sample, rsample, log_prob,
entropy, cdf, icdf, mean, variance)."""
from ..autograd.grad_mode import no_grad
from ..dtypes import float16
from ..ops.random import rand
from . import constraints
from .distribution import Distribution, broadcast_all


class Uniform(Distribution):
    """Uniform(low, high): independent uniforms over the broadcast shape of low and high (tensors or numbers).
    Draws are low + u (high - low) with u from tl.rand: multiples of 2**-11 in [0, 1)."""

    has_rsample = True
    arg_constraints = {"low": constraints.dependent(is_discrete=False, event_dim=0),
                       "high": constraints.dependent(is_discrete=False, event_dim=0)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all("Uniform", low=low, high=high)
        super().__init__(self.low.shape, (), validate_args)
        self._check(self.low, lambda: self.low < self.high, "low must be less than high")

    @property
    def support(self):
        """[low, high)."""
        return constraints.half_open_interval(self.low, self.high)

    @property
    def mean(self):
        """(low + high) / 2."""
        return (self.low + self.high) / 2

    @property
    def mode(self):
        """Undefined for a uniform: NaN of batch_shape, as in PyTorch."""
        return self.low.new_full(self._batch_shape, float("nan"), dtype=float16)  # (low may be an integer tensor)

    @property
    def stddev(self):
        """(high - low) / sqrt(12)."""
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        """(high - low)^2 / 12."""
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        """low + u (high - low): gradients reach low and high."""
        u = rand(self._extended_shape(sample_shape), device=self.low.device)
        return self.low + u * (self.high - self.low)

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """-log(high - low) inside [low, high), -inf outside."""
        value = self._value(value, self.low, "log_prob")
        inside = (self.low <= value) & (self.high > value)
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()

    def cdf(self, value):
        """(value - low) / (high - low), clamped to [0, 1]."""
        value = self._value(value, self.low, "cdf")
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        """low + value (high - low)."""
        value = self._value(value, self.low, "icdf")
        return self.low + value * (self.high - self.low)

    def entropy(self):
        """log(high - low)."""
        return (self.high - self.low).log()
