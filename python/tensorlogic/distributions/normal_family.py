"""Transformed Gaussians, as torch.distributions.LogNormal, HalfNormal and LogisticNormal: a Normal pushed
through exp, |.| or the stick-breaking map onto the simplex."""
import math

from . import constraints
from .folded import FoldedAtZero
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms_elementwise import ExpTransform
from .transforms_structured import StickBreakingTransform


class LogNormal(TransformedDistribution):
    """LogNormal(loc, scale): exp(X) for X ~ Normal(loc, scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args=False), ExpTransform(), validate_args)

    @property
    def loc(self):
        """The mean of log X."""
        return self.base_dist.loc

    @property
    def scale(self):
        """The standard deviation of log X."""
        return self.base_dist.scale

    @property
    def mean(self):
        """exp(loc + scale^2 / 2)."""
        return (self.loc + self.scale.square() / 2).exp()

    @property
    def mode(self):
        """exp(loc - scale^2)."""
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        """(exp(scale^2) - 1) exp(2 loc + scale^2)."""
        s2 = self.scale.square()
        return s2.expm1() * (2 * self.loc + s2).exp()

    def entropy(self):
        """The Normal's entropy plus loc."""
        return self.base_dist.entropy() + self.loc


class HalfNormal(FoldedAtZero):
    """HalfNormal(scale): |X| for X ~ Normal(0, scale)."""

    family = Normal

    @property
    def mean(self):
        """scale sqrt(2 / pi)."""
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        """scale^2 (1 - 2 / pi)."""
        return self.scale.square() * (1 - 2 / math.pi)


class LogisticNormal(TransformedDistribution):
    """LogisticNormal(loc, scale): the stick-breaking image on the K-simplex of X ~ Normal(loc, scale) in R^(K-1)
    (loc and scale broadcast; their last dimension is the event)."""

    arg_constraints = {"loc": constraints.real_vector, "scale": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=False)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args)

    @property
    def loc(self):
        """The mean of the Normal in R^(K-1)."""
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        """The standard deviation of the Normal in R^(K-1)."""
        return self.base_dist.base_dist.scale
