"""torch.nn.utils.parametrizations: weight_norm and spectral_norm as parametrizations (the forms PyTorch
recommends over the forward pre-hooks of nn.utils.weight_norm and nn.utils.spectral_norm), with PyTorch's
state_dict keys: for weight_norm module.parametrizations.<name>.original0 holds the magnitude g, original1 the
direction v; for spectral_norm .original holds the weight and .0._u, .0._v the power iteration's vectors.
(orthogonal is not provided.)"""
from ...autograd.grad_mode import no_grad
from ...ops.composite import mv
from ...tensor import Tensor
from ..activation_functions import normalize
from ..module import Module
from .parametrize import register_parametrization
from .spectral_norm import check_iterations, checked_dim, output_dim, sigma_of, weight_matrix
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


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of weight as a matrix over dim, estimated by power iteration
    (the buffers _u and _v, stepped n_power_iterations times by each evaluation in training mode); a 1-d weight is
    divided by its norm."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        self.dim, self.eps = checked_dim(dim, weight), eps
        check_iterations(n_power_iterations)
        if weight.ndim > 1:
            self.n_power_iterations = n_power_iterations
            h, w = weight_matrix(weight, self.dim).shape
            with no_grad():
                self.register_buffer("_u", normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=eps))
                self.register_buffer("_v", normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=eps))
            self._power_method(weight_matrix(weight, self.dim), 15)  # a good estimate from the start, as PyTorch

    def _power_method(self, matrix, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(mv(matrix, self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(mv(matrix.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        """The normalised weight (stepping the power iteration first in training mode)."""
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        return weight / sigma_of(matrix, self._u.clone(), self._v.clone())

    def right_inverse(self, value):
        """The weight itself is the original: assigning module.<name> stores the value."""
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Re-expresses module.<name> as itself divided by its spectral norm, by a parametrization: the power
    iteration's vectors start from 15 iterations on a random vector and each access in training mode steps them
    n_power_iterations times. dim is the dimension of the outputs (None: 0, or 1 for the transposed convolutions).
    Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, output_dim(module, dim),
                                                                eps))
