"""tl.Tensor: a thin Python handle on a native array, with PyTorch's names and semantics."""
import numbers

import numpy as np

from . import _core
from ._convert import numpy_to_array
from .device import device, device_name
from .dtypes import _BY_NAME, as_dtype

_U = _core.UnaryOp
_B = _core.BinaryOp


class Tensor:
    """An n-dimensional float16 (or int32 index) array on a device."""

    # _a: the native array. The rest belongs to autograd (tensorlogic.autograd): whether gradients
    # flow, the accumulated gradient, the node that produced this tensor, and the in-place version.
    __slots__ = ("_a", "requires_grad", "grad", "grad_fn", "_version", "_retains_grad", "_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy defers to our reflected operators

    def __init__(self, data, dtype=None, device=None):
        self._a = data._a if isinstance(data, Tensor) else numpy_to_array(data, dtype, device_name(device), True)
        _init_autograd_fields(self)

    # ---- attributes ------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    def size(self, dim=None):
        return self._a.shape if dim is None else self._a.shape[dim]

    @property
    def ndim(self):
        return self._a.ndim

    def dim(self):
        return self._a.ndim

    @property
    def dtype(self):
        return _BY_NAME[self._a.dtype]

    @property
    def device(self):
        return device(self._a.device)

    def numel(self):
        return self._a.numel()

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    # ---- host data -------------------------------------------------------------------------------
    def numpy(self):
        """The data as a numpy array; shares memory with a CPU tensor (no copy)."""
        a = self._a if self._a.device == "cpu" else _core.to_device(self._a, "cpu")
        return np.asarray(a)

    def __array__(self, dtype=None, copy=None):
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        if self._a.numel() != 1:
            raise ValueError(f"item(): a tensor with {self._a.numel()} elements cannot be converted to a Python scalar")
        return self.numpy().reshape(-1)[0].item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._a.numel() != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", precision=4, prefix="tensor(")
        extra = "" if self.dtype.name == "float16" else f", dtype={self.dtype!r}"
        extra += "" if self._a.device == "cpu" else f", device='{self._a.device}'"
        return f"tensor({body}{extra})"

    # ---- movement and views ----------------------------------------------------------------------
    def to(self, target=None, dtype=None):
        if isinstance(target, type(self.dtype)) or (dtype is None and _looks_like_dtype(target)):
            target, dtype = None, target
        a = self._a
        if dtype is not None:
            a = _core.astype(a, as_dtype(dtype).name)
        if target is not None:
            a = _core.to_device(a, device_name(target))
        return self if a is self._a else _wrap(a)

    def cpu(self):
        return self.to("cpu")

    def contiguous(self):
        return _wrap(_core.contiguous(self._a))

    def clone(self):
        return _wrap(_core.clone(self._a))

    def is_contiguous(self):
        return self._a.is_contiguous()

    def reshape(self, *shape):
        return _wrap(_core.reshape(self._a, _shape_args(shape)))

    def view(self, *shape):
        return _wrap(_core.view(self._a, _shape_args(shape)))

    def transpose(self, dim0, dim1):
        return _wrap(_core.transpose(self._a, dim0, dim1))

    def permute(self, *dims):
        return _wrap(_core.permute(self._a, list(_shape_args(dims))))

    @property
    def T(self):
        return _wrap(_core.permute(self._a, list(range(self._a.ndim - 1, -1, -1))))

    # ---- arithmetic --------------------------------------------------------------------------------
    def __add__(self, other):
        return _binary(_B.add, self, other)

    def __radd__(self, other):
        return _binary(_B.add, other, self)

    def __sub__(self, other):
        return _binary(_B.sub, self, other)

    def __rsub__(self, other):
        return _binary(_B.sub, other, self)

    def __mul__(self, other):
        return _binary(_B.mul, self, other)

    def __rmul__(self, other):
        return _binary(_B.mul, other, self)

    def __truediv__(self, other):
        return _binary(_B.div, self, other)

    def __rtruediv__(self, other):
        return _binary(_B.div, other, self)

    def __neg__(self):
        return _wrap(_core.unary(_U.neg, self._a))

    def __eq__(self, other):
        return _binary(_B.eq, self, other)

    def __ne__(self, other):
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

    def exp(self):
        return _wrap(_core.unary(_U.exp, self._a))


def _looks_like_dtype(value):
    try:
        as_dtype(value)
        return value is not None
    except TypeError:
        return False


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


def _init_autograd_fields(t):
    t.requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._version = 0
    t._retains_grad = False
    t._hooks = None


def _wrap(array):
    """A new Tensor around a native array (no autograd history)."""
    t = Tensor.__new__(Tensor)
    t._a = array
    t.requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._version = 0
    t._retains_grad = False
    t._hooks = None
    return t


def tensor_method(*names):
    """Registers a function of an ops module as Tensor method(s): ops live in tensorlogic/ops/ by topic."""

    def register(fn):
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn

    return register


def _binary(op, a, b):
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return _wrap(_core.binary(op, a._a, b._a))
        if isinstance(b, numbers.Number):
            return _wrap(_core.binary_scalar(op, a._a, b))
        return _wrap(_core.binary(op, a._a, numpy_to_array(b, None, a._a.device, False)))
    if isinstance(a, numbers.Number):
        return _wrap(_core.rbinary_scalar(op, a, b._a))
    return _wrap(_core.binary(op, numpy_to_array(a, None, b._a.device, False), b._a))
