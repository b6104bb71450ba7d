"""tl.distributions: torch.distributions' Categorical and Normal (the two the policy-gradient and
variational examples use) and kl_divergence between them, over TensorLogic's ops, so log_prob, entropy,
rsample and the divergences carry gradients."""
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .normal import Normal

__all__ = ["Distribution", "Categorical", "Normal", "kl_divergence", "register_kl"]
