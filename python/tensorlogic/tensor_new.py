"""Tensor.new_zeros/new_ones/new_full/new_empty/new_tensor (a new tensor on self's device with self's dtype
unless told otherwise), the .data property (the same storage outside autograd), copy.deepcopy and
pin_memory."""
import copy

from . import _core
from .creation import empty, full, ones, tensor, zeros
from .tensor import Tensor, _init_autograd_fields, _shape_args, _wrap, tensor_method


def _where(self, dtype, device):
    return (self.dtype if dtype is None else dtype), (self.device if device is None else device)


@tensor_method()
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size (varargs or one sequence), with self's dtype and device unless given."""
    dtype, device = _where(self, dtype, device)
    return zeros(_shape_args(size), dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method()
def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size (varargs or one sequence), with self's dtype and device unless given."""
    dtype, device = _where(self, dtype, device)
    return ones(_shape_args(size), dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method()
def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size (varargs or one sequence), with self's dtype and device unless
    given."""
    dtype, device = _where(self, dtype, device)
    return empty(_shape_args(size), dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method()
def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value`, with self's dtype and device unless given."""
    dtype, device = _where(self, dtype, device)
    return full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method()
def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of `data`; its dtype is self's unless given (as in PyTorch, not inferred from the data)."""
    dtype, device = _where(self, dtype, device)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _get_data(self):
    """A tensor over the same storage that autograd does not track (changes to it are not recorded)."""
    return _wrap(self._a)


def _set_data(self, value):
    """Swaps in another tensor's storage (any shape) and keeps this tensor's identity, grad and requires_grad,
    as `param.data = new` does in PyTorch."""
    if not isinstance(value, Tensor):
        raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
    if self.requires_grad and not value.is_floating_point():
        raise TypeError("data: a tensor that requires grad must stay float16")
    self._a = value._a


Tensor.data = property(_get_data, _set_data)


@tensor_method()
def pin_memory(self, device=None):
    """The tensor itself: host memory is not page-locked here (copies to a GPU go through the backend's own
    staging), so `x.pin_memory().to("cuda", non_blocking=True)` behaves like `x.to("cuda")`."""
    return self


@tensor_method()
def is_pinned(self, device=None):
    """False: host memory is never page-locked here (see pin_memory)."""
    return False


@tensor_method()
def __deepcopy__(self, memo):
    """A copy of the data with the same type (a Parameter stays a Parameter), requires_grad and grad; only
    graph leaves can be copied, as in PyTorch."""
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol")
    out = type(self).__new__(type(self))
    memo[id(self)] = out
    out._a = _core.clone(self._a)
    _init_autograd_fields(out)
    out.requires_grad = self.requires_grad
    if self.grad is not None:
        out.grad = copy.deepcopy(self.grad, memo)
    return out
