"""tl.distributions: torch.distributions' Bernoulli, Beta, Categorical, Exponential, Gamma, Independent, Laplace,
MultivariateNormal, Normal and Uniform, and kl_divergence between pairs of them, over TensorLogic's ops, so
log_prob, entropy, rsample and the divergences carry gradients (Gamma and Beta draw on the host; see
gamma_sampler)."""
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Beta, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Bernoulli", "Beta", "Categorical", "Exponential", "Gamma", "Independent", "Laplace",
           "MultivariateNormal", "Normal", "Uniform", "kl_divergence", "register_kl"]
