"""Normal: the Gaussian of mean loc and standard deviation scale, as torch.distributions.Normal (sample,
rsample, log_prob, entropy, cdf, icdf; loc and scale tensors or numbers, broadcast together)."""
import math

from ..autograd.grad_mode import no_grad
from ..ops.elementwise import erf, erfinv, log
from ..ops.random import randn
from ..tensor import Tensor
from .distribution import Distribution


class Normal(Distribution):
    """Normal(loc, scale): independent Gaussians over the broadcast shape of loc and scale."""

    has_rsample = True
    arg_constraints_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        tensors = [t for t in (loc, scale) if isinstance(t, Tensor)]
        if tensors:
            like = tensors[0]
            loc = loc if isinstance(loc, Tensor) else like.new_full((), float(loc))
            scale = scale if isinstance(scale, Tensor) else like.new_full((), float(scale))
            loc, scale = loc.broadcast_to((loc + scale).shape), scale.broadcast_to((loc + scale).shape)
            batch_shape = tuple(loc.shape)
        else:
            batch_shape = ()
        if validate_args and (bool((scale <= 0).any()) if isinstance(scale, Tensor) else scale <= 0):
            raise ValueError("Normal: scale must be positive")
        self.loc, self.scale = loc, scale
        super().__init__(batch_shape, (), validate_args)

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def stddev(self):
        """scale."""
        return self.scale

    @property
    def variance(self):
        """scale squared."""
        return self.scale ** 2

    def _noise(self, sample_shape):
        device = self.loc.device if isinstance(self.loc, Tensor) else None
        return randn(self._extended_shape(sample_shape), device=device)

    def rsample(self, sample_shape=()):
        """loc + scale * eps with eps standard normal: gradients reach loc and scale."""
        return self.loc + self._noise(sample_shape) * self.scale

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        """The log-density at value."""
        var = self.scale ** 2
        log_scale = math.log(self.scale) if not isinstance(self.scale, Tensor) else log(self.scale)
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        """0.5 + 0.5 log(2 pi) + log(scale)."""
        log_scale = math.log(self.scale) if not isinstance(self.scale, Tensor) else log(self.scale)
        return 0.5 + 0.5 * math.log(2 * math.pi) + log_scale

    def cdf(self, value):
        """P(X <= value)."""
        return 0.5 * (1 + erf((value - self.loc) * (1.0 / math.sqrt(2)) / self.scale))

    def icdf(self, value):
        """The value whose cdf is the given probability."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)
