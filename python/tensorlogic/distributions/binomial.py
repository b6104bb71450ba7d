"""The counts of Bernoulli trials, as torch.distributions.Binomial, Geometric and NegativeBinomial (sample,
log_prob, mean, mode, variance; Binomial's entropy and enumerate_support); draws are numpy's exact ones on the host
(host_random)."""
import numpy as np

from ..creation import arange
from ..nn.activation_functions import logsigmoid
from ..nn.loss_functions import binary_cross_entropy_with_logits
from ..ops.special import lgamma
from . import constraints
from .bernoulli import BinaryProbs
from .host_random import draw, host64


def _log_binomial_coefficient(n, k):
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


class Binomial(BinaryProbs):
    """Binomial(total_count=1, probs=None, logits=None): the number of successes in total_count trials (total_count,
    probs or logits broadcast)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        given, self.total_count = self._probs_or_logits(probs, logits, total_count=total_count)
        super().__init__(given.shape, (), validate_args)

    @property
    def support(self):
        """The integers 0..total_count."""
        return constraints.integer_interval(0, self.total_count)

    @property
    def param_shape(self):
        """The shape of probs and logits: batch_shape."""
        return self._batch_shape

    @property
    def mean(self):
        """total_count probs."""
        return self.total_count * self.probs

    @property
    def mode(self):
        """floor((total_count + 1) probs), at most total_count."""
        return ((self.total_count + 1) * self.probs).floor().minimum(self.total_count)

    @property
    def variance(self):
        """total_count probs (1 - probs)."""
        return self.total_count * self.probs * self._one_minus_probs()

    def sample(self, sample_shape=()):
        """Counts of shape sample_shape + batch_shape (NaN where total_count is not a non-negative integer)."""
        shape = self._extended_shape(sample_shape)
        n, p = host64(self.total_count, shape), host64(self.probs, shape)
        valid = (n >= 0) & (n % 1 == 0) & (p >= 0) & (p <= 1)
        return draw(lambda g, n, p: g.binomial(n.astype(np.int64), p), valid, shape, self.total_count, n, p)

    def log_prob(self, value):
        """log C(n, k) + k log(p) + (n - k) log(1 - p): the last two from the logits as log-sigmoids (both <= 0, so
        nothing cancels between them)."""
        value = self._value(value, self.total_count, "log_prob")
        n, logits = self.total_count, self.logits
        return (_log_binomial_coefficient(n, value) + value * logsigmoid(logits)
                + (n - value) * logsigmoid(-logits))

    def entropy(self):
        """-sum_k P(k) log P(k) over the support (total_count must be the same across the batch, as in PyTorch)."""
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        """0..total_count along a new leading dimension (one total_count for the whole batch)."""
        counts = host64(self.total_count, self._batch_shape)
        top = int(counts.max()) if counts.size else 0
        if counts.size and counts.min() != top:
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = arange(1 + top, device=self.total_count.device).to(self.total_count.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if self._flag(expand, "expand") else values


class Geometric(BinaryProbs):
    """Geometric(probs=None, logits=None): the number of failures before the first success."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        (given,) = self._probs_or_logits(probs, logits)
        super().__init__(given.shape, (), validate_args)
        if "probs" in self.__dict__:
            self._check(self.probs, lambda: self.probs > 0, "probs must be positive")

    @property
    def mean(self):
        """1 / probs - 1."""
        return self.probs.reciprocal() - 1

    @property
    def mode(self):
        """0."""
        return self.probs.new_zeros(self._batch_shape)

    @property
    def variance(self):
        """(1 / probs - 1) / probs."""
        return (self.probs.reciprocal() - 1) / self.probs

    def sample(self, sample_shape=()):
        """Counts of shape sample_shape + batch_shape (numpy's geometric counts trials, one more)."""
        shape = self._extended_shape(sample_shape)
        p = host64(self.probs, shape)
        return draw(lambda g, p: g.geometric(p) - 1, (p > 0) & (p <= 1), shape, self.probs, p)

    def log_prob(self, value):
        """value log(1 - p) + log(p); a value of 0 adds nothing, also where p = 1."""
        value = self._value(value, self.probs, "log_prob")
        if self._given == "logits":
            return value * logsigmoid(-self.logits) + logsigmoid(self.logits)
        p = self.probs
        return (value * (-p).log1p()).masked_fill(value == 0, 0.0) + p.log()

    def entropy(self):
        """The Bernoulli's entropy over probs."""
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs


class NegativeBinomial(BinaryProbs):
    """NegativeBinomial(total_count, probs=None, logits=None): the number of successes (probability probs each)
    before total_count failures; total_count may be any positive real (a Gamma-Poisson mixture)."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0), "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        given, self.total_count = self._probs_or_logits(probs, logits, total_count=total_count)
        super().__init__(given.shape, (), validate_args)

    @property
    def param_shape(self):
        """The shape of probs and logits: batch_shape."""
        return self._batch_shape

    @property
    def mean(self):
        """total_count exp(logits) (= total_count p / (1 - p))."""
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        """floor((total_count - 1) exp(logits)), at least 0."""
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        """mean / (1 - p)."""
        return self.mean / self._one_minus_probs()

    def sample(self, sample_shape=()):
        """Counts of shape sample_shape + batch_shape: numpy's negative binomial counts failures before n successes
        of probability q, so it is asked with q = 1 - probs; total_count 0 draws 0."""
        shape = self._extended_shape(sample_shape)
        n, q = host64(self.total_count, shape), host64(self._one_minus_probs(), shape)
        valid = (n >= 0) & (q > 0) & (q <= 1)
        return draw(lambda g, n, q: np.where(n > 0, g.negative_binomial(np.where(n > 0, n, 1.0), q), 0.0), valid,
                    shape, self.total_count, n, q)

    def log_prob(self, value):
        """n log(1 - p) + k log(p) + lgamma(n + k) - lgamma(k + 1) - lgamma(n) (the normaliser 0 where n + k = 0)."""
        value = self._value(value, self.total_count, "log_prob")
        n = self.total_count
        unnormalised = n * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normaliser = (lgamma(n + value) - lgamma(1.0 + value) - lgamma(n)).masked_fill(n + value == 0, 0.0)
        return unnormalised + normaliser
