"""The half distributions (HalfNormal, HalfCauchy): |X| for X of a family symmetric about 0, whose density,
distribution function and entropy follow from the family's by folding it at 0."""
import math

from . import constraints
from .distribution import broadcast_all
from .transformed_distribution import TransformedDistribution
from .transforms_elementwise import AbsTransform


class FoldedAtZero(TransformedDistribution):
    """|X| for X ~ family(0, scale); a subclass names the family (a location-scale class) and gives the mean and
    the variance."""

    family = None
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (scale,) = broadcast_all(type(self).__name__, scale=scale)
        super().__init__(self.family(0.0, scale, validate_args=False), AbsTransform(), validate_args)

    @property
    def scale(self):
        """The scale of the family folded at 0."""
        return self.base_dist.scale

    @property
    def mode(self):
        """0."""
        return self.scale.new_zeros(self._batch_shape)

    def log_prob(self, value):
        """The family's log-density plus log 2 at value >= 0, -inf below 0."""
        value = self._value(value, self.scale, "log_prob")
        return (self.base_dist.log_prob(value) + math.log(2)).masked_fill(value < 0, -math.inf)

    def cdf(self, value):
        """2 F(value) - 1 for the family's F."""
        value = self._value(value, self.scale, "cdf")
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        """The family's icdf at (1 + prob) / 2."""
        prob = self._value(prob, self.scale, "icdf")
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        """The family's entropy less log 2."""
        return self.base_dist.entropy() - math.log(2)
