"""torch.nn.utils.prune: pruning a module's parameter by a mask, as PyTorch does it. The first pruning of
`module.<name>` moves the parameter to `<name>_orig`, registers the mask as the buffer `<name>_mask` (so a state_dict
holds `weight_orig` and `weight_mask`, PyTorch's keys) and sets `module.<name> = <name>_orig * <name>_mask`, a plain
attribute that a forward pre-hook (the pruning method itself) recomputes before every call, so gradients reach
`<name>_orig` through the mask. Pruning the same parameter again combines the methods in a PruningContainer: the new
method sees only what is still unpruned (the remaining elements, or the remaining channels for a structured one).
remove() makes the pruned tensor the parameter again. The masks have the parameter's dtype (float16)."""
import abc
import numbers

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import ones_like, tensor
from ...ops.random import rand, rand_like
from ...tensor import Tensor
from .convert_parameters import parameters_to_vector


def _check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount!r}. Must be int or float.")
    integral = isinstance(amount, numbers.Integral)
    if (integral and amount < 0) or (not integral and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _count(amount, size):
    """How many of `size` units `amount` prunes: the int itself, or round(fraction * size) (Python's rounding)."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
        return int(amount)
    return round(amount * size)


def _structured_dim(t, dim):
    if t.ndim <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
                         f"{tuple(t.shape)} with {t.ndim} dims")
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(f"dim {dim} is out of range for a tensor of {t.ndim} dims")
    return dim % t.ndim


def _channels(t, dim, keep, default_mask):
    """A mask keeping the channels `keep` (a bool vector along dim) of t, times default_mask."""
    shape = [1] * t.ndim
    shape[dim] = t.shape[dim]
    return default_mask * keep.reshape(shape).to(default_mask.dtype)


class BasePruningMethod(abc.ABC):
    """A pruning method: compute_mask(t, default_mask) says which elements stay (1) and which go (0); the method is
    also the forward pre-hook that recomputes module.<name> = <name>_orig * <name>_mask. PRUNING_TYPE is
    "unstructured", "structured" (then `dim` says along which dimension) or "global"."""

    PRUNING_TYPE = None
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abc.abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for t (of t's shape), given the mask already applied."""

    def apply_mask(self, module):
        """<name>_orig * <name>_mask of module (differentiable in <name>_orig)."""
        orig = getattr(module, self._tensor_name + "_orig")
        return orig * getattr(module, self._tensor_name + "_mask").to(orig.dtype)

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prunes module.<name> with cls(*args, **kwargs) (combined with the pruning already there), by the
        importance_scores (of the parameter's shape; the parameter itself by default). Returns the method."""
        hooks = [h for h in module._forward_pre_hooks
                 if isinstance(h.fn, BasePruningMethod) and h.fn._tensor_name == name]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        first = not hooks
        if not first:
            previous = hooks[0].fn
            if not isinstance(previous, PruningContainer):
                previous = PruningContainer(previous)
            previous.add_pruning_method(method)
            method = previous
        # (checked before the attribute is read: LSTM's `bias` is a flag, whose bool has no .detach)
        if first and not isinstance(module._parameters.get(name), Tensor):
            raise AttributeError(f"'{type(module).__name__}' has no parameter '{name}' to prune")
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(f"importance_scores should have the same shape as parameter {name} of {module}")
        scores = (orig if importance_scores is None else importance_scores).detach()
        if first:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig.detach())
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            with no_grad():
                mask = method.compute_mask(scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
        except Exception:
            if first:  # leave the module as it was
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        if not first:
            module._forward_pre_hooks.remove(hooks[0])
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t times the mask this method computes for it (from importance_scores, t by default)."""
        scores = (t if importance_scores is None else importance_scores).detach()
        with no_grad():
            mask = self.compute_mask(scores, default_mask=ones_like(scores) if default_mask is None else default_mask)
        return t * mask

    def remove(self, module):
        """Makes module.<name> a parameter again, holding <name>_orig * <name>_mask (the <name>_orig Parameter object
        itself, with those values), and drops <name>_orig and <name>_mask."""
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        orig = module._parameters.pop(name + "_orig")
        orig.data = weight
        del module._buffers[name + "_mask"]
        module.register_parameter(name, orig)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied in turn to one parameter: each new one computes its mask on what the previous
    ones left (the remaining elements for an unstructured method, the remaining channels for a structured one)."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        """Appends a method for the same parameter."""
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method).__name__} is not a BasePruningMethod subclass")
        if self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                             f"PruningContainer. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """default_mask with the last method's mask computed on the part of t still unpruned."""
        method = self._pruning_methods[-1]
        mask = default_mask.clone()
        if method.PRUNING_TYPE == "unstructured":
            where = (default_mask == 1,)
        elif method.PRUNING_TYPE == "structured":
            dim = _structured_dim(t, method.dim)
            others = tuple(d for d in range(t.ndim) if d != dim)
            where = (slice(None),) * dim + ((default_mask.sum(others) != 0),)
        elif method.PRUNING_TYPE == "global":
            where = (slice(None),) * t.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE!r}")
        mask[where] = method.compute_mask(t[where], default_mask=default_mask[where]).to(mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays as it is (all ones at first)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        """default_mask itself."""
        return default_mask

    @classmethod
    def apply(cls, module, name):
        """Sets up the pruning of module.<name> without pruning anything. Returns the method."""
        return super().apply(module, name)


class Unstructured(BasePruningMethod):
    """Prunes `amount` elements (a count, or a fraction of them) of the tensor, wherever they are; a subclass says
    which (`_chosen`)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        """default_mask with the `amount` chosen elements of t set to 0."""
        k = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if k:
            mask.reshape(-1)[self._chosen(t.reshape(-1), k)] = 0
        return mask


class RandomUnstructured(Unstructured):
    """Prunes `amount` elements (a count, or a fraction of them) chosen at random (tl.rand's stream)."""

    def _chosen(self, flat, k):
        return rand_like(flat).topk(k).indices

    @classmethod
    def apply(cls, module, name, amount):
        """Prunes `amount` random elements of module.<name>. Returns the method."""
        return super().apply(module, name, amount=amount)


class L1Unstructured(Unstructured):
    """Prunes the `amount` elements (a count, or a fraction of them) of smallest magnitude."""

    def _chosen(self, flat, k):
        return flat.abs().topk(k, largest=False).indices

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        """Prunes the `amount` elements of module.<name> of smallest |importance_scores|. Returns the method."""
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes `amount` whole channels along dim (a count, or a fraction of them), chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        """default_mask with `amount` random channels of t along dim set to 0."""
        dim = _structured_dim(t, self.dim)
        k = _count(self.amount, t.shape[dim])
        if not k:
            return default_mask
        scores = rand(t.shape[dim], device=t.device)
        return _channels(t, dim, scores > scores.kthvalue(k).values, default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        """Prunes `amount` random channels of module.<name> along dim. Returns the method."""
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes `amount` whole channels along dim (a count, or a fraction of them): those of smallest L_n norm (n an
    int, a float, inf, -inf or 'fro')."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        """default_mask with the `amount` channels of t along dim of smallest L_n norm set to 0."""
        dim = _structured_dim(t, self.dim)
        size = t.shape[dim]
        k = _count(self.amount, size)
        if not k:
            return default_mask
        # The channels' norms in float64 on the host (once per pruning): norms rounded to f16 tie or swap channels
        # whose float64 norms PyTorch tells apart.
        channels = np.moveaxis(t.detach().cpu().numpy().astype(np.float64), dim, 0).reshape(size, -1)
        norms = np.linalg.norm(channels, ord=self.n, axis=1)
        keep = np.zeros(size, dtype=bool)
        keep[np.argsort(-norms, kind="stable")[:size - k]] = True
        return _channels(t, dim, tensor(keep, device=t.device), default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        """Prunes the `amount` channels of module.<name> along dim of smallest L_n norm. Returns the method."""
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given mask (of the parameter's shape) is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        """default_mask times the given mask."""
        if tuple(self.mask.shape) != tuple(default_mask.shape):
            raise ValueError(f"custom_from_mask: the mask's shape {tuple(self.mask.shape)} is not the parameter's "
                             f"{tuple(default_mask.shape)}")
        return default_mask * self.mask.to(default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        """Prunes module.<name> where the given mask is 0. Returns the method."""
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Prunes nothing but sets up the pruning structure (name_orig, name_mask of ones, the hook); returns module."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prunes amount (a count or a fraction) random elements of module.<name>; returns module."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prunes the amount (a count or a fraction) elements of module.<name> of smallest |importance_scores| (the
    parameter itself by default); returns module."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prunes amount (a count or a fraction) random channels of module.<name> along dim; returns module."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prunes the amount (a count or a fraction) channels along dim of smallest L_n norm of importance_scores (the
    parameter by default); returns module."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prunes the (module, name) parameters together: pruning_method (an unstructured method class, e.g.
    L1Unstructured, with its kwargs such as amount) runs once on all of their elements joined (importance_scores: a
    dict {(module, name): scores}, the parameters by default), and each parameter gets its part of the mask."""
    if isinstance(parameters, (str, bytes)) or not hasattr(parameters, "__iter__"):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n)).detach() for m, n in parameters])
    default = parameters_to_vector([getattr(m, n + "_mask") if hasattr(m, n + "_mask") else ones_like(getattr(m, n))
                                    for m, n in parameters])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container = PruningContainer()
    container._tensor_name = method._tensor_name = "temp"
    container.add_pruning_method(method)
    with no_grad():
        mask = container.compute_mask(scores, default)
    offset = 0
    for module, name in parameters:
        size = getattr(module, name).numel()
        custom_from_mask(module, name, mask[offset:offset + size].reshape(getattr(module, name).shape))
        offset += size


def custom_from_mask(module, name, mask):
    """Prunes module.<name> where `mask` (of its shape) is 0; returns module."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Makes the pruning of module.<name> permanent: the parameter holds the pruned values, and name_orig,
    name_mask and the hook are gone. Returns module."""
    for hook in list(getattr(module, "_forward_pre_hooks", [])):
        if isinstance(hook.fn, BasePruningMethod) and hook.fn._tensor_name == name:
            hook.fn.remove(module)
            module._forward_pre_hooks.remove(hook)
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """True when module or one of its submodules has a parameter pruned (a pruning hook)."""
    return any(isinstance(h.fn, BasePruningMethod) for m in module.modules() for h in m._forward_pre_hooks)


__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
           "random_structured", "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]
