"""PyTorch's legacy typed constructors: tl.FloatTensor(2, 3) (uninitialised, of that size), tl.LongTensor([1, 2])
(from data), and isinstance(t, tl.FloatTensor). Older programs (pygcn, many tutorials) build parameters and
index tensors with them. Every float type means float16 here (SPEC §1). set_default_tensor_type takes these types
or their names."""
from . import _core
from .creation import empty, tensor
from .device import available_devices, set_default_device
from .dtypes import bool as _bool, float16, int16, int32, int64, int8, is_narrow_integer, narrow_integer_error, uint8
from .errors import DeviceError
from .tensor import Tensor, is_legacy_size, refuse_lone_number
from .type_info import Size


class _LegacyType(type):
    """The metaclass: calling the class makes a Tensor; isinstance checks the dtype; str gives PyTorch's type
    string, so t.type(tl.LongTensor) and as_dtype accept the class."""

    def __call__(cls, *args, device=None):
        if is_narrow_integer(cls.dtype):
            raise narrow_integer_error(cls.__name__, "tensor type")
        if len(args) == 1 and not is_legacy_size(args[0]) and not isinstance(args[0], Size):
            data = args[0]
            refuse_lone_number("new", data)
            if isinstance(data, Tensor) and data.dtype != cls.dtype:
                raise TypeError(f"{cls}(): expected a {cls.dtype.name} tensor, got {data.dtype.name} "
                                f"(convert it with .to({cls.dtype.name}))")
            return tensor(data, dtype=cls.dtype, device=device)
        sizes = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
        if not all(is_legacy_size(n) for n in sizes):
            raise TypeError(f"{cls}(): expected sizes (ints) or one sequence of data, got {args!r}")
        return empty(*(int(n) for n in sizes), dtype=cls.dtype, device=device)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __str__(cls):
        return f"torch.{cls.__name__}"

    __repr__ = __str__


def _legacy(name, dtype):
    doc = f"torch.{name}: a {dtype.name} tensor from sizes (uninitialised) or from data."
    return _LegacyType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": __name__})


FloatTensor = _legacy("FloatTensor", float16)
DoubleTensor = _legacy("DoubleTensor", float16)
HalfTensor = _legacy("HalfTensor", float16)
BFloat16Tensor = _legacy("BFloat16Tensor", float16)
LongTensor = _legacy("LongTensor", int64)
IntTensor = _legacy("IntTensor", int32)
BoolTensor = _legacy("BoolTensor", _bool)
# Names only, as tl.uint8 is: making one raises the narrow-integer TypeError, and no tensor is an instance.
ByteTensor = _legacy("ByteTensor", uint8)
CharTensor = _legacy("CharTensor", int8)
ShortTensor = _legacy("ShortTensor", int16)
_TYPES = {cls.__name__: cls for cls in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor,
                                        BoolTensor)}

def set_default_tensor_type(t):
    """torch.set_default_tensor_type (deprecated in PyTorch, which points at set_default_dtype and
    set_default_device): t is a float tensor type (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, all
    float16 here) or its name, such as 'torch.FloatTensor' or 'torch.cuda.FloatTensor'. The default device becomes
    the CPU, or the GPU for a 'torch.cuda.' name (DeviceError where this build has no CUDA device); the default
    float dtype stays float16. Integer and bool types are a TypeError, as in PyTorch."""
    name = t if isinstance(t, str) else str(t) if isinstance(t, _LegacyType) else None
    if name is None:
        raise TypeError(f"invalid type object: {t!r}; expected a tensor type such as tl.FloatTensor or its name")
    prefix, _, short = name.rpartition(".")
    cls = _TYPES.get(short)
    if cls is None or prefix not in ("", "torch", "tensorlogic", "torch.cuda", "tensorlogic.cuda"):
        raise TypeError(f"invalid type {name!r}; expected one of {[f'torch.{n}' for n in _TYPES]} or a "
                        "'torch.cuda.' form")
    if not cls.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if prefix.endswith("cuda"):
        if not _core.is_available("cuda"):
            raise DeviceError(f"set_default_tensor_type: type {name} not available: this build has no CUDA device "
                              f"(available: {available_devices()})")
        set_default_device("cuda")
    else:
        set_default_device("cpu")


__all__ = [*_TYPES, "ByteTensor", "CharTensor", "ShortTensor", "set_default_tensor_type"]
