"""The elementwise transforms of tl.distributions.transforms, as torch.distributions.transforms: Exp, Power,
Sigmoid, Softplus, Tanh, Abs, Affine and CumulativeDistribution."""
import math
import numbers

from ..creation import full_like
from ..ops.elementwise import softplus
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor
from ..type_info import finfo
from . import constraints
from .distribution import Distribution
from .transform import ParameterlessTransform, Transform, as_tensor_or_number


class ExpTransform(ParameterlessTransform):
    """y = exp(x)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def _log_abs_det_jacobian(self, x, y):
        """log |dy/dx| = x."""
        return x


def _shape_of(value):
    return tuple(value.shape) if isinstance(value, Tensor) else ()


def _same(a, b):
    """Parameters (tensors or numbers) equal everywhere."""
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape and bool((a == b).all())
    return False


class PowerTransform(Transform):
    """y = x^exponent on the positive reals."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.exponent = as_tensor_or_number(exponent, "PowerTransform: exponent")

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self):
        """The exponent's sign (a number or, for a tensor exponent, a tensor)."""
        return self.exponent.sign() if isinstance(self.exponent, Tensor) else math.copysign(1, self.exponent)

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and _same(self.exponent, other.exponent)

    __hash__ = Transform.__hash__

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def _log_abs_det_jacobian(self, x, y):
        """log |exponent y / x|."""
        return (self.exponent * y / x).abs().log()

    def _forward_shape(self, shape):
        """The shape broadcast with the exponent's."""
        return tuple(broadcast_shapes(shape, _shape_of(self.exponent)))

    _inverse_shape = _forward_shape


def clipped_sigmoid(x):
    """sigmoid(x) kept inside (0, 1) as f16 holds it, [2^-14, 1 - 2^-10] (PyTorch's clamp to finfo.tiny and
    1 - finfo.eps), so that the logit of the result is finite."""
    info = finfo(x.dtype)
    return x.sigmoid().clamp(min=info.tiny, max=1.0 - info.eps)


class SigmoidTransform(ParameterlessTransform):
    """y = sigmoid(x), clipped to [2^-14, 1 - 2^-10] in f16."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def _call(self, x):
        return clipped_sigmoid(x)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return y.log() - (-y).log1p()

    def _log_abs_det_jacobian(self, x, y):
        """log(sigmoid(x) sigmoid(-x)) = -softplus(-x) - softplus(x)."""
        return -softplus(-x) - softplus(x)


class SoftplusTransform(ParameterlessTransform):
    """y = log(1 + exp(x))."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return (-(-y).expm1()).log() + y  # log(exp(y) - 1), without overflow

    def _log_abs_det_jacobian(self, x, y):
        """log sigmoid(x) = -softplus(-x)."""
        return -softplus(-x)


class TanhTransform(ParameterlessTransform):
    """y = tanh(x). In f16 tanh rounds to +-1 from |x| ~ 4.2, where the inverse is infinite: cache_size=1 keeps
    the input of the last call, so log_prob of a tanh-squashed rsample stays finite (SAC-style policies)."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def _log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)), exact where tanh(x) rounds to 1
        """log(1 - tanh(x)^2)."""
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(ParameterlessTransform):
    """y = |x| (not invertible: the inverse gives the positive root)."""

    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class AffineTransform(Transform):
    """y = loc + scale x (loc and scale tensors or numbers), over event_dim rightmost dimensions."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc = as_tensor_or_number(loc, "AffineTransform: loc")
        self.scale = as_tensor_or_number(scale, "AffineTransform: scale")
        if isinstance(event_dim, bool) or not isinstance(event_dim, int) or event_dim < 0:
            raise ValueError(f"AffineTransform: event_dim must be a non-negative int, got {event_dim!r}")
        self._event_dim = event_dim

    @property
    def event_dim(self):
        """The number of rightmost dimensions an event spans."""
        return self._event_dim

    @property
    def domain(self):
        """The reals, over event_dim dimensions."""
        return constraints.independent(constraints.real, self._event_dim) if self._event_dim else constraints.real

    codomain = domain

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else \
            AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other):
        return (isinstance(other, AffineTransform) and _same(self.loc, other.loc) and _same(self.scale, other.scale)
                and self._event_dim == other._event_dim)

    __hash__ = Transform.__hash__

    @property
    def sign(self):
        """The scale's sign (a number or a tensor)."""
        return self.scale.sign() if isinstance(self.scale, Tensor) else math.copysign(1, self.scale)

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def _log_abs_det_jacobian(self, x, y):
        """log |scale|, summed over the event dimensions and broadcast to x's batch."""
        shape = x.shape
        if isinstance(self.scale, Tensor):
            result = self.scale.abs().log()
        else:
            result = full_like(x, math.log(abs(self.scale)) if self.scale != 0 else -math.inf)
        if self._event_dim:
            n = self._event_dim
            result = result.reshape(result.shape[:result.ndim - n] + (-1,)).sum(-1)
            shape = shape[:len(shape) - n]
        return result.expand(shape)

    def _forward_shape(self, shape):
        """The shape broadcast with loc's and scale's."""
        return tuple(broadcast_shapes(shape, _shape_of(self.loc), _shape_of(self.scale)))

    _inverse_shape = _forward_shape


class CumulativeDistributionTransform(Transform):
    """y = distribution.cdf(x): from the distribution's support to the unit interval (a copula's marginals)."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size=cache_size)
        if not isinstance(distribution, Distribution):
            raise TypeError(f"CumulativeDistributionTransform: distribution must be a Distribution, got "
                            f"{type(distribution).__name__}")
        self.distribution = distribution

    @property
    def domain(self):
        """The distribution's support."""
        return self.distribution.support

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else \
            CumulativeDistributionTransform(self.distribution, cache_size=cache_size)

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def _log_abs_det_jacobian(self, x, y):
        """The density: log_prob(x)."""
        return self.distribution.log_prob(x)
