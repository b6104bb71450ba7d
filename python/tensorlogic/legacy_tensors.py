"""PyTorch's legacy typed constructors: tl.FloatTensor(2, 3) (uninitialised, of that size), tl.LongTensor([1, 2])
(from data), and isinstance(t, tl.FloatTensor). Older programs (pygcn, many tutorials) build parameters and
index tensors with them. Every float type means float16 here (SPEC §1)."""
from .creation import empty, tensor
from .dtypes import bool as _bool, float16, int32, int64
from .tensor import Tensor
from .type_info import Size


class _LegacyType(type):
    """The metaclass: calling the class makes a Tensor; isinstance checks the dtype; str gives PyTorch's type
    string, so t.type(tl.LongTensor) and as_dtype accept the class."""

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], int) and not isinstance(args[0], Size):
            data = args[0]
            if isinstance(data, Tensor) and data.dtype != cls.dtype:
                raise TypeError(f"{cls}(): expected a {cls.dtype.name} tensor, got {data.dtype.name} "
                                f"(convert it with .to({cls.dtype.name}))")
            return tensor(data, dtype=cls.dtype, device=device)
        sizes = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
        if not all(isinstance(n, int) for n in sizes):
            raise TypeError(f"{cls}(): expected sizes (ints) or one sequence of data, got {args!r}")
        return empty(*sizes, dtype=cls.dtype, device=device)

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

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "BoolTensor"]
