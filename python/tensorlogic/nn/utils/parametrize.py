"""torch.nn.utils.parametrize: a parameter or buffer of a module replaced by a computed tensor. The originals
move into module.parametrizations[name] (a ParametrizationList: the parametrization modules, applied in order,
and the original tensor, or tensors when right_inverse splits it), so state_dict keys read
`parametrizations.<name>.original` (or `.original0`, `.original1`, ...) as PyTorch's do; reading module.<name>
runs the parametrizations, assigning to it stores right_inverse of the value. The module's class is swapped for a
subclass "Parametrized<Class>" that carries the properties, as PyTorch does, so other modules of the class are
untouched."""
from contextlib import contextmanager

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..container import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Within it, each parametrized tensor is computed once on first access and reused (a parametrized weight
    read by several calls in one step)."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _register(module, name, tensor):
    """tensor as module.<name>: a parameter when it is one, else a buffer."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _same_kind(a, b):
    return isinstance(b, Tensor) and a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)


def _describe(t):
    return f"{t.dtype} {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in the order they apply, and the original tensor(s) they start from:
    `original` when the right inverses give one tensor, `original0`, `original1`, ... when they give several."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        before = original.detach()  # its dtype and shape, which `original.data = new` below may change
        new = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:  # as PyTorch: a right_inverse that cannot invert is the identity
                        pass
        if isinstance(new, Tensor):
            self.is_tensor, self.ntensors = True, 1
            if not unsafe and new.dtype != original.dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the dtype: original "
                                 f"{_describe(original)}, right_inverse(original) {_describe(new)}")
            with no_grad():
                original.data = new.detach()  # the same tensor object, so an optimizer holding it stays valid
            _register(self, "original", original)
        else:
            if not isinstance(new, (tuple, list)) or not all(isinstance(t, Tensor) for t in new):
                raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                                 f"Got {type(new).__name__}")
            self.is_tensor, self.ntensors = False, len(new)
            for i, tensor in enumerate(new):
                tensor = tensor.detach()
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, original.requires_grad)
                _register(self, f"original{i}", tensor)
        if not unsafe:
            with no_grad():
                value = self()
            if not _same_kind(before, value):
                raise ValueError(f"Registering a parametrization may not change the dtype or shape of the tensor "
                                 f"(unless unsafe=True): {_describe(before)} became {_describe(value)}")

    def _originals(self):
        return [self.original] if self.is_tensor else [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def forward(self):
        """The parametrized tensor: the first parametrization of the original(s), then each next one of that."""
        modules = list(self)
        x = modules[0](*self._originals())
        for module in modules[1:]:
            x = module(x)
        return x

    def right_inverse(self, value):
        """Stores value: the parametrizations' right_inverse, last to first, written into the original(s)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            values = [value] if self.is_tensor else list(value)
            if len(values) != self.ntensors:
                raise ValueError(f"'right_inverse' must return {self.ntensors} tensors, got {len(values)}")
            for original, new in zip(self._originals(), values):
                if not _same_kind(original, new):
                    raise ValueError(f"right_inverse gave {_describe(new)} for an original of {_describe(original)}")
                original.copy_(new)


def is_parametrized(module, tensor_name=None):
    """Whether module has any parametrization, or one on tensor_name when given."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def type_before_parametrizations(module):
    """The module's class as it was before any parametrization was registered."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def _inject_property(module, tensor_name):
    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Makes module.<tensor_name> the output of parametrization (a Module) applied to the present tensor, or to
    what its right_inverse makes of it; registering on an already parametrized name appends to its list.
    Returns module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization(): parametrization must be an nn.Module, got "
                        f"{type(parametrization).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            with no_grad():
                current = getattr(module, tensor_name)
                value = parametrization(current)
                if not _same_kind(current, value):
                    raise ValueError(f"Registering a parametrization may not change the dtype or shape of the "
                                     f"tensor (unless unsafe=True): {_describe(current)} became {_describe(value)}")
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe = plist.unsafe or unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"Module '{type(module).__name__}' has '{tensor_name}' set to None: nothing to "
                             "parametrize")
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            cls = type(module)
            module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})
            module.parametrizations = ModuleDict()
        module.parametrizations[tensor_name] = plist
        _inject_property(module, tensor_name)
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Removes the parametrizations of tensor_name: it becomes a plain parameter or buffer again, holding the
    parametrized value (leave_parametrized) or the original. When the last one goes, the class is restored."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name).detach()
            if value.dtype != original.dtype:
                raise ValueError(f"the parametrized {tensor_name} is {_describe(value)}, its original "
                                 f"{_describe(original)}: use leave_parametrized=False")
            original.data = value  # the same tensor object, so an optimizer holding it stays valid
    elif leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name).detach()
        originals = plist._originals()
        original = Parameter(value, originals[0].requires_grad) if isinstance(originals[0], Parameter) else value
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized "
                         "in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module
