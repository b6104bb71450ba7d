"""VonMises: the circular distribution of a mean direction and a concentration, as torch.distributions.VonMises
(sample, log_prob, mean, mode, variance). Draws are numpy's (Best and Fisher's rejection method, exact in float64) on
the host (host_random); the Bessel functions of the normaliser are Abramowitz and Stegun's polynomials (9.8.1-9.8.4,
relative error below 2e-7), written with tensor ops so that log_prob differentiates in the concentration."""
import math

from . import constraints
from .distribution import Distribution, MeanAndModeAtLoc, broadcast_all
from .host_random import draw, host64

# Abramowitz and Stegun 9.8.1 and 9.8.3: I0(x) and I1(x) / x as polynomials in (x / 3.75)^2 for x < 3.75; 9.8.2 and
# 9.8.4: sqrt(x) exp(-x) I0(x) and I1(x) as polynomials in 3.75 / x above
_SMALL = {0: (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813),
          1: (0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411)}
_LARGE = {0: (0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537, -0.01647633,
              0.00392377),
          1: (0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967, -0.02895312, 0.01787654,
              -0.00420059)}


def _polynomial(coefficients, y):
    result = y.new_full(y.shape, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        result = result * y + c
    return result


def _branches(x):
    """(small, xs, xl): where x < 3.75, and x with a safe value where the other branch applies (so that no NaN from
    the unused branch reaches the gradient)."""
    small = x < 3.75
    return small, x.masked_fill(~small, 1.0), x.masked_fill(small, 3.75)


def log_bessel_i0_scaled(x):
    """log(I0(x)) - x, for x > 0: without the x that log I0 and the density's k cos(.) would otherwise cancel."""
    small, xs, xl = _branches(x)
    low = _polynomial(_SMALL[0], (xs / 3.75).square()).log() - xs
    high = _polynomial(_LARGE[0], 3.75 / xl).log() - 0.5 * xl.log()
    return low.where(small, high)


def one_minus_bessel_ratio(x):
    """1 - I1(x) / I0(x), for x > 0: above 3.75 the difference of the two polynomials over the first (both tend to
    1 / sqrt(2 pi x) e^x, so their ratio alone would round to 1)."""
    small, xs, xl = _branches(x)
    ys = (xs / 3.75).square()
    low = 1 - xs * _polynomial(_SMALL[1], ys) / _polynomial(_SMALL[0], ys)
    t = 3.75 / xl
    difference = tuple(a - b for a, b in zip(_LARGE[0], _LARGE[1]))
    high = _polynomial(difference, t) / _polynomial(_LARGE[0], t)
    return low.where(small, high)


class VonMises(MeanAndModeAtLoc, Distribution):
    """VonMises(loc, concentration): density exp(k cos(x - loc)) / (2 pi I0(k)) on the circle; draws in [-pi, pi]."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all("VonMises", loc=loc, concentration=concentration)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def variance(self):
        """The circular variance 1 - I1(k) / I0(k)."""
        return one_minus_bessel_ratio(self.concentration)

    def sample(self, sample_shape=()):
        """Angles of shape sample_shape + batch_shape in [-pi, pi] (NaN where concentration is not positive)."""
        shape = self._extended_shape(sample_shape)
        loc, k = host64(self.loc, shape), host64(self.concentration, shape)
        return draw(lambda g, m, k: g.vonmises(m, k), (k > 0) & (k < 1e30), shape, self.loc, loc, k)

    def log_prob(self, value):
        """k cos(value - loc) - log(2 pi) - log I0(k), as -2 k sin((value - loc) / 2)^2 - (log I0(k) - k) - log(2 pi):
        the terms of size k cancel before f16 rounds them."""
        value = self._value(value, self.loc, "log_prob")
        k = self.concentration
        return (-2 * k * ((value - self.loc) * 0.5).sin().square() - log_bessel_i0_scaled(k)
                - math.log(2 * math.pi))
