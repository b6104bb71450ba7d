"""Creating tensors (PyTorch's signatures): tensor, from_numpy, from_dlpack, zeros, ones, full, empty,
arange, linspace, eye and the *_like forms."""
import math
import numbers

import numpy as np

from . import _core
from ._convert import EXACT_IN_FLOAT, check_f16_range, check_int_fill, numpy_to_array
from .device import device_name
from .dtypes import as_dtype, float16, int64
from .dtypes import bool as bool_
from .tensor import Tensor, _shape_args, _size_keyword, _wrap

__all__ = ["tensor", "as_tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty", "arange", "linspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "is_tensor"]


def _finish(t, requires_grad):
    if requires_grad:
        if not t.is_floating_point():
            raise TypeError(f"only float16 tensors can require gradients (this one is {t.dtype.name})")
        t.requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, numpy arrays, tensors)."""
    if isinstance(data, Tensor):
        a = data._a
        if dtype is not None:
            a = _core.astype(a, as_dtype(dtype).name)
        a = _core.to_device(a, device_name(device if device is not None else a.device))
        return _finish(_wrap(_core.clone(a) if a.data_ptr() == data._a.data_ptr() else a), requires_grad)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [np.asarray(x) if isinstance(x, Tensor) else x for x in data]
    return _finish(_wrap(numpy_to_array(data, dtype, device_name(device), True)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory where it can (tensors, numpy arrays of our dtypes on the CPU)."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return _wrap(numpy_to_array(data, dtype, device_name(device), False))


def from_numpy(array):
    """A CPU tensor over the numpy array's memory (float16/int32/int64/bool with whole-element strides: no copy,
    writes show on both sides); other dtypes are converted, so they are copies (float data beyond ±65504
    raises PrecisionOverflowError)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _wrap(numpy_to_array(array, None, "cpu", not array.flags.writeable))


def from_dlpack(obj):
    """A tensor over the memory of a DLPack producer (an object with __dlpack__, e.g. a torch tensor or a
    numpy array, or a capsule), without copying. float16, int32, int64 and bool data only."""
    if hasattr(obj, "__dlpack__"):
        try:
            capsule = obj.__dlpack__(max_version=(1, 0))
        except TypeError:  # producers from before DLPack 1.0 take no max_version
            capsule = obj.__dlpack__()
    else:
        capsule = obj
    a = _core.from_dlpack(capsule)
    if a.device != "cpu":
        _core.synchronize(a.device)  # device-wide: the producer's queued work on its own streams completes
    return _wrap(a)


def _dtype_name(dtype, default):
    return (as_dtype(dtype) or default).name


def _full(size, value, dtype, device, requires_grad):
    default = bool_ if isinstance(value, bool) else int64 if _is_int(value) else float16
    name = _dtype_name(dtype, default)
    if name == "float16":
        check_f16_range(np.asarray(float(value)))
    elif name != "bool" and not (isinstance(value, numbers.Number) and math.isfinite(value)):
        raise ValueError(f"cannot fill an {name} tensor with {value!r}")
    if name in ("int32", "int64"):
        value = check_int_fill(value, name, "full")
        if abs(value) > EXACT_IN_FLOAT:
            out = _wrap(_core.full(list(size), 0.0, name, device_name(device)))
            return _finish(out.copy_(tensor(value, dtype=int64, device=device)), requires_grad)
    return _finish(_wrap(_core.full(list(size), float(value), name, device_name(device))), requires_grad)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of zeros of the given size (varargs, one sequence or size=); float16 unless dtype says otherwise,
    on `device` (default: the default device)."""
    return _full(_shape_args(_size_keyword(size, kwargs, "zeros")), 0, dtype or float16, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of ones of the given size (varargs, one sequence or size=); float16 unless dtype says otherwise."""
    return _full(_shape_args(_size_keyword(size, kwargs, "ones")), 1, dtype or float16, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """The dtype follows fill_value when not given: bool for bools, int64 for ints, float16 otherwise."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _full(_shape_args((size,)), fill_value, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """An uninitialised tensor of the given size (varargs, one sequence or size=); float16 unless dtype says
    otherwise. Its contents are whatever the allocator's buffer held."""
    a = _core.empty(list(_shape_args(_size_keyword(size, kwargs, "empty"))), _dtype_name(dtype, float16), device_name(device))
    return _finish(_wrap(a), requires_grad)


def _like(input, dtype, device):
    return input.shape, (dtype or input.dtype), (device if device is not None else input._a.device)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    """zeros with input's shape, and its dtype and device unless given."""
    shape, dtype, device = _like(input, dtype, device)
    return _full(shape, 0, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """ones with input's shape, and its dtype and device unless given."""
    shape, dtype, device = _like(input, dtype, device)
    return _full(shape, 1, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of input's shape filled with fill_value, with input's dtype and device unless given."""
    shape, dtype, device = _like(input, dtype, device)
    return _full(shape, fill_value, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor with input's shape, and its dtype and device unless given."""
    shape, dtype, device = _like(input, dtype, device)
    return empty(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """[start, end) in steps; int64 when all of start, end, step are ints, float16 otherwise."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for v in values:
        if not isinstance(v, numbers.Real):
            raise TypeError(f"arange: start, end and step must be numbers, got {v!r}")
    default = int64 if all(_is_int(v) for v in values) else float16
    a = _core.arange(float(values[0]), float(values[1]), float(values[2]), _dtype_name(dtype, default), device_name(device))
    return _finish(_wrap(a), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` values evenly spaced from start to end inclusive (computed in f32, stored as float16 unless dtype
    says otherwise)."""
    if not _is_int(steps):
        raise TypeError(f"linspace: steps must be an int, got {steps!r}")
    a = _core.astype(_core.linspace(float(start), float(end), int(steps), device_name(device)), _dtype_name(dtype, float16))
    return _finish(_wrap(a), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (m defaults to n); float16 unless dtype says otherwise."""
    a = _core.astype(_core.eye(int(n), int(n if m is None else m), device_name(device)), _dtype_name(dtype, float16))
    return _finish(_wrap(a), requires_grad)


def is_tensor(obj):
    """True when obj is a tl.Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)
