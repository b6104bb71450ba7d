"""Distributions PyTorch defines as transforms of a Uniform or an Exponential draw: Gumbel, Weibull, Pareto and
Kumaraswamy (sample, rsample, log_prob, entropy, mean, mode, variance; cdf and icdf through the transforms, or in
closed form where the transforms' f16 roundings would add up)."""
import math

from ..creation import full_like
from ..ops.special import digamma, lgamma
from ..type_info import finfo
from . import constraints
from .distribution import broadcast_all
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms_elementwise import AffineTransform, ExpTransform, PowerTransform
from .uniform import Uniform

_EULER = 0.57721566490153286061


class Gumbel(TransformedDistribution):
    """Gumbel(loc, scale): loc - scale log(-log(U)) for U uniform on [2^-14, 1 - 2^-10] (f16's tiny and 1 - eps)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Gumbel", loc=loc, scale=scale)
        info = finfo(self.loc.dtype)
        base = Uniform(full_like(self.loc, info.tiny), full_like(self.loc, 1 - info.eps), validate_args=False)
        super().__init__(base, [ExpTransform().inv, AffineTransform(0, -1.0), ExpTransform().inv,
                                AffineTransform(self.loc, -self.scale)], validate_args)

    def log_prob(self, value):
        """z - exp(z) - log(scale), z = (loc - value) / scale."""
        value = self._value(value, self.loc, "log_prob")
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - self.scale.log()

    def cdf(self, value):
        """exp(-exp((loc - value) / scale))."""
        value = self._value(value, self.loc, "cdf")
        return (-((self.loc - value) / self.scale).exp()).exp()

    def icdf(self, value):
        """loc - scale log(-log(value))."""
        value = self._value(value, self.loc, "icdf")
        return self.loc - self.scale * (-value.log()).log()

    @property
    def mean(self):
        """loc + scale * Euler's constant."""
        return self.loc + self.scale * _EULER

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def stddev(self):
        """pi scale / sqrt(6)."""
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        """(pi scale)^2 / 6."""
        return self.stddev.square()

    def entropy(self):
        """log(scale) + 1 + Euler's constant."""
        return self.scale.log() + (1 + _EULER)


class Weibull(TransformedDistribution):
    """Weibull(scale, concentration): scale E^(1 / concentration) for E ~ Exponential(1)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all("Weibull", scale=scale, concentration=concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(self.scale.new_ones(self.scale.shape), validate_args=False)
        super().__init__(base, [PowerTransform(self.concentration_reciprocal), AffineTransform(0, self.scale)],
                         validate_args)

    @property
    def mean(self):
        """scale Gamma(1 + 1 / concentration)."""
        return self.scale * lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self):
        """scale ((k - 1) / k)^(1 / k), 0 where k <= 1 (k = concentration)."""
        k = self.concentration
        return self.scale * ((k - 1) / k).pow(1 / k).masked_fill(k <= 1, 0.0)

    @property
    def variance(self):
        """scale^2 (Gamma(1 + 2 / k) - Gamma(1 + 1 / k)^2)."""
        r = self.concentration_reciprocal
        return self.scale.square() * (lgamma(1 + 2 * r).exp() - (2 * lgamma(1 + r)).exp())

    def entropy(self):
        """Euler's constant (1 - 1 / k) + log(scale / k) + 1."""
        return (_EULER * (1 - self.concentration_reciprocal) + (self.scale / self.concentration).log() + 1)


class Pareto(TransformedDistribution):
    """Pareto(scale, alpha): scale exp(E) for E ~ Exponential(alpha); support [scale, inf)."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all("Pareto", scale=scale, alpha=alpha)
        super().__init__(Exponential(self.alpha, validate_args=False), [ExpTransform(), AffineTransform(0, self.scale)],
                         validate_args)

    @property
    def support(self):
        """[scale, inf)."""
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        """alpha scale / (alpha - 1); infinite where alpha <= 1."""
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        """scale."""
        return self.scale

    @property
    def variance(self):
        """scale^2 alpha / ((alpha - 1)^2 (alpha - 2)); infinite where alpha <= 2."""
        a = self.alpha.clamp(min=2)
        return self.scale.square() * a / ((a - 1).square() * (a - 2))

    def entropy(self):
        """log(scale / alpha) + 1 / alpha + 1."""
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(concentration1, concentration0): density a b x^(a-1) (1 - x^a)^(b-1) on (0, 1) (a =
    concentration1, b = concentration0), the draw (1 - U^(1/b))^(1/a) for U uniform on [2^-14, 1)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(
            "Kumaraswamy", concentration1=concentration1, concentration0=concentration0)
        # U from f16's tiny (PyTorch's is from 0): U = 0 would draw x = 1 exactly, where log_prob and the
        # derivative of U^(1/b) in b are infinite
        c0 = self.concentration0
        base = Uniform(full_like(c0, finfo(c0.dtype).tiny), c0.new_ones(c0.shape), validate_args=False)
        super().__init__(base, [PowerTransform(self.concentration0.reciprocal()), AffineTransform(1.0, -1.0),
                                PowerTransform(self.concentration1.reciprocal())], validate_args)

    def log_prob(self, value):
        """log a + log b + (a - 1) log x + (b - 1) log(1 - x^a), the last as log(-expm1(a log x)): the transforms'
        chain would round x^a to 1 in f16 near x = 1."""
        value = self._value(value, self.concentration1, "log_prob")
        a, b = self.concentration1, self.concentration0
        log_x = value.log()
        return a.log() + b.log() + (a - 1) * log_x + (b - 1) * (-(a * log_x).expm1()).log()

    def cdf(self, value):
        """1 - (1 - x^a)^b, as -expm1(b log(-expm1(a log x)))."""
        value = self._value(value, self.concentration1, "cdf")
        a, b = self.concentration1, self.concentration0
        return -(b * (-(a * value.log()).expm1()).log()).expm1()

    def icdf(self, value):
        """(1 - (1 - u)^(1/b))^(1/a), through log1p and expm1."""
        value = self._value(value, self.concentration1, "icdf")
        a, b = self.concentration1, self.concentration0
        return ((-((-value).log1p() / b).expm1()).log() / a).exp()

    def rsample(self, sample_shape=()):
        """icdf(U) for the base's U on [2^-14, 1): through log1p and expm1, (1 - (1 - U)^(1/b)) keeps its digits
        where the transforms' chain rounds U^(1/b) to 1 (a draw of 0 with an infinite gradient)."""
        return self.icdf(self.base_dist.rsample(sample_shape))

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        return self.rsample(sample_shape).detach()

    def _moment(self, n):
        """E[X^n] = b B(1 + n / a, b)."""
        a, b = self.concentration1, self.concentration0
        return (b.log() + lgamma(1 + n / a) + lgamma(b) - lgamma(1 + n / a + b)).exp()

    @property
    def mean(self):
        """b B(1 + 1 / a, b)."""
        return self._moment(1)

    @property
    def mode(self):
        """((a - 1) / (a b - 1))^(1 / a) where a >= 1 and b >= 1 (not both 1); NaN elsewhere, as in PyTorch."""
        a, b = self.concentration1, self.concentration0
        mode = ((a - 1) / (a * b - 1)).pow(1 / a)
        return mode.masked_fill((a < 1) | (b < 1), math.nan)

    @property
    def variance(self):
        """E[X^2] - E[X]^2."""
        return self._moment(2) - self._moment(1).square()

    def entropy(self):
        """(1 - 1 / b) + (1 - 1 / a) H_b - log(a b), H_b the harmonic number digamma(b + 1) + Euler's constant."""
        a, b = self.concentration1, self.concentration0
        harmonic = digamma(b + 1) + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - (a * b).log()
