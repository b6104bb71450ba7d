"""Parameter: a leaf Tensor that a Module registers as trainable; Buffer: a tensor that a Module registers as a
buffer when assigned to one of its attributes."""
from .. import _core
from ..complex_tensors import ComplexTensor
from ..creation import tensor
from ..dtypes import as_dtype
from ..errors import TensorLogicRuntimeError
from ..tensor import Tensor, _init_autograd_fields, _wrap


class Parameter(Tensor):
    """Shares the data of `data` (no copy) and requires grad by default."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _core.empty([0], "float16", _core.default_device())
        if isinstance(data, ComplexTensor):
            raise TypeError("Parameter: complex parameters are not supported; hold the real and imaginary parts as a "
                            "real Parameter of shape [..., 2] and use tl.view_as_complex in forward (PyTorch takes "
                            "that form too)")
        self._a = data._a if isinstance(data, Tensor) else tensor(data)._a
        _init_autograd_fields(self)
        self.requires_grad = bool(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """torch.nn.Buffer (PyTorch 2.5+): `module.name = nn.Buffer(t, persistent=False)` registers t as a buffer, as
    register_buffer(name, t, persistent) does. It shares t's data (no copy), with t's requires_grad, outside t's
    graph; the module keeps a plain tensor over the same data (PyTorch's buffer is a plain tensor too)."""

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = _core.empty([0], "float16", _core.default_device())
        self._a = data._a if isinstance(data, Tensor) else tensor(data)._a
        _init_autograd_fields(self)
        self.requires_grad = bool(getattr(data, "requires_grad", False))
        self.persistent = bool(persistent)

    def plain(self):
        """The tensor the module keeps: the same data and requires_grad, type Tensor."""
        out = _wrap(self._a)
        out.requires_grad = self.requires_grad
        return out


def check_parameter_dtype(module, dtype):
    """A layer's dtype argument: None or any float dtype (parameters are float16 whatever it says, SPEC §1);
    a RuntimeError, as PyTorch's, for an integer or bool one."""
    if dtype is not None and not as_dtype(dtype).is_floating_point:
        raise TensorLogicRuntimeError(f"{module}: parameters are floating point (float16), not {dtype}")


def zero_grads(parameters, set_to_none=True):
    """Clears the gradients of `parameters` (Module.zero_grad and Optimizer.zero_grad): drops them, or
    zeroes them in place on a tensor detached from any graph."""
    for p in parameters:
        grad = p.grad  # read once: another thread may clear it meanwhile
        if grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad = grad = grad.detach()
            _core.fill_(grad._a, 0.0)
