"""tl.distributions: torch.distributions over TensorLogic's ops, so that log_prob, entropy, rsample and the
divergences carry gradients (Gamma, Beta and Dirichlet draw on the host; see gamma_sampler)."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .dirichlet import Beta, Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Chi2, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Bernoulli", "Beta", "Categorical", "Chi2", "Dirichlet", "Exponential", "Gamma",
           "Independent", "Laplace", "MultivariateNormal", "Normal", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
