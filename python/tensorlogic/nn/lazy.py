"""The lazy modules (LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d,
LazyInstanceNorm1d/2d/3d) and their one mechanism, LazyModuleMixin: a layer whose input size is read from its first
input. Until then its parameters and running statistics are None (absent from parameters() and state_dict()); the
first forward builds the module it stands for (cls_to_become, with the size found and the constructor's other
arguments: the same initialisation, drawn from the stream as that constructor draws), takes over its parameters,
buffers and settings, and becomes that class, keeping its own hooks and mode. Build the optimizer after a first
forward, as in PyTorch. load_state_dict into a lazy module reads the size from the checkpoint's shapes instead."""
from ..errors import ShapeMismatchError
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .init import _skipped
from .instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm
from .layers import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm
from .parameter import check_parameter_dtype

# What Module keeps per instance: the lazy module keeps its own (hooks, mode); everything else comes from the module
# built for it.
_OWN = frozenset({"_parameters", "_buffers", "_non_persistent", "_modules", "_forward_pre_hooks", "_forward_hooks",
                  "_backward_pre_hooks", "_backward_hooks", "training"})


class LazyModuleMixin:
    """torch.nn.modules.lazy.LazyModuleMixin: subclasses give cls_to_become, `_lazy_names` (the parameters and buffers
    that wait for the size), `_size_of(*inputs)` (the size the first input implies), `_size_in(state_dict, prefix)`
    (the size a checkpoint implies, or None) and `_build(size, device)` (the module it becomes)."""

    cls_to_become = None
    _lazy_names = ()

    def _lazy_init(self, base_init, device, kwargs):
        """The constructor's work: the base class's constructor at size 0, with the initializers skipped (nothing is
        drawn until the size is known), then the lazy tensors set to None."""
        with _skipped():
            base_init(self, 0, device=device, **kwargs)
        object.__setattr__(self, "_lazy_device", device)
        object.__setattr__(self, "_lazy_kwargs", kwargs)
        placeholders = {}
        for name in self._lazy_names:
            table = self._parameters if name in self._parameters else self._buffers
            if table.get(name) is not None:
                placeholders[name] = table[name]
                table[name] = None
        object.__setattr__(self, "_lazy_placeholders", placeholders)

    def extra_repr(self):
        """The base's repr, with the size 0 and the tensors to come shown as present (PyTorch's repr)."""
        tables = {name: self._parameters if name in self._parameters else self._buffers for name in self._lazy_placeholders}
        for name, value in self._lazy_placeholders.items():
            tables[name][name] = value
        try:
            return super().extra_repr()
        finally:
            for name in self._lazy_placeholders:
                tables[name][name] = None

    def has_uninitialized_params(self):
        """True until the first forward (or a load_state_dict) has made the parameters."""
        return self.cls_to_become is not None and type(self) is not self.cls_to_become

    def initialize_parameters(self, *args, **kwargs):
        """Builds the parameters from the size the inputs imply and turns this module into cls_to_become."""
        input = args[0] if args else kwargs.get("input")
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}.forward(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__} (its size is what the module's parameters are made from)")
        self._materialize(self._size_of(input, *args[1:]), input.device)

    def _materialize(self, size, input_device):
        built = self._build(size, self._lazy_device if self._lazy_device is not None else input_device)
        for name, value in vars(built).items():
            if name not in _OWN:
                object.__setattr__(self, name, value)
        self._parameters.update(built._parameters)
        self._buffers.update(built._buffers)
        self._non_persistent.update(built._non_persistent)
        for name in ("_lazy_device", "_lazy_kwargs", "_lazy_placeholders"):
            vars(self).pop(name, None)
        self.__class__ = type(built)

    def _lazy_load(self, state_dict, prefix):
        """Module.load_state_dict's hook: materializes from the checkpoint's shapes (which it then loads)."""
        if self.has_uninitialized_params():
            size = self._size_in(state_dict, prefix)
            if size is not None:
                self._materialize(size, None)

    def forward(self, *args, **kwargs):
        """The first call: the parameters are made from the input, then the new class's forward runs."""
        self.initialize_parameters(*args, **kwargs)
        return self.forward(*args, **kwargs)


def _shape(state_dict, key, dim):
    value = state_dict.get(key)
    return None if value is None or len(value.shape) <= dim else int(value.shape[dim])


class LazyLinear(LazyModuleMixin, Linear):
    """Linear(in_features inferred, out_features): in_features is the first input's last dim."""

    cls_to_become = Linear
    _lazy_names = ("weight", "bias")

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        check_parameter_dtype("LazyLinear", dtype)
        self._lazy_init(Linear.__init__, device, dict(out_features=out_features, bias=bias))

    def _size_of(self, input, *rest):
        return input.shape[-1]

    def _size_in(self, state_dict, prefix):
        return _shape(state_dict, prefix + "weight", 1)

    def _build(self, size, device):
        return Linear(size, device=device, **self._lazy_kwargs)


class _LazyConvXd(LazyModuleMixin):
    """The lazy convolutions: in_channels is the input's channel dim (dim 1, or 0 for an unbatched input)."""

    _lazy_names = ("weight", "bias")

    def _size_of(self, input, *rest):
        spatial = self.cls_to_become._dims
        if input.ndim not in (spatial + 1, spatial + 2):
            raise ShapeMismatchError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to "
                                     f"{type(self).__name__}, but got input of size: {list(input.shape)}")
        return input.shape[1] if input.ndim == spatial + 2 else input.shape[0]

    def _build(self, size, device):
        return self.cls_to_become(size, device=device, **self._lazy_kwargs)


def _lazy_conv(name, base, doc):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        check_parameter_dtype(name, dtype)
        self._lazy_init(base.__init__, device, dict(out_channels=out_channels, kernel_size=kernel_size, stride=stride,
                                                    padding=padding, dilation=dilation, groups=groups, bias=bias,
                                                    padding_mode=padding_mode))

    def size_in(self, state_dict, prefix):
        channels = _shape(state_dict, prefix + "weight", 1)
        return None if channels is None else channels * self._lazy_kwargs["groups"]

    return type(name, (_LazyConvXd, base), {"__init__": __init__, "_size_in": size_in, "cls_to_become": base,
                                            "__doc__": doc, "__module__": __name__, "__qualname__": name})


def _lazy_conv_transpose(name, base, doc):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        check_parameter_dtype(name, dtype)
        self._lazy_init(base.__init__, device, dict(out_channels=out_channels, kernel_size=kernel_size, stride=stride,
                                                    padding=padding, output_padding=output_padding, groups=groups,
                                                    bias=bias, dilation=dilation, padding_mode=padding_mode))

    def size_in(self, state_dict, prefix):
        return _shape(state_dict, prefix + "weight", 0)

    return type(name, (_LazyConvXd, base), {"__init__": __init__, "_size_in": size_in, "cls_to_become": base,
                                            "__doc__": doc, "__module__": __name__, "__qualname__": name})


_CONV_DOC = "{base}(in_channels inferred, ...): in_channels is the first input's channel dim; PyTorch's arguments."
LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(f"Lazy{b.__name__}", b, _CONV_DOC.format(base=b.__name__))
                                      for b in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv_transpose(f"Lazy{b.__name__}", b, _CONV_DOC.format(base=b.__name__))
    for b in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


class _LazyNormBase(LazyModuleMixin):
    """The lazy batch and instance norms: num_features is the input's channel dim."""

    _lazy_names = ("weight", "bias", "running_mean", "running_var")
    _unbatched = None  # the rank of an unbatched input (the instance norms), whose channels are dim 0

    def _size_of(self, input, *rest):
        if input.ndim < 2 and self._unbatched != input.ndim:
            raise ShapeMismatchError(f"{type(self).__name__}: expected an input with a channel dim, got shape "
                                     f"{list(input.shape)}")
        return input.shape[0] if input.ndim == self._unbatched else input.shape[1]

    def _size_in(self, state_dict, prefix):
        for key in ("running_mean", "weight"):
            size = _shape(state_dict, prefix + key, 0)
            if size is not None:
                return size
        return None

    def _build(self, size, device):
        return self.cls_to_become(size, device=device, **self._lazy_kwargs)


def _lazy_norm(name, base, parent, affine, track, unbatched):
    """Lazy{base}: a `parent` (_BatchNorm or _InstanceNorm, as in PyTorch, where it is no {base}) that becomes one."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=affine, track_running_stats=track, device=None, dtype=None):
        check_parameter_dtype(name, dtype)
        self._lazy_init(parent.__init__, device, dict(eps=eps, momentum=momentum, affine=affine,
                                                      track_running_stats=track_running_stats))

    doc = f"{base.__name__}(num_features inferred, ...): num_features is the first input's channel dim."
    return type(name, (_LazyNormBase, parent), {"__init__": __init__, "cls_to_become": base, "_unbatched": unbatched,
                                                "_dims": base._dims, "__doc__": doc, "__module__": __name__,
                                                "__qualname__": name})


LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d = (_lazy_norm(f"Lazy{b.__name__}", b, _BatchNorm, True, True, None)
                                                     for b in (BatchNorm1d, BatchNorm2d, BatchNorm3d))
LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d = (
    _lazy_norm(f"Lazy{b.__name__}", b, _InstanceNorm, True, True, d)  # PyTorch's defaults: not InstanceNorm's
    for b, d in ((InstanceNorm1d, 2), (InstanceNorm2d, 3), (InstanceNorm3d, 4)))

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
