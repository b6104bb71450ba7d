"""ContinuousBernoulli, as torch.distributions.ContinuousBernoulli (Loaiza-Ganem and Cunningham, 2019): the density
C(p) p^x (1 - p)^(1 - x) on [0, 1] (sample, rsample, log_prob, entropy, cdf, icdf, mean, variance).

Everything is written in t = 1 - 2p and a = atanh(t) = -logits / 2, where C = 2a / t: the forms PyTorch uses
(differences of 1 / t and 1 / (2a), logs of p and 1 - p) cancel to nothing in f16 near p = 1/2, so PyTorch switches
to a Taylor series inside lims = (0.499, 0.501), 2 f16 steps wide. Here the one cancelling quantity, a - t, comes
from atanh's series t^3 (1/3 + t^2/5 + ...) for |t| < 1/2, which keeps every form accurate for every p."""
import math
import numbers

from ..autograd.grad_mode import no_grad
from ..nn.activation_functions import logsigmoid
from ..nn.loss_functions import binary_cross_entropy_with_logits
from ..ops.random import rand
from . import constraints
from .bernoulli import BinaryProbs
from .distribution import broadcast_all, clamp_data, clamp_probs

_SERIES_BELOW = 0.5  # |t| below which a - t comes from the series (its 10 terms reach 0.25^10 / 23 ~ 4e-8 there)


def _atanh_excess_over_cube(t):
    """(atanh(t) - t) / t^3 = sum_k t^(2k) / (2k + 3), its series for |t| < 1/2 and the direct form elsewhere (fed a
    safe value where not used, so that no NaN reaches the gradient)."""
    small = t.abs() < _SERIES_BELOW
    ts = t.masked_fill(~small, 0.0)
    t2 = ts.square()
    series = ts.new_zeros(ts.shape)
    for k in range(9, -1, -1):
        series = series * t2 + 1.0 / (2 * k + 3)
    td = t.masked_fill(small, 0.75)
    direct = (td.atanh() - td) / td.pow(3)
    return series.where(small, direct)


class ContinuousBernoulli(BinaryProbs):
    """ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501)): probs in [0, 1] (clamped to [2^-10,
    1 - 2^-10], as PyTorch clamps) or logits. lims, PyTorch's bounds of its Taylor region, is accepted and has no
    use here (see the module)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if not (isinstance(lims, (tuple, list)) and len(lims) == 2
                and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in lims)):
            raise TypeError(f"ContinuousBernoulli: lims must be a pair of numbers, got {lims!r}")
        (given,) = self._probs_or_logits(probs, logits)
        if self._given == "probs":  # checked before the clamp, which would make any probs pass (as PyTorch)
            if self._flag(validate_args, "validate_args") if validate_args is not None else self._validate_default:
                self._validate_parameters()
            self.probs = clamp_probs(self.probs)
        self._lims = tuple(lims)
        super().__init__(given.shape, (), validate_args)

    def _t_a(self):
        """t = 1 - 2p and a = atanh(t), from whichever parameter was given (each exact from its own)."""
        if self._given == "logits":
            half = self.logits * 0.5
            return -half.tanh(), -half
        t = 1 - 2 * self.probs
        return t, t.atanh()

    def _a_over_t(self, t):
        """a / t = 1 + t^2 g(t)."""
        return 1 + t.square() * _atanh_excess_over_cube(t)

    def _log_normalizer(self):
        """log C = log 2 + log(a / t)."""
        t, _ = self._t_a()
        return math.log(2.0) + (t.square() * _atanh_excess_over_cube(t)).log1p()

    @property
    def mean(self):
        """p / (2p - 1) + 1 / (2a) = 1/2 - (a - t) / (2 a t) = 1/2 - t g / (2 a / t)."""
        t, _ = self._t_a()
        return 0.5 - t * _atanh_excess_over_cube(t) / (2 * self._a_over_t(t))

    @property
    def variance(self):
        """p (p - 1) / t^2 + 1 / (4 a^2) = 1/4 - (a - t)(a + t) / (4 a^2 t^2) = 1/4 - g (1 + a/t) / (4 (a/t)^2)."""
        t, _ = self._t_a()
        ratio = self._a_over_t(t)
        return 0.25 - _atanh_excess_over_cube(t) * (1 + ratio) / (4 * ratio.square())

    @property
    def stddev(self):
        """The square root of the variance."""
        return self.variance.sqrt()

    def log_prob(self, value):
        """x log p + (1 - x) log(1 - p) + log C."""
        value = self._value(value, self.logits, "log_prob")
        logits, value = broadcast_all("ContinuousBernoulli", logits=self.logits, value=value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + self._log_normalizer()

    def cdf(self, value):
        """(p^x (1 - p)^(1 - x) + p - 1) / (2p - 1) = (1 + t) x (a / t) expm1(-2 a x) / (-2 a x), clamped to [0, 1]
        outside the support."""
        value = self._value(value, self.logits, "cdf")
        t, a = self._t_a()
        z = -2 * a * value
        zs = z.masked_fill(z == 0, 1.0)
        ratio = (zs.expm1() / zs).masked_fill(z == 0, 1.0)
        cdf = (1 + t) * value * self._a_over_t(t) * ratio
        return cdf.masked_fill(value <= 0, 0.0).masked_fill(value >= 1, 1.0)

    def icdf(self, value):
        """x with cdf(x) = u: log1p(z) / (-2a), z = -2 u t / (1 + t), as u (t / a) / (1 + t) log1p(z) / z."""
        value = self._value(value, self.logits, "icdf")
        t, a = self._t_a()
        z = -2 * value * t / (1 + t)
        zs = z.masked_fill(z == 0, 0.5)
        ratio = (zs.log1p() / zs).masked_fill(z == 0, 1.0)
        return value * ratio / (self._a_over_t(t) * (1 + t))

    def rsample(self, sample_shape=()):
        """icdf(u) for u uniform, its f16 rounding kept inside [0, 1]: gradients reach probs (or logits)."""
        u = rand(self._extended_shape(sample_shape), device=self.logits.device)
        return clamp_data(self.icdf(u), min=0.0, max=1.0)

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def entropy(self):
        """-(mean logits + log(1 - p)) - log C."""
        return -(self.mean * self.logits + logsigmoid(-self.logits)) - self._log_normalizer()
