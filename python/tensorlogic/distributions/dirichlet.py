"""Dirichlet and Beta (the Dirichlet over two categories), as torch.distributions.Dirichlet and Beta (sample,
rsample, log_prob, entropy, mean, mode, variance). Draws are normalised Gamma draws made on the host (gamma_sampler);
rsample's gradient reaches the concentrations along PyTorch's implicit field (implicit_grads.beta_grad)."""
import numpy as np

from ..creation import tensor
from ..ops.shape import stack
from ..ops.special import digamma, lgamma, xlogy
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, broadcast_all
from .gamma_sampler import ONE_BELOW, TINY, rsample_dirichlet, standard_dirichlet
from .host_random import host64


class Dirichlet(Distribution):
    """Dirichlet(concentration): density prod(x_i^(a_i - 1)) / B(a) on the simplex of the last dimension of
    concentration (positive, at least one-dimensional); the leading dimensions are the batch. Draws are f16 on the
    concentration's device, each coordinate clamped to [2**-14, 1 - 2**-11]."""

    has_rsample = True
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration, validate_args=None):
        if not isinstance(concentration, Tensor):
            raise TypeError(f"Dirichlet: concentration must be a tensor, got {type(concentration).__name__}")
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args)

    @property
    def mean(self):
        """a / sum(a)."""
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(a - 1) / (sum(a) - K) where every a > 1; see dirichlet_mode for the rest."""
        return dirichlet_mode(self.concentration)

    @property
    def variance(self):
        """a (a0 - a) / (a0^2 (a0 + 1)), a0 = sum(a)."""
        a = self.concentration
        a0 = a.sum(-1, keepdim=True)
        return a * (a0 - a) / (a0.pow(2) * (a0 + 1))

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + batch_shape + event_shape, without gradient (host-computed)."""
        shape = self._extended_shape(sample_shape)
        x = np.clip(standard_dirichlet(host64(self.concentration, shape)), TINY, ONE_BELOW)
        return tensor(x.astype(np.float16), device=self.concentration.device)

    def rsample(self, sample_shape=()):
        """Draws through which gradients reach the concentration (see the module)."""
        return rsample_dirichlet(self.concentration.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        """sum((a - 1) log x) + lgamma(a0) - sum(lgamma(a))."""
        value = self._value(value, self.concentration, "log_prob")
        a = self.concentration
        return xlogy(a - 1.0, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self):
        """log B(a) + (a0 - K) digamma(a0) - sum((a - 1) digamma(a))."""
        a = self.concentration
        k, a0 = a.shape[-1], a.sum(-1)
        return (lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((a - 1.0) * digamma(a)).sum(-1))


def dirichlet_mode(a):
    """The mode of Dirichlet(a), as PyTorch's: max(a - 1, 0) normalised; where every a < 1 (the density grows
    without bound towards every vertex) the first vertex, which PyTorch picks as the argmax of that all-zero excess."""
    excess = (a - 1).clamp(min=0)
    mode = excess / excess.sum(-1, keepdim=True)
    first = (excess.new_ones(a.shape[-1:]).cumsum(-1) == 1).to(a.dtype)
    return mode.where(~(a < 1).all(-1, keepdim=True), first)


class Beta(Distribution):
    """Beta(concentration1, concentration0): density x^(a-1) (1-x)^(b-1) / B(a, b) on (0, 1) with a =
    concentration1, b = concentration0 (tensors or numbers, broadcast); the Dirichlet of (a, b) read at its first
    coordinate. Draws are f16 on the parameters' device, clamped to [2**-14, 1 - 2**-11]."""

    has_rsample = True
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(
            "Beta", concentration1=concentration1, concentration0=concentration0)
        self._dirichlet = Dirichlet(stack([self.concentration1, self.concentration0], -1), validate_args=validate_args)
        super().__init__(self.concentration1.shape, (), validate_args)

    def expand(self, batch_shape, _instance=None):
        """This Beta and its Dirichlet expanded to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new._dirichlet = self._dirichlet.expand(new.batch_shape)
        return new

    @property
    def mean(self):
        """a / (a + b)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """(a - 1) / (a + b - 2) where a, b > 1; otherwise as Dirichlet's mode."""
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        """a b / ((a + b)^2 (a + b + 1))."""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total ** 2 * (total + 1))

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + batch_shape, without gradient (host-computed; see the class)."""
        return self._dirichlet.sample(sample_shape)[..., 0]

    def rsample(self, sample_shape=()):
        """Draws through which gradients reach both concentrations."""
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        """(a - 1) log(value) + (b - 1) log(1 - value) - log B(a, b)."""
        value = self._value(value, self.concentration1, "log_prob")
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self):
        """log B(a, b) - (a - 1) digamma(a) - (b - 1) digamma(b) + (a + b - 2) digamma(a + b)."""
        return self._dirichlet.entropy()

    def _log_normalizer(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)
