"""torch.nn.utils.spectral_norm and remove_spectral_norm (Miyato et al., 2018): a module's weight divided by its
largest singular value sigma, estimated by power iteration. The parameter becomes `<name>_orig`, the singular
vectors the buffers `<name>_u` and `<name>_v` (PyTorch's state_dict keys), and a forward pre-hook recomputes
module.<name> before each call, stepping the power iteration in training mode. weight_matrix and sigma_of are
shared with nn.utils.parametrizations.spectral_norm."""
from ...autograd.grad_mode import no_grad
from ...ops.composite import dot, mv
from ..activation_functions import normalize
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..parameter import Parameter


def output_dim(module, dim):
    """dim, or where it is None the dimension of the outputs: 1 for the transposed convolutions, else 0."""
    if dim is not None:
        return dim
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


# The most power iterations one forward may make: the estimate settles to f16 precision within a few dozen, and a
# count such as 2**62 made every later forward() of the module hang.
MAX_POWER_ITERATIONS = 1 << 16


def check_iterations(n_power_iterations):
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int):
        raise TypeError(f"spectral_norm: n_power_iterations must be an int, got {type(n_power_iterations).__name__}")
    if n_power_iterations <= 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}")
    if n_power_iterations > MAX_POWER_ITERATIONS:
        raise ValueError(f"spectral_norm: n_power_iterations={n_power_iterations} is more than the "
                         f"{MAX_POWER_ITERATIONS} one forward() may make")


def checked_dim(dim, weight):
    """dim as a non-negative dimension of weight (IndexError outside [-ndim, ndim))."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"spectral_norm: dim must be an int or None, got {type(dim).__name__}")
    if not -weight.ndim <= dim < weight.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{weight.ndim}, {weight.ndim - 1}] but "
                         f"got {dim})")
    return dim % weight.ndim


def weight_matrix(weight, dim):
    """weight as a matrix: dimension dim first (its rows), every other dimension flattened into the columns."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def sigma_of(matrix, u, v):
    """The singular value estimate u . (W v), differentiable in W (u and v are constants)."""
    return dot(u, mv(matrix, v))


class SpectralNorm:
    """The forward pre-hook that recomputes module.<name> = <name>_orig / sigma."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        check_iterations(n_power_iterations)
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module, do_power_iteration):
        """The normalised weight; with do_power_iteration, n_power_iterations steps of the power iteration first,
        written into the <name>_u and <name>_v buffers (then copied, so that backward keeps the vectors this call
        used while the next call updates the buffers)."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = weight_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(mv(matrix.t(), u), dim=0, eps=self.eps))
                    u.copy_(normalize(mv(matrix, v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()
        return weight / sigma_of(matrix, u, v)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def _hooks_on(module, name):
    return [h for h in module._forward_pre_hooks if isinstance(h.fn, SpectralNorm) and h.fn.name == name]


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divides the parameter `name` of module by its spectral norm before every forward: the parameter moves to
    `name`_orig, the power iteration's vectors (random at first) to the buffers `name`_u and `name`_v, and each call
    in training mode steps the iteration n_power_iterations times. dim is the dimension of the outputs (None: 0, or 1
    for the transposed convolutions); eps guards the normalisations. Returns the module."""
    if _hooks_on(module, name):
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    hook = SpectralNorm(name, n_power_iterations, output_dim(module, dim), eps)
    if name not in module._parameters:  # PyTorch's KeyError, which said only the name
        raise KeyError(f"spectral_norm: '{type(module).__name__}' has no parameter {name!r}")
    weight = module._parameters[name]
    if weight is None:
        raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
    hook.dim = checked_dim(hook.dim, weight)
    with no_grad():
        h, w = weight_matrix(weight, hook.dim).shape
        u = normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=eps)
        v = normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())  # a plain attribute until the first call, as in PyTorch
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undoes spectral_norm: `name` becomes one parameter again, holding the weight normalised by the present u and
    v (no further power iteration). Returns the module."""
    hooks = _hooks_on(module, name) if hasattr(module, "_forward_pre_hooks") else []
    if not hooks:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    with no_grad():
        weight = hooks[0].fn.compute_weight(module, do_power_iteration=False)
    module._forward_pre_hooks.remove(hooks[0])
    module.__dict__.pop(name, None)
    for suffix in ("_orig", "_u", "_v"):
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight.detach()))
    return module
