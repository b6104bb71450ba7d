"""The relaxed (concrete / Gumbel-softmax) distributions, as torch.distributions.RelaxedBernoulli and
RelaxedOneHotCategorical with their logit-space bases LogitRelaxedBernoulli and ExpRelaxedCategorical: continuous
stand-ins for Bernoulli and one-hot categorical draws, reparameterised so that gradients reach the probabilities."""
import math

from ..ops.random import rand
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution, broadcast_all, clamp_probs
from .inner_params import InnerParams
from .transformed_distribution import TransformedDistribution
from .transforms_elementwise import ExpTransform, SigmoidTransform


def _temperature(temperature, name):
    (temperature,) = broadcast_all(name, temperature=temperature)
    return temperature


class LogitRelaxedBernoulli(InnerParams, Distribution):
    """LogitRelaxedBernoulli(temperature, probs=None, logits=None): (logits + L) / temperature for L a standard
    logistic draw (log U - log(1 - U), U uniform clamped to [2^-10, 1 - 2^-10])."""

    has_rsample = True
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._params = Bernoulli(probs, logits, validate_args=validate_args)
        self.temperature = _temperature(temperature, type(self).__name__)
        super().__init__(self._params.batch_shape, (), validate_args)

    def rsample(self, sample_shape=()):
        """(logits + logistic noise) / temperature: gradients reach logits (or probs) and temperature."""
        u = clamp_probs(rand(self._extended_shape(sample_shape), device=self.logits.device))
        return (u.log() - (-u).log1p() + self.logits) / self.temperature

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        """log t + (logits - t value) - 2 log(1 + exp(logits - t value))."""
        value = self._value(value, self.logits, "log_prob")
        diff = self.logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class Relaxed(TransformedDistribution):
    """A relaxed distribution: a draw of its logit-space base (`base_family`, holding temperature, probs and
    logits) pushed through `transform`."""

    has_rsample = True
    base_family = None
    transform = None

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = self.base_family(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, self.transform(), validate_args)

    def _expand_args(self):
        given = self.base_dist._params._given
        return {"temperature": self.temperature, given: getattr(self, given)}

    @property
    def temperature(self):
        """The relaxation's temperature."""
        return self.base_dist.temperature

    @property
    def probs(self):
        """The probabilities of the distribution relaxed."""
        return self.base_dist.probs

    @property
    def logits(self):
        """The log-odds (Bernoulli) or log-probabilities (categorical) of the distribution relaxed."""
        return self.base_dist.logits


class RelaxedBernoulli(Relaxed):
    """RelaxedBernoulli(temperature, probs=None, logits=None): sigmoid of a LogitRelaxedBernoulli draw, in (0, 1)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    base_family = LogitRelaxedBernoulli
    transform = SigmoidTransform


class ExpRelaxedCategorical(InnerParams, Distribution):
    """ExpRelaxedCategorical(temperature, probs=None, logits=None): the log of a RelaxedOneHotCategorical draw,
    log_softmax((logits + G) / temperature) with G standard Gumbel draws."""

    has_rsample = True
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._params = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = _temperature(temperature, type(self).__name__)
        super().__init__(self._params.batch_shape, self._params.param_shape[-1:], validate_args)

    def rsample(self, sample_shape=()):
        """log_softmax((logits + G) / temperature): gradients reach logits (or probs) and temperature."""
        u = clamp_probs(rand(self._extended_shape(sample_shape), device=self.logits.device))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        """The density of the log-simplex point value: lgamma(K) + (K - 1) log t + sum(score) with score the
        log-normalised logits - t value."""
        value = self._value(value, self.logits, "log_prob")
        k = self._event_shape[0]
        score = self.logits - value * self.temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + (math.lgamma(k) + (k - 1) * self.temperature.log())


class RelaxedOneHotCategorical(Relaxed):
    """RelaxedOneHotCategorical(temperature, probs=None, logits=None): points of the simplex, softmax((logits + G) /
    temperature) for G standard Gumbel draws (the Gumbel-softmax relaxation of a one-hot draw)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    base_family = ExpRelaxedCategorical
    transform = ExpTransform
