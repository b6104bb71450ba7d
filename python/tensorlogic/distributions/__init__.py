"""tl.distributions: torch.distributions over TensorLogic's ops, so that log_prob, entropy, rsample and the
divergences carry gradients (Gamma, Beta and Dirichlet draw on the host; see gamma_sampler)."""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .binomial import Binomial, Geometric, NegativeBinomial
from .categorical import Categorical
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .cauchy import Cauchy, HalfCauchy
from .dirichlet import Beta, Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Chi2, Gamma, InverseGamma
from .independent import Independent
from . import kl_cross, kl_same  # noqa: F401 (they register the closed forms)
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial, OneHotCategorical, OneHotCategoricalStraightThrough
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .normal_family import HalfNormal, LogisticNormal, LogNormal
from .poisson import Poisson
from .relaxed import ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical
from .studentt import FisherSnedecor, StudentT
from .transformed_distribution import TransformedDistribution
from .transformed_families import Gumbel, Kumaraswamy, Pareto, Weibull
from .transforms import *  # noqa: F401,F403 (torch.distributions exports the transforms too)
from .transforms import __all__ as _transforms
from .uniform import Uniform
from .von_mises import VonMises

__all__ = ["Distribution", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli",
           "Dirichlet", "Exponential", "FisherSnedecor", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
           "Independent", "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal",
           "LowRankMultivariateNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial",
           "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
           "VonMises", "Weibull", "biject_to", "constraints", "kl_divergence", "register_kl", "transform_to",
           "transforms", *_transforms]
