"""Bernoulli: 1 with probability probs, else 0, as torch.distributions.Bernoulli (probs or logits; sample,
log_prob, entropy, mean, mode, variance, enumerate_support)."""
import math

from ..autograd.grad_mode import no_grad
from ..nn.loss_functions import binary_cross_entropy_with_logits
from ..ops.random import rand
from ..ops.elementwise import sigmoid
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, broadcast_all, clamp_probs


class BinaryProbs(Distribution):
    """The base of the distributions of a success probability given as probs or as logits (Bernoulli, Binomial,
    Geometric, NegativeBinomial, ContinuousBernoulli): exactly one is given; the other is computed from it when
    first read (torch's lazy_property)."""

    def _probs_or_logits(self, probs, logits, **others):
        """The given one of probs and logits (stored, with its name in _given) and the tensors `others`, broadcast
        together (in that order)."""
        name = type(self).__name__
        if (probs is None) == (logits is None):
            raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both")
        key = "probs" if probs is not None else "logits"
        given, *rest = broadcast_all(name, **{key: probs if probs is not None else logits}, **others)
        self.__dict__[key], self._given = given, key
        return (given, *rest)

    def __getattr__(self, name):
        if name == "probs" and "logits" in self.__dict__:
            self.probs = sigmoid(self.__dict__["logits"])
            return self.probs
        if name == "logits" and "probs" in self.__dict__:
            p = clamp_probs(self.__dict__["probs"])
            self.logits = p.log() - (-p).log1p()
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _one_minus_probs(self):
        """1 - probs; from logits sigmoid(-logits), exact where probs rounds near 1."""
        return sigmoid(-self.logits) if self._given == "logits" else 1 - self.probs


class Bernoulli(BinaryProbs):
    """Bernoulli(probs=None, logits=None): probs in [0, 1] or logits (log-odds); exactly one is given, a tensor or
    a number. Samples are float16 zeros and ones of sample_shape + batch_shape."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        (given,) = self._probs_or_logits(probs, logits)
        super().__init__(given.shape, (), validate_args)

    @property
    def param_shape(self):
        """The shape of probs and logits: batch_shape."""
        return self._batch_shape

    @property
    def mean(self):
        """probs."""
        return self.probs

    @property
    def mode(self):
        """1 where probs > 1/2, 0 where below, NaN where equal (as PyTorch)."""
        p = self.probs
        return (p >= 0.5).float().masked_fill(p == 0.5, math.nan)

    @property
    def variance(self):
        """probs (1 - probs); from logits, 1 - probs is sigmoid(-logits), exact where probs rounds near 1."""
        return self.probs * self._one_minus_probs()

    def sample(self, sample_shape=()):
        """Zeros and ones (float16) of shape sample_shape + batch_shape, without gradient."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            p = self.probs
            return (rand(shape, device=p.device) < p.expand(shape)).float()

    def log_prob(self, value):
        """value log p + (1 - value) log(1 - p), from the logits (stable where p is near 0 or 1)."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Bernoulli.log_prob: value must be a tensor, got {type(value).__name__}")
        value = self._value(value, self.logits, "log_prob")
        logits, value = broadcast_all("Bernoulli", logits=self.logits, value=value.to(self.logits.dtype))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        """-(p log p + (1 - p) log(1 - p))."""
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        """0 and 1 along a new leading dimension, expanded over batch_shape when expand."""
        values = self.probs.new_zeros(2)
        values[1] = 1.0
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if self._flag(expand, "expand") else values
