"""The categorical counts and one-hot draws, as torch.distributions.Multinomial, OneHotCategorical and
OneHotCategoricalStraightThrough (sample, log_prob, entropy, mean, mode, variance, enumerate_support; the
straight-through rsample)."""
import numbers

import numpy as np

from ..creation import eye
from ..dtypes import float16
from ..nn.functional import one_hot
from ..ops.special import lgamma
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .host_random import draw, host64
from .inner_params import InnerParams


class Multinomial(InnerParams, Distribution):
    """Multinomial(total_count=1, probs=None, logits=None): counts over the K categories of the last dimension of
    probs or logits from total_count draws (one int for the whole batch, as in PyTorch)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, numbers.Integral) or isinstance(total_count, bool):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        if total_count < 0:
            raise ValueError(f"Multinomial: total_count must be non-negative, got {total_count}")
        self.total_count = int(total_count)
        self._params = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=self.total_count, probs=self.probs)
        super().__init__(self._params.batch_shape, self._params.param_shape[-1:], validate_args)

    def expand(self, batch_shape, _instance=None):
        """The categorical (and its marginal Binomials) expanded to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new._binomial = Binomial(total_count=self.total_count, probs=new._params.probs)
        return new

    @property
    def support(self):
        """Non-negative integer vectors summing to at most total_count."""
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        """total_count probs."""
        return self.probs * self.total_count

    @property
    def variance(self):
        """total_count probs (1 - probs)."""
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """Counts of shape sample_shape + batch_shape + (K,), drawn on the host."""
        shape = self._extended_shape(sample_shape)
        p = host64(self.probs, shape)
        p = p / p.sum(-1, keepdims=True)
        rows = np.isfinite(p).all(-1) & (p >= 0).all(-1)
        return draw(lambda g, p: g.multinomial(self.total_count, p), rows, shape, self.probs, p)

    def log_prob(self, value):
        """lgamma(n + 1) - sum(lgamma(x + 1)) + sum(x logits) (a category of probability 0 drawn 0 times adds 0)."""
        value = self._value(value, self.probs, "log_prob")
        logits = self.logits
        powers = (logits * value).masked_fill((value == 0) & (logits == -np.inf), 0.0).sum(-1)
        return lgamma(value.sum(-1) + 1) - lgamma(value + 1).sum(-1) + powers

    def entropy(self):
        """n H(categorical) - lgamma(n + 1) + sum_k sum_{x=1..n} P(X_k = x) lgamma(x + 1), X_k the count of category
        k (a Binomial)."""
        n = self.total_count
        support = self._binomial.enumerate_support(expand=False)[1:]  # 1..n along a leading dimension
        expected = (self._binomial.log_prob(support).exp() * lgamma(support + 1)).sum((0, -1))
        return n * self._params.entropy() - float(np.log(np.arange(1, n + 1)).sum()) + expected


class OneHotCategorical(InnerParams, Distribution):
    """OneHotCategorical(probs=None, logits=None): one-hot vectors over the last dimension of probs or logits (a
    Categorical's draw, one-hot encoded as f16)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._params = Categorical(probs, logits)
        super().__init__(self._params.batch_shape, self._params.param_shape[-1:], validate_args)

    @property
    def mean(self):
        """probs."""
        return self.probs

    @property
    def mode(self):
        """The one-hot vector of the most probable category."""
        return _one_hot(self.probs.argmax(-1), self._event_shape[0])

    @property
    def variance(self):
        """probs (1 - probs)."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """One-hot f16 vectors of shape sample_shape + batch_shape + (K,)."""
        return _one_hot(self._params.sample(sample_shape), self._event_shape[0])

    def log_prob(self, value):
        """The log-probability of the category each one-hot value marks."""
        value = self._value(value, self.probs, "log_prob")
        return self._params.log_prob(value.argmax(-1))

    def entropy(self):
        """The categorical's entropy."""
        return self._params.entropy()

    def enumerate_support(self, expand=True):
        """The K one-hot vectors along a new leading dimension, expanded over batch_shape when expand."""
        k = self._event_shape[0]
        values = eye(k, device=self.probs.device).view((k,) + (1,) * len(self._batch_shape) + (k,))
        return values.expand((k,) + self._batch_shape + (k,)) if self._flag(expand, "expand") else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose rsample passes gradients straight through: the one-hot draw plus probs - probs
    (detached), so the draw's gradient reaches probs (Bengio et al., 2013)."""

    has_rsample = True

    def rsample(self, sample_shape=()):
        """The one-hot draw, with the gradient of probs."""
        draws = self.sample(sample_shape)
        probs = self._params.probs
        return draws + (probs - probs.detach())


def _one_hot(indices, k):
    return one_hot(indices, k).to(float16)
