"""tl.distributions: torch.distributions' Categorical and Normal (the two the policy-gradient and
variational examples use) over TensorLogic's ops, so log_prob, entropy and rsample carry gradients."""
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal

__all__ = ["Distribution", "Categorical", "Normal"]
