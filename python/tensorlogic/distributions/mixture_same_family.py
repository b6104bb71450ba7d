"""MixtureSameFamily: a mixture whose components are one batched distribution and whose weights are a Categorical,
as torch.distributions.MixtureSameFamily (sample, log_prob, cdf, mean, variance)."""
from ..ops.rows import log_softmax
from .categorical import Categorical
from .distribution import Distribution, _sample_shape


class MixtureSameFamily(Distribution):
    """MixtureSameFamily(mixture_distribution, component_distribution): the rightmost batch dimension of
    component_distribution (K components) is mixed with the weights of the Categorical mixture_distribution, whose
    batch shape broadcasts with the components' other batch dimensions."""

    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("The Mixture distribution needs to be an instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of torch.distributions.Distribution")
        mixture_batch = mixture_distribution.batch_shape
        component_batch = component_distribution.batch_shape[:-1]
        for m, c in zip(reversed(mixture_batch), reversed(component_batch)):
            if m != 1 and c != 1 and m != c:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible with "
                                 f"`component_distribution.batch_shape`({component_batch})")
        k_mixture = mixture_distribution.param_shape[-1]
        k_component = component_distribution.batch_shape[-1] if component_distribution.batch_shape else None
        if k_mixture != k_component:
            raise ValueError(f"`mixture_distribution component` ({k_mixture}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({k_component})")
        self._mixture_distribution, self._component_distribution = mixture_distribution, component_distribution
        self._num_component = k_mixture
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_batch, component_distribution.event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        """The mixture and the components expanded to batch_shape."""
        batch_shape = _sample_shape(batch_shape, "MixtureSameFamily")
        return MixtureSameFamily(self._mixture_distribution.expand(batch_shape),
                                 self._component_distribution.expand(batch_shape + (self._num_component,)),
                                 validate_args=False)

    @property
    def support(self):
        """The components' support."""
        return self._component_distribution.support

    @property
    def mixture_distribution(self):
        """The Categorical of the weights."""
        return self._mixture_distribution

    @property
    def component_distribution(self):
        """The batched components."""
        return self._component_distribution

    def _pad(self, x):
        """x with a components dimension before the event dimensions."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _weights(self):
        """The mixture's probabilities, with a 1 for each event dimension."""
        probs = self._mixture_distribution.probs
        return probs.reshape(probs.shape + (1,) * self._event_ndims)

    @property
    def mean(self):
        """sum_k w_k mean_k."""
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        """The law of total variance: sum_k w_k var_k + sum_k w_k (mean_k - mean)^2."""
        w, dim = self._weights(), -1 - self._event_ndims
        means = self._component_distribution.mean
        spread = (means - self._pad(self.mean)).square()
        return (w * self._component_distribution.variance).sum(dim) + (w * spread).sum(dim)

    def cdf(self, x):
        """sum_k w_k F_k(x)."""
        x = self._value(x, self._mixture_distribution.probs, "cdf")
        return (self._component_distribution.cdf(self._pad(x)) * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        """logsumexp_k(log w_k + log p_k(x))."""
        x = self._value(x, self._mixture_distribution.probs, "log_prob")
        log_px = self._component_distribution.log_prob(self._pad(x))
        return (log_px + log_softmax(self._mixture_distribution.logits, -1)).logsumexp(-1)

    def sample(self, sample_shape=()):
        """A component index per draw, then that component's draw (no gradient)."""
        sample_shape = _sample_shape(sample_shape, "MixtureSameFamily")
        index = self._mixture_distribution.sample(sample_shape)  # sample_shape + batch_shape
        draws = self._component_distribution.sample(sample_shape)  # ... + (K,) + event_shape
        index = index.reshape(index.shape + (1,) * (1 + self._event_ndims))
        index = index.expand(index.shape[:len(index.shape) - self._event_ndims] + self._event_shape)
        return draws.gather(-1 - self._event_ndims, index).squeeze(-1 - self._event_ndims)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  {self._component_distribution!r})")
