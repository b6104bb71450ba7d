"""torch.nn.utils.weight_norm and remove_weight_norm: a module's weight re-expressed as g * v / ||v|| (Salimans and
Kingma), with the magnitude g and the direction v as the parameters `<name>_g` and `<name>_v` and the weight
recomputed from them by a forward pre-hook before each call. norm_except_dim and the recomputation are shared
with nn.utils.parametrizations.weight_norm."""
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..parameter import Parameter


def norm_except_dim(v, dim):
    """The 2-norm of v over every dimension but dim, kept as size-1 dimensions (so it broadcasts against v);
    dim -1 (or None) is the norm of the whole tensor, a 0-d tensor, as torch.norm_except_dim has it."""
    if dim is None or dim == -1:
        return v.norm()
    keep = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != keep)
    return v.norm(dim=others, keepdim=True) if others else v.abs()


def weight_from(v, g, dim):
    """v scaled to the norm g along dim (torch._weight_norm)."""
    return v * (g / norm_except_dim(v, dim))


def _check_dim(dim, weight, name):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise TypeError(f"weight_norm: dim must be an int or None, got {type(dim).__name__}")
    if dim is not None and dim != -1 and not -weight.ndim <= dim < weight.ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for '{name}' of shape {tuple(weight.shape)}")
    return -1 if dim is None else dim


class WeightNorm:
    """The forward pre-hook that recomputes module.<name> from <name>_g and <name>_v."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        return weight_from(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _hooks_on(module, name):
    return [h for h in module._forward_pre_hooks if isinstance(h.fn, WeightNorm) and h.fn.name == name]


def weight_norm(module, name="weight", dim=0):
    """Replaces the parameter `name` of module by `name`_g (its norm over every dimension but dim; dim None
    normalises the whole tensor) and `name`_v (its value), and recomputes module.<name> = g * v / ||v|| before
    every forward. Returns the module."""
    if _hooks_on(module, name):
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if not isinstance(weight, Tensor):
        raise AttributeError(f"weight_norm: '{type(module).__name__}' has no parameter '{name}'")
    dim = _check_dim(dim, weight, name)
    hook = WeightNorm(name, dim)
    with no_grad():
        g = norm_except_dim(weight, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(g))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    hook(module, ())
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Undoes weight_norm: `name` becomes one parameter again, holding the present g * v / ||v||."""
    hooks = _hooks_on(module, name) if hasattr(module, "_forward_pre_hooks") else []
    if not hooks:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    with no_grad():
        weight = hooks[0].fn.compute_weight(module)
    module._forward_pre_hooks.remove(hooks[0])
    module.__dict__.pop(name, None)
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight))
    return module
