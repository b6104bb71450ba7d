"""torch.nn.utils.parametrizations: weight_norm as a parametrization (the form PyTorch recommends over the
forward pre-hook of nn.utils.weight_norm): module.parametrizations.<name>.original0 holds the magnitude g,
original1 the direction v. (orthogonal and spectral_norm are not provided.)"""
from ..module import Module
from .parametrize import register_parametrization
from .weight_norm import _check_dim, norm_except_dim, weight_from


class _WeightNorm(Module):
    """weight = g * v / ||v||, the norm over every dimension but dim (-1: over the whole tensor)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_from(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Re-expresses module.<name> as g * v / ||v|| by a parametrization (g the norm over every dimension but
    dim; None normalises the whole tensor), so that g and v are the trained parameters. Returns the module."""
    weight = getattr(module, name, None)
    if weight is None:
        raise AttributeError(f"weight_norm: '{type(module).__name__}' has no parameter '{name}'")
    return register_parametrization(module, name, _WeightNorm(_check_dim(dim, weight, name)), unsafe=True)
