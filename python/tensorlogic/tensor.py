"""tl.Tensor: a thin Python handle on a native array, with PyTorch's names and semantics.

This file holds the class itself (attributes, host data and interop, conversions, operators); op
functions live in tensorlogic/ops/<topic>.py and attach themselves as methods with `tensor_method`."""
import numbers
import operator

import numpy as np

from . import _core
from ._convert import numpy_to_array
from ._repr import tensor_repr
from .device import device, device_name
from .dtypes import _BY_NAME, narrow_integer_error
from .errors import DeviceError
from .layouts import strided
from .memory_formats import check_memory_format, contiguous_format, is_contiguous_as
from .type_info import Size

_B = _core.BinaryOp
_NUMPY_MAX_DIMS = 64  # numpy 2's limit (NPY_MAXDIMS)
# The numbers the native scalar ops take (bool is an int); other numbers.Number kinds (Fraction, Decimal) go the
# array way, which names them, instead of reaching pybind11's "incompatible function arguments" with its C++ types.
_Number = (int, float, complex, np.number, np.bool_)


def is_legacy_size(n):
    """Whether the legacy constructors (torch.Tensor, FloatTensor, Tensor.new) read n as a size: an int, a numpy
    integer or a 0-d integer array (PyTorch reads any of these through __index__, so torch.Tensor(np.array(3)) is
    uninitialised of size 3, where a 0-d float or bool array is data), never a bool."""
    if isinstance(n, np.ndarray):
        return n.ndim == 0 and n.dtype.kind in "iu"
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def refuse_lone_number(name, data):
    """PyTorch's TypeError for a lone number (a float, a bool, a numpy scalar of either) given to a legacy
    constructor as its data."""
    if isinstance(data, (numbers.Number, np.generic)) and not is_legacy_size(data):
        raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__}); tl.tensor(x) makes a 0-d "
                        "tensor of a number")


def _legacy_sizes(args):
    """The sizes of torch.Tensor's size forms (no arguments, ints, or one Size), else None (data)."""
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    elif not all(is_legacy_size(n) for n in args):
        return None
    if any(n < 0 for n in args):
        raise RuntimeError(f"Tensor(): negative dimension in sizes {list(map(int, args))}")
    return [int(n) for n in args] if args else [0]


class Tensor(_core.TensorBase):  # the base gives memoryview(t) (the buffer protocol) before Python 3.12
    """An n-dimensional float16 (or int32 index) array on a device."""

    # _a: the native array. The rest belongs to autograd (tensorlogic.autograd): whether gradients
    # flow, the accumulated gradient and the node that produced this tensor. The in-place version
    # counter (`_version`) lives with the native storage, so views and detached tensors share it.
    # _post_accumulate_grad_hooks is left unset until register_post_accumulate_grad_hook (read with getattr), and so
    # is _column_sums: (version, sums over all but the last axis) that an activation's backward computed with this
    # gradient in its own pass, for the bias gradient of the linear layer before it (ops/elementwise.py), and so are
    # _view (on a view: its root and the steps that make it) and _views (on a root: its views), autograd/views.py's.
    __slots__ = ("_a", "requires_grad", "grad", "grad_fn", "_retains_grad", "_hooks", "_post_accumulate_grad_hooks",
                 "_column_sums", "_view", "_views", "__weakref__")
    __array_priority__ = 1000  # numpy defers to our reflected operators

    def __init__(self, *data, device=None):
        """torch.Tensor's legacy constructor: Tensor(2, 3) or Tensor(size) is an uninitialised float16 tensor of that
        size (old code builds parameters so: Parameter(Tensor(out, in))), Tensor() an empty one; Tensor(data) copies
        sequences and arrays into the default float dtype (float16) whatever their element type, and a tensor is
        shared as it is. A lone number is refused, as in PyTorch: tl.tensor(data) keeps data's dtype."""
        sizes = _legacy_sizes(data)
        if sizes is not None:
            self._a = _core.empty(sizes, "float16", device_name(device))
        elif len(data) != 1:
            raise TypeError(f"Tensor(): expected data (one sequence, array or tensor) or sizes (ints), got "
                            f"{', '.join(type(d).__name__ for d in data)}")
        elif isinstance(data[0], Tensor):
            self._a = data[0]._a
        elif isinstance(data[0], (str, bytes)):
            raise TypeError(f"Tensor(): invalid data type '{type(data[0]).__name__}'")
        else:
            refuse_lone_number("Tensor", data[0])
            self._a = numpy_to_array(data[0], "float16", device_name(device), True)
        _init_autograd_fields(self)

    # ---- attributes ------------------------------------------------------------------------------
    @property
    def _version(self):
        return self._a.version

    @_version.setter
    def _version(self, value):
        self._a.version = value

    @property
    def shape(self):
        """The size of each dimension: a tl.Size, the tuple of ints that torch.Size is (x.new(x.shape) reads it as
        sizes where a plain tuple is data)."""
        return Size(self._a.shape)

    def size(self, dim=None):
        """The shape (`dim=None`, a tl.Size) or the size of dimension `dim` (negative counts from the end)."""
        return Size(self._a.shape) if dim is None else self._a.shape[dim]

    @property
    def ndim(self):
        """The number of dimensions (0 for a scalar tensor)."""
        return self._a.ndim

    def dim(self):
        """The number of dimensions, as .ndim (ndimension is the same method)."""
        return self._a.ndim

    ndimension = dim

    @property
    def dtype(self):
        """The element type: tl.float16, tl.int32, tl.int64 or tl.bool."""
        return _BY_NAME[self._a.dtype]

    @property
    def device(self):
        """The tl.device the data lives on (cpu, cuda:N, metal or ane)."""
        return device(self._a.device)

    @property
    def is_cuda(self):
        """True when the tensor lives on a CUDA device."""
        return self._a.device.startswith("cuda")

    @property
    def is_cpu(self):
        """True when the tensor lives in host memory (the cpu device)."""
        return self._a.device == "cpu"

    @property
    def layout(self):
        """tl.strided: every tensor is dense, laid out by its strides."""
        return strided

    def to_dense(self, dtype=None, *, masked_grad=None):
        """self, already dense (converted to dtype if given), as PyTorch's to_dense of a strided tensor."""
        return self if dtype is None else self.to(dtype)

    # What PyTorch programs ask before taking a special path: a TensorLogic tensor is never sparse, quantized, nested,
    # an MKL-DNN or meta tensor, nor on PyTorch's mps or xpu devices (Apple's GPU is the metal device here).
    is_sparse = is_sparse_csr = is_quantized = is_nested = is_mkldnn = is_meta = is_mps = is_xpu = property(
        lambda self: False, doc="False: TensorLogic has no such tensors (PyTorch's flag of the same name).")

    def is_floating_point(self):
        """True for float16 tensors, the only floating type."""
        return self._a.dtype == "float16"

    def is_signed(self):
        """True unless the dtype is bool (float16, int32 and int64 are signed)."""
        return self._a.dtype != "bool"

    def numel(self):
        """The number of elements (the product of the shape); nelement is the same method."""
        return self._a.numel()

    nelement = numel

    def element_size(self):
        """Bytes per element: 2 for float16, 4 for int32, 8 for int64, 1 for bool."""
        return self.dtype.itemsize

    @property
    def itemsize(self):
        """Bytes per element, as element_size()."""
        return self.dtype.itemsize

    @property
    def nbytes(self):
        """The bytes of the elements this tensor views (numel() * element_size())."""
        return self._a.nbytes

    def stride(self, dim=None):
        """The strides in elements, as a tuple (`dim=None`) or for one dimension, as in PyTorch."""
        return self._a.strides if dim is None else self._a.strides[dim]

    def storage_offset(self):
        """The offset, in elements, of this view's first element in its storage."""
        return self._a.offset

    def data_ptr(self):
        """The address of the first element (an int; a device address for GPU tensors)."""
        return self._a.data_ptr()

    def is_contiguous(self, memory_format=None):
        """True when the elements are laid out row-major without gaps (strides of a fresh tensor), or densely in
        the given memory_format (tl.channels_last: NHWC strides)."""
        if check_memory_format(memory_format, "is_contiguous") in (None, contiguous_format):
            return self._a.is_contiguous()
        return is_contiguous_as(self.shape, self._a.strides, memory_format)

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    # ---- host data and interop -------------------------------------------------------------------
    def numpy(self, *, force=False):
        """The data as a numpy array; shares memory with a CPU tensor (no copy)."""
        if self._a.ndim > _NUMPY_MAX_DIMS:  # numpy would wrap the buffer in a 0-d object array instead
            raise ValueError(f"numpy(): a numpy array has at most {_NUMPY_MAX_DIMS} dims, this tensor has "
                             f"{self._a.ndim}")
        a = self._a if self._a.device == "cpu" else _core.to_device(self._a, "cpu")
        try:
            return np.asarray(a)
        except ValueError:  # an empty tensor whose other sizes multiply past what numpy counts (2^62 x 0)
            raise ValueError(f"numpy(): numpy cannot hold an array of shape {tuple(self._a.shape)} (its non-zero sizes "
                             "multiply past 2^63 bytes)") from None

    def __array__(self, dtype=None, copy=None):
        out = self.numpy()
        if copy is False and ((dtype is not None and np.dtype(dtype) != out.dtype) or self._a.device != "cpu"):
            raise ValueError("__array__: a copy is needed (another dtype or a non-cpu tensor) but copy=False")
        if dtype is not None and np.dtype(dtype) != out.dtype:
            return out.astype(dtype)
        return out.copy() if copy else out

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule viewing this tensor's memory (a copy only when copy=True)."""
        if dl_device is not None and tuple(dl_device) != _core.dlpack_device(self._a):
            raise BufferError(f"__dlpack__: the tensor is on {self._a.device}; move it with .to() first")
        a = _core.clone(self._a) if copy else self._a
        if a.device != "cpu":
            _core.synchronize(a.device)  # queued kernels finish before the consumer reads
        versioned = max_version is not None and max_version[0] >= 1
        return _core.to_dlpack(a, versioned)

    def __dlpack_device__(self):
        return _core.dlpack_device(self._a)

    def tolist(self):
        """The data as nested Python lists of numbers (a number for a 0-d tensor); copies to the host."""
        return self.numpy().tolist()

    def item(self):
        """The value of a one-element tensor as a Python number (float, int or bool); ValueError otherwise."""
        if self._a.numel() != 1:
            raise ValueError(f"item(): a tensor with {self._a.numel()} elements cannot be converted to a Python scalar")
        return self.reshape(-1).numpy()[0].item()  # (reshaped first: a one-element tensor may pass numpy's 64 dims)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._a.dtype not in ("int32", "int64", "bool") or self._a.numel() != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self._a.numel() != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __format__(self, spec):
        """format(t, '+.2f') formats a 0-d tensor's value, as PyTorch does; other tensors format as str()."""
        if self._a.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self):
        return tensor_repr(self)

    # ---- movement and conversion (to() lives in ops/shape.py, with the recorded device move) ----------
    def cpu(self):
        """The tensor on the CPU (itself if already there); the move is recorded for autograd."""
        return self.to("cpu")

    def cuda(self, device=None):
        """The tensor on a CUDA device: `device` is an index, a device or None (the current CUDA device)."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def type_as(self, other):
        """The tensor converted to `other`'s dtype, like .to(other.dtype)."""
        return self.to(dtype=other.dtype)

    def float(self):
        """float16: the only floating type (so .float(), .half(), .double() and .bfloat16() agree)."""
        return self.to(dtype="float16")

    half = float
    double = float
    bfloat16 = float

    def int(self):
        """The tensor as int32 (PyTorch's .int()); floats round toward zero."""
        return self.to(dtype="int32")

    def long(self):
        """The tensor as int64 (PyTorch's .long()); floats round toward zero."""
        return self.to(dtype="int64")

    def bool(self):
        """The tensor as bool: non-zero elements become True."""
        return self.to(dtype="bool")

    def byte(self):
        """PyTorch's uint8 conversion: absent (a TypeError naming what to use; see dtypes.narrow_integer_error)."""
        raise narrow_integer_error("uint8", "conversion Tensor.byte() to")

    def char(self):
        """PyTorch's int8 conversion: absent, as byte()."""
        raise narrow_integer_error("int8", "conversion Tensor.char() to")

    def short(self):
        """PyTorch's int16 conversion: absent, as byte()."""
        raise narrow_integer_error("int16", "conversion Tensor.short() to")

    def type(self, dtype=None, non_blocking=False):
        """type(): PyTorch's type string ('torch.HalfTensor', with 'cuda.' on a GPU: other devices count as
        the CPU's); type(dtype): the tensor converted, like .to(dtype)."""
        if dtype is None:
            name = self.dtype.tensor_type
            return name.replace("torch.", "torch.cuda.") if self.is_cuda else name
        return self.to(dtype=dtype)

    # ---- operators (the functions are in ops/elementwise.py; @ is ops/linalg.py's; & | ^ ~ << >> ops/bitwise.py's) ---
    def __pow__(self, other):
        return self.pow(other)

    def __pos__(self):
        return self

    def __eq__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented  # `t == None` is identity, like PyTorch
        return _binary(_B.eq, self, other)

    def __ne__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented
        return _binary(_B.ne, self, other)

    def __lt__(self, other):
        return _binary(_B.lt, self, other)

    def __le__(self, other):
        return _binary(_B.le, self, other)

    def __gt__(self, other):
        return _binary(_B.gt, self, other)

    def __ge__(self, other):
        return _binary(_B.ge, self, other)

    __hash__ = object.__hash__

    # In place: the result is written into this tensor's memory and the version counter moves on.
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __iand__(self, other):
        _check_bools("&=", self, other)
        return self.logical_and_(other)

    def __ior__(self, other):
        _check_bools("|=", self, other)
        return self.logical_or_(other)

    def __ixor__(self, other):
        _check_bools("^=", self, other)
        return self.logical_xor_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ipow__(self, other):
        return self.pow_(other)


def _size_keyword(size, kwargs, name):
    """The varargs `size` of a factory (zeros, empty, rand, ...), or its size= keyword, which PyTorch accepts too
    (torch.empty(size=(2, 3))); any other keyword left in `kwargs` is a TypeError."""
    if "size" in kwargs:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kwargs.pop("size"),)
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    return size


def _shape_args(shape):
    """Sizes given as varargs or as one sequence (PyTorch accepts both), as a tuple of ints."""
    if len(shape) == 1 and shape[0].__class__ is not int and not isinstance(shape[0], numbers.Integral):
        try:  # one int-like size (an object with __index__, a 0-d integer tensor), as PyTorch reads it
            return (operator.index(shape[0]),)
        except TypeError:
            shape = shape[0]
    for s in shape:  # plain ints (the usual case, and every .shape): no per-size conversion call
        if s.__class__ is not int:
            break
    else:
        return tuple(shape)
    try:
        return tuple(operator.index(s) for s in shape)  # ints, numpy ints, one-element int32 tensors
    except TypeError:
        raise TypeError(f"sizes must be ints (as varargs or one sequence), got {shape!r}") from None


def _init_autograd_fields(t):
    t.requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._retains_grad = False
    t._hooks = None


# _wrap(array): a new Tensor around a native array, with _init_autograd_fields' values (no autograd history).
# On the hot path of every op, so native (python/src/bind_autograd.cpp): 0.05 us against 0.24 in Python.
_core.configure_tensor(Tensor)
_wrap = _core.wrap

# .grad and .requires_grad are checked where they are set, as PyTorch checks them: a gradient of another shape,
# dtype or device, or not a tensor at all, would else surface later in an optimizer or clip_grad_norm_ (or never),
# and an int32 tensor set to require grad reached the float kernels of backward. The slots stay slots (the native
# engine reads and writes them at their offsets, and every op reads them): only their writes go through the checks.
def _checked_grad(self, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
    if value._a.shape != self._a.shape:
        raise RuntimeError(f"assigned grad has data of a different size: {list(value._a.shape)} for a tensor of "
                           f"shape {list(self._a.shape)}")
    if value._a.dtype != self._a.dtype:
        raise RuntimeError(f"assigned grad has data of a different type: {value._a.dtype} for a tensor of dtype "
                           f"{self._a.dtype}")
    if value._a.device != self._a.device:
        raise DeviceError(f"assigned grad is on {value._a.device}, the tensor on {self._a.device}")
    return value


def _checked_requires_grad(self, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"requires_grad must be a bool, got {type(value).__name__}")
    if value and self._a.dtype != "float16":
        raise RuntimeError(f"only float16 tensors can require gradients (this one is {self._a.dtype})")
    return bool(value)


_core.check_slot_writes(Tensor, "grad", _checked_grad, True)
_core.check_slot_writes(Tensor, "requires_grad", _checked_requires_grad, False)


def tensor_method(*names):
    """Registers a function of an ops module as Tensor method(s): ops live in tensorlogic/ops/ by topic."""

    def register(fn):
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn

    return register


def _as_tensor_like(value, like):
    """`value` (a Tensor, number, numpy array or nested list) as a Tensor on `like`'s device."""
    if isinstance(value, Tensor):
        return value
    return _wrap(numpy_to_array(value, None, like._a.device, False))


def _binary(op, a, b):
    """op(a, b) with either side a Tensor, a Python number or array-like data (kept lean: every small op)."""
    if type(a) is Tensor or isinstance(a, Tensor):
        if type(b) is Tensor or isinstance(b, Tensor):
            return _wrap(_core.binary(op, a._a, b._a))
        if isinstance(b, _Number):
            return _wrap(_core.binary_scalar(op, a._a, b))
        return _wrap(_core.binary(op, a._a, numpy_to_array(b, None, a._a.device, False)))
    if isinstance(a, _Number):
        return _wrap(_core.rbinary_scalar(op, a, b._a))
    return _wrap(_core.binary(op, numpy_to_array(a, None, b._a.device, False), b._a))

