"""Creating tensors (PyTorch's signatures): tensor, as_tensor, asarray, from_numpy, from_dlpack, zeros, ones, full,
empty, empty_strided, scalar_tensor, arange, range, linspace, eye and the *_like forms."""
import builtins
import math
import numbers
import warnings

import numpy as np

from . import _core
from ._convert import EXACT_IN_FLOAT, canonical_bools, check_f16_range, check_int_fill, numpy_to_array
from .device import device_name
from .dtypes import as_dtype, float16, int64
from .dtypes import bool as bool_
from .tensor import Tensor, _shape_args, _size_keyword, _wrap

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty", "empty_strided",
           "scalar_tensor", "arange", "range", "linspace", "eye", "zeros_like", "ones_like", "full_like", "empty_like",
           "is_tensor"]


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


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """obj as a tensor, as torch.asarray: sharing obj's memory where it can (a tensor of the asked dtype and device is
    returned itself; numpy arrays of float16/int32/int64/bool on the CPU and DLPack producers are viewed), copying
    where it must (other dtypes, devices, Python data); copy=True always copies, copy=False raises ValueError rather
    than copy. Float data of other widths is converted to float16 (the only float dtype), so it is always a copy.
    requires_grad=None keeps a tensor's own (its history too), True makes the result require grad, False gives an
    alias outside autograd. Raw buffers (bytes, bytearray, memoryview) are refused: PyTorch reads them as the default
    float dtype, float32, which is float16 here."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        raise TypeError("asarray: raw buffers are not supported (PyTorch reads their bytes as float32, which is "
                        "float16 here); convert with numpy.frombuffer first")
    if isinstance(obj, Tensor):
        out = _asarray_tensor(obj, dtype, device, copy)
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__"):
        out = _asarray_host(np.asarray(obj), dtype, device, copy)
    elif hasattr(obj, "__dlpack__") and copy is not True and dtype is None:
        try:
            out = from_dlpack(obj)
        except (TypeError, ValueError, BufferError, RuntimeError):  # a dtype or device the core does not view
            if copy is False:
                raise ValueError(f"asarray: can't alias this {type(obj).__name__} (its dtype or device) into a "
                                 "tensor") from None
            out = _wrap(numpy_to_array(np.asarray(obj), None, device_name(device), True))
        if device is not None and out._a.device != device_name(device):
            out = _asarray_tensor(out, None, device, copy)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        out = tensor(obj, dtype=dtype, device=device)
    if requires_grad is None:
        return out
    if not requires_grad:
        return out.detach() if out.requires_grad else out
    return out if out.requires_grad else _finish(out.detach(), True)


def _asarray_tensor(obj, dtype, device, copy):
    same_dtype = dtype is None or as_dtype(dtype) is obj.dtype
    same_device = device is None or device_name(device) == obj._a.device
    if same_dtype and same_device:
        return obj.clone() if copy else obj
    if copy is False:
        raise ValueError(f"can't alias tensor with dtype {obj.dtype.name} on {obj._a.device} into dtype "
                         f"{(as_dtype(dtype) or obj.dtype).name} on {device_name(device)}.")
    return obj.to(dtype=dtype, device=device)


def _asarray_host(values, dtype, device, copy):
    array = numpy_to_array(values, dtype, device_name(device), bool(copy))
    if copy is False and (array.device != "cpu" or (values.size and array.data_ptr() != values.ctypes.data)):
        raise ValueError(f"can't alias an array of dtype {values.dtype} into a tensor of dtype "
                         f"{array.dtype} on {array.device} (float data other than float16 is converted)")
    return _wrap(array)


def from_numpy(array):
    """A CPU tensor over the numpy array's memory (float16/int32/int64/bool with whole-element strides: no copy,
    writes show on both sides); other dtypes are converted, so they are copies (float data beyond ±65504
    raises PrecisionOverflowError), and so is bool data holding bytes other than 0 and 1 (numpy's view of raw
    bytes), each such byte made True."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _wrap(numpy_to_array(array, None, "cpu", not array.flags.writeable))


def from_dlpack(obj):
    """A tensor over the memory of a DLPack producer (an object with __dlpack__, e.g. a torch tensor or a
    numpy array, or a capsule), without copying. float16, int32, int64 and bool data only; bool data on the CPU
    holding bytes other than 0 and 1 (numpy's view of raw bytes) is copied, each such byte made True."""
    if hasattr(obj, "__dlpack__"):
        try:
            capsule = obj.__dlpack__(max_version=(1, 0))
        except TypeError:  # producers from before DLPack 1.0 take no max_version
            capsule = obj.__dlpack__()
    else:
        capsule = obj
    a = _core.from_dlpack(capsule)
    if a.dtype == "bool" and a.device == "cpu":
        host = np.asarray(a)
        canonical = canonical_bools(host)
        if canonical is not host:  # bytes other than 0 and 1: a copy, as numpy_to_array makes
            a = _core.from_numpy(canonical)
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
    name = _dtype_name(dtype, default)
    if default is int64 and name == "int64" and max(abs(int(v)) for v in values) > _EXACT_DOUBLE_INT:
        return _finish(_wrap(_exact_int_arange(*(int(v) for v in values), device_name(device))), requires_grad)
    a = _core.arange(float(values[0]), float(values[1]), float(values[2]), name, device_name(device))
    return _finish(_wrap(a), requires_grad)


_EXACT_DOUBLE_INT = 2**53  # the core's arange computes in float64, exact for integers up to here
_INT64 = np.iinfo(np.int64)


def _exact_int_arange(start, end, step, device):
    """arange of integers beyond 2^53, in Python's integers: through float64, arange(2**62, 2**62 + 3) was empty
    and arange(2**53 + 1, 2**53 + 5) off by one."""
    if step == 0:
        raise ValueError("arange: step must be non-zero and the bounds finite")
    if not all(_INT64.min <= v <= _INT64.max for v in (start, end, step)):
        raise OverflowError(f"arange: values beyond the int64 range ({start}, {end}, {step})")
    count = max(0, -((start - end) // step))  # ceil((end - start) / step)
    if count > 2**60:
        raise MemoryError(f"arange: {count} elements exceed the available memory")
    # int64 arithmetic wraps on the way but every value it lands on lies in [start, end): exact
    values = np.int64(start) + np.int64(step) * np.arange(count, dtype=np.int64)
    return numpy_to_array(values, "int64", device, True)


def range(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False):  # noqa: A001 (torch.range)
    """torch.range (deprecated in PyTorch, which warns): start, start + step, ... up to end inclusive, float16 unless
    dtype says otherwise; floor((end - start) / step) + 1 values, each start + i * step computed in float64 and
    rounded once."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for v in values:
        if not isinstance(v, numbers.Real):
            raise TypeError(f"range: start, end and step must be numbers, got {v!r}")
    start, end, step = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"range: unsupported range {start} -> {end} (step {step})")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = int(math.floor((end - start) / step)) + 1
    return tensor(start + np.arange(count, dtype=np.float64) * step, dtype=dtype or float16, device=device,
                  requires_grad=requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number s; float16 unless dtype says otherwise (an int or bool too, as PyTorch's
    default float)."""
    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    return tensor(s, dtype=dtype or float16, device=device, requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    """An uninitialised tensor of `size` whose strides are `stride`, as torch.empty_strided. The strides must lay
    the elements out without overlap, each dimension's a multiple of the next smaller one (a permuted layout such as
    channels-last, with gaps allowed), or be 0 (a broadcast dimension); other strides raise NotImplementedError:
    the core makes views by slicing, permuting and expanding, not at arbitrary strides."""
    size, stride = _shape_args((size,)), _shape_args((stride,))
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided: sizes and strides must be non-negative, got sizes={list(size)} and "
                           f"strides={list(stride)}")
    for chained in ([d for d in builtins.range(len(size)) if stride[d] and size[d] != 1],
                    [d for d in builtins.range(len(size)) if stride[d]]):
        a = _strided(size, stride, chained, _dtype_name(dtype, float16), device_name(device))
        if a is not None and tuple(a.strides) == stride:
            return _finish(_wrap(a), requires_grad)
    raise NotImplementedError(f"empty_strided: strides {list(stride)} for sizes {list(size)} overlap or are not "
                              "multiples of each other; such layouts are not supported")


def _strided(size, stride, chained, dtype, device):
    """An array of `size` whose dims in `chained` have their strides, the others inserted with unsqueeze (the
    strides a size-1 dim gets in a contiguous layout) and expanded; None when the chain cannot be laid out. A
    buffer is allocated with one level per chained dim, from the slowest: the outermost holds its size, each inner
    one stride[outer] / stride[inner] elements (the padding), the innermost stride[fastest] (a step between
    elements); slicing each level to its size and permuting gives the strides."""
    order = sorted(chained, key=lambda d: (stride[d], d))  # fastest-varying first
    for inner, outer in zip(order, order[1:]):
        if stride[outer] % stride[inner] or stride[outer] // stride[inner] < size[inner]:
            return None
    spans = [stride[b] // stride[a] for a, b in zip(order, order[1:])]
    shape = ([size[order[-1]]] + spans[::-1] + [stride[order[0]]]) if order else []
    a = _core.empty(shape, dtype, device)
    if order:
        a = _core.select(a, len(shape) - 1, 0)  # the innermost step's first element
        for level, d in enumerate(reversed(order[:-1])):
            a = _core.slice(a, level + 1, 0, size[d], 1)
        a = _core.permute(a, [len(order) - 1 - order.index(d) for d in sorted(chained)])
    for d in builtins.range(len(size)):
        if d not in chained:
            a = _core.unsqueeze(a, d)
    return _core.expand(a, list(size)) if len(chained) < len(size) else a


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
