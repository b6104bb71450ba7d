"""StudentT and FisherSnedecor, as torch.distributions.StudentT and FisherSnedecor: ratios built on chi-square
(Gamma) draws, so rsample's gradients reach the degrees of freedom through Gamma's implicit reparameterisation."""
import math

from ..ops.random import randn
from ..ops.special import digamma, lgamma
from . import constraints
from .distribution import Distribution, broadcast_all, clamp_data
from .gamma import Chi2, Gamma
from .gamma_sampler import TINY


class StudentT(Distribution):
    """StudentT(df, loc=0., scale=1.): loc + scale X / sqrt(Z / df) for X standard normal and Z ~ Chi2(df)."""

    has_rsample = True
    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all("StudentT", df=df, loc=loc, scale=scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, (), validate_args)

    def expand(self, batch_shape, _instance=None):
        """The parameters and the chi-square expanded to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new._chi2 = self._chi2.expand(new.batch_shape)
        return new

    @property
    def mean(self):
        """loc where df > 1, NaN elsewhere."""
        return self.loc.masked_fill(self.df <= 1, math.nan)

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) where df > 2; infinite where 1 < df <= 2; NaN where df <= 1."""
        df = self.df
        v = (self.scale.square() * df / (df - 2)).masked_fill((df <= 2) & (df > 1), math.inf)
        return v.masked_fill(df <= 1, math.nan)

    def rsample(self, sample_shape=()):
        """loc + scale X rsqrt(Z / df): gradients reach loc, scale and df."""
        shape = self._extended_shape(sample_shape)
        x = randn(shape, device=self.df.device)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        """-(df + 1)/2 log1p(y^2 / df) - log(scale) - log(df pi)/2 - lgamma(df/2) + lgamma((df + 1)/2),
        y = (value - loc) / scale."""
        value = self._value(value, self.loc, "log_prob")
        y = (value - self.loc) / self.scale
        df = self.df
        z = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi) + lgamma(0.5 * df)
             - lgamma(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * (y.square() / df).log1p() - z

    def entropy(self):
        """log(scale) + (df + 1)/2 (digamma((df + 1)/2) - digamma(df/2)) + log(df)/2 + log B(df/2, 1/2)."""
        df = self.df
        lbeta = lgamma(0.5 * df) + math.lgamma(0.5) - lgamma(0.5 * (df + 1))
        return (self.scale.log() + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) - digamma(0.5 * df))
                + 0.5 * df.log() + lbeta)


class FisherSnedecor(Distribution):
    """FisherSnedecor(df1, df2): (X1 / df1) / (X2 / df2) for independent chi-square draws X1, X2."""

    has_rsample = True
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all("FisherSnedecor", df1=df1, df2=df2)
        self._gamma1, self._gamma2 = Gamma(self.df1 * 0.5, self.df1), Gamma(self.df2 * 0.5, self.df2)
        super().__init__(self.df1.shape, (), validate_args)

    def expand(self, batch_shape, _instance=None):
        """The parameters and both Gammas expanded to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new._gamma1, new._gamma2 = self._gamma1.expand(new.batch_shape), self._gamma2.expand(new.batch_shape)
        return new

    @property
    def mean(self):
        """df2 / (df2 - 2) where df2 > 2, NaN elsewhere."""
        df2 = self.df2
        return (df2 / (df2 - 2)).masked_fill(df2 <= 2, math.nan)

    @property
    def mode(self):
        """(df1 - 2) / df1 * df2 / (df2 + 2) where df1 > 2, NaN elsewhere."""
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return mode.masked_fill(self.df1 <= 2, math.nan)

    @property
    def variance(self):
        """2 df2^2 (df1 + df2 - 2) / (df1 (df2 - 2)^2 (df2 - 4)) where df2 > 4, NaN elsewhere."""
        df1, df2 = self.df1, self.df2
        v = 2 * df2.square() * (df1 + df2 - 2) / (df1 * (df2 - 2).square() * (df2 - 4))
        return v.masked_fill(df2 <= 4, math.nan)

    def rsample(self, sample_shape=()):
        """The ratio of the two scaled chi-square draws: gradients reach df1 and df2."""
        x1 = self._gamma1.rsample(sample_shape)
        x2 = clamp_data(self._gamma2.rsample(sample_shape), min=TINY)
        return clamp_data(x1 / x2, min=TINY)

    def sample(self, sample_shape=()):
        """rsample's draw, without gradient."""
        return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        """log B-normalised density of the ratio."""
        value = self._value(value, self.df1, "log_prob")
        h1, h2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        t1 = lgamma(h1 + h2) - lgamma(h1) - lgamma(h2)
        t2 = h1 * ratio.log() + (h1 - 1) * value.log()
        t3 = (h1 + h2) * (ratio * value).log1p()
        return t1 + t2 - t3
