"""Tensor.new (PyTorch's legacy constructor), Tensor.new_zeros/new_ones/new_full/new_empty/new_empty_strided/
new_tensor (a new tensor on self's device with self's dtype unless told otherwise), the .data property (the same
storage outside autograd), copy.copy, copy.deepcopy, plain pickle, pin_memory and record_stream."""
import copy
import math

import numpy as np

from . import _core
from ._convert import numpy_to_array
from .autograd.views import leave
from .creation import empty, empty_strided, full, ones, tensor, zeros
from .device import check_stream
from .dtypes import _BY_NAME
from .errors import SerializationError
from .tensor import Tensor, _init_autograd_fields, _shape_args, _wrap, is_legacy_size, refuse_lone_number, tensor_method
from .type_info import Size


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
def new_empty_strided(self, size, stride, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of `size` with strides `stride` (tl.empty_strided's layouts), with self's dtype and
    device unless given."""
    dtype, device = _where(self, dtype, device)
    return empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad)


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


@tensor_method()
def new(self, *args, device=None):
    """PyTorch's legacy constructor, in self's dtype and on self's device (or `device`): new() is an empty 1-d tensor,
    new(*sizes) or new(size) (a tl.Size, such as x.shape or x.size()) an uninitialised tensor of those sizes,
    new(data) a copy of a list, tuple (x.new((1, 2)) is data, as in PyTorch) or array of numbers, and new(tensor) a
    tensor over that tensor's memory when its dtype is self's."""
    target = self.device if device is None else device
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype is not self.dtype:
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype.name}, got {other.dtype.name}")
        return _wrap(other._a) if other.device == target else other.detach().to(target)
    if (len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)) and not isinstance(args[0], Size)
            and not is_legacy_size(args[0])):
        return tensor(args[0], dtype=self.dtype, device=target)
    if len(args) == 1:
        refuse_lone_number("new", args[0])
    return empty(_shape_args(args) if args else (0,), dtype=self.dtype, device=target)


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
    previous, self._a = self._a, value._a
    leave(self, previous)  # no longer a view of its old memory, whose views keep viewing that


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
def record_stream(self, stream):
    """Marks the tensor as in use by `stream` (a tl.cuda.Stream of the tensor's device), as PyTorch's does for its
    allocator: a device has one stream here, so memory is never reused before the work queued on it."""
    check_stream(stream, self._a.device)


def _new_like(cls, array, requires_grad, state):
    """A tensor of type `cls` (a Parameter stays a Parameter) over `array`, a graph leaf, with the attributes a
    subclass keeps in its __dict__."""
    out = cls.__new__(cls)
    out._a = array
    _init_autograd_fields(out)
    out.requires_grad = requires_grad
    if state:
        out.__dict__.update(state)
    return out


def rebuild_tensor(cls, data, dtype, shape, device, requires_grad, state=None):
    """The tensor that Tensor.__reduce_ex__ pickled: its values (little-endian bytes, row-major), dtype name, shape,
    device name and requires_grad (and, from pickles of before the state moved to pickle's own state slot, a
    subclass's __dict__). Each part is checked, as a pickle may come from anywhere: a malformed one is a
    SerializationError saying what is wrong, a device this process lacks a DeviceError that names the ones it has."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise SerializationError(f"a pickled tensor is malformed: its class {cls!r:.80} is not a Tensor class")
    if not isinstance(dtype, str) or dtype not in _BY_NAME:
        raise SerializationError(f"a pickled tensor is malformed: unknown dtype {dtype!r:.80}")
    if not (isinstance(shape, (tuple, list)) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                     for s in shape)):
        raise SerializationError(f"a pickled tensor is malformed: its shape {shape!r:.80} is not a sequence of sizes")
    if not isinstance(data, (bytes, bytearray)):
        raise SerializationError(f"a pickled tensor is malformed: its data is a {type(data).__name__}, not bytes")
    item = _BY_NAME[dtype].numpy.newbyteorder("<")
    if len(data) != math.prod(shape) * item.itemsize:
        raise SerializationError(f"a pickled tensor is malformed: {len(data)} bytes of data for shape {list(shape)} "
                                 f"of {dtype}")
    if not isinstance(device, str) or state is not None and not isinstance(state, dict):
        raise SerializationError(f"a pickled tensor is malformed: device {device!r:.40} must be a name and the "
                                 f"attributes a dict")
    array = _core.reshape(numpy_to_array(np.frombuffer(data, dtype=item), dtype, device, True), list(shape))
    return _new_like(cls, array, bool(requires_grad), state)


@tensor_method()
def __reduce_ex__(self, protocol):
    """Plain pickle: the tensor's own values (a view pickles only what it views), dtype, shape, device and
    requires_grad, and a subclass's __dict__ as pickle's state (restored after the tensor exists, so an attribute
    may refer to the tensor itself). A GPU tensor is read to the host and unpickles on its device. As in PyTorch,
    the autograd graph is not pickled (a non-leaf unpickles as a leaf) and neither is .grad.
    tl.multiprocessing's pickler sends tensors through shared memory instead (its reducers take precedence)."""
    flat = _core.reshape(_core.contiguous(self._a), [self._a.numel()])
    values = np.asarray(flat if flat.device == "cpu" else _core.to_device(flat, "cpu"))
    data = values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
    args = (type(self), data, self._a.dtype, self._a.shape, self._a.device, self.requires_grad)
    state = getattr(self, "__dict__", None)
    return (rebuild_tensor, args, state) if state else (rebuild_tensor, args)


@tensor_method()
def __copy__(self):
    """copy.copy: a tensor of the same type over the same storage (PyTorch's copy.copy shares it too), a leaf with
    self's requires_grad."""
    return _new_like(type(self), self._a, self.requires_grad, dict(getattr(self, "__dict__", {})))


@tensor_method()
def __deepcopy__(self, memo):
    """A copy of the data with the same type (a Parameter stays a Parameter), requires_grad, grad and attributes;
    only graph leaves can be copied, as in PyTorch."""
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol")
    out = _new_like(type(self), _core.clone(self._a), self.requires_grad, None)
    memo[id(self)] = out
    if self.grad is not None:
        out.grad = copy.deepcopy(self.grad, memo)
    state = getattr(self, "__dict__", None)
    if state:
        out.__dict__.update(copy.deepcopy(state, memo))
    return out
