"""Categorical: a distribution over the indices 0..K-1 of the last dimension of probs or logits, as
torch.distributions.Categorical (sample, log_prob, entropy, mode; the normalised probs and logits)."""
import math

from ..creation import arange
from ..dtypes import int64
from ..ops.random import multinomial
from ..ops.rows import softmax
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, clamp_probs


class Categorical(Distribution):
    """Categorical(probs=None, logits=None): probs are non-negative weights (normalised over the last
    dimension), logits unnormalised log-probabilities; exactly one is given. Each index along the leading
    dimensions is one distribution of the batch."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, but not both")
        given = probs if probs is not None else logits
        if not isinstance(given, Tensor):
            raise TypeError(f"Categorical: {'probs' if probs is not None else 'logits'} must be a tensor, got "
                            f"{type(given).__name__}")
        if given.ndim < 1:
            raise ValueError("Categorical: `probs` or `logits` must be at least one-dimensional")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._given = "probs" if probs is not None else "logits"  # (the other one is computed when first read)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], (), validate_args)

    @property
    def support(self):
        """The indices 0..K-1."""
        return constraints.integer_interval(0, self._num_events - 1)

    def __getattr__(self, name):
        # probs and logits are each computed from the other when first read (torch's lazy_property).
        if name == "probs":
            self.probs = softmax(self.__dict__["logits"], -1)
            return self.probs
        if name == "logits":
            self.logits = clamp_probs(self.__dict__["probs"]).log()
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def param_shape(self):
        """The shape of probs and logits."""
        return self._batch_shape + (self._num_events,)

    @property
    def mean(self):
        """Undefined for a categorical: NaN of batch_shape, as in PyTorch."""
        return self.probs.new_full(self._batch_shape, math.nan)

    @property
    def variance(self):
        """Undefined for a categorical: NaN of batch_shape, as in PyTorch."""
        return self.probs.new_full(self._batch_shape, math.nan)

    @property
    def mode(self):
        """The most probable index of each distribution."""
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        """Indices (int64) of shape sample_shape + batch_shape, drawn with tl.multinomial (no gradient)."""
        shape = self._extended_shape(sample_shape)
        count = math.prod(shape[:len(shape) - len(self._batch_shape)])
        rows = self.probs.detach().reshape(-1, self._num_events)
        drawn = multinomial(rows, count, True)  # [rows, count]
        return drawn.t().reshape(shape)

    def log_prob(self, value):
        """log P(value) for integer indices value, broadcast against batch_shape."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Categorical.log_prob: value must be a tensor of indices, got {type(value).__name__}")
        value = self._value(value, self.logits, "log_prob")
        index = value.long().unsqueeze(-1)
        logits = self.logits
        shape = tuple(broadcast_shapes(index.shape[:-1], logits.shape[:-1]))
        index = index.expand(shape + (1,))
        return logits.expand(shape + (self._num_events,)).gather(-1, index).squeeze(-1)

    def entropy(self):
        """-sum(p log p) over the categories (0 log 0 counts as 0)."""
        return -(self.logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """The indices 0..K-1 along a new leading dimension, expanded over batch_shape when expand."""
        values = arange(self._num_events, dtype=int64, device=self.probs.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if self._flag(expand, "expand") else values
