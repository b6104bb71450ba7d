"""The element types (SPEC §1): float16 for all floating data; bool, int32 and int64 are exact and hold
what f16 cannot count (masks, indices, targets, counts). PyTorch's float dtype names all mean float16.
complex32 (a pair of float16s, PyTorch's layout of complex32) is the dtype of tl.complex's tensors, which only
the functions of tensorlogic/complex and tl.fft accept; PyTorch's complex names all mean it."""
import builtins

import numpy as np


class dtype:
    """An element type. tl.float16 (tl.half) holds every floating value: PyTorch's other float names, tl.float32,
    tl.float, tl.float64, tl.double and tl.bfloat16, are the same dtype, so code that asks for float32 gets float16.
    tl.int32 (tl.int) and tl.int64 (tl.long) hold indices, targets and counts exactly, and tl.bool holds masks.
    tl.complex32 (tl.chalf; tl.complex64, tl.cfloat, tl.complex128 and tl.cdouble are the same) is complex tensors'
    dtype (see tensorlogic.complex_tensors). Its fields: name, itemsize (bytes) and numpy (the numpy dtype: complex64
    for complex32, which numpy lacks)."""
    __slots__ = ("name", "itemsize", "numpy", "tensor_type")

    def __init__(self, name, itemsize, numpy_type, tensor_type):
        self.name = name
        self.itemsize = itemsize
        self.numpy = np.dtype(numpy_type)
        self.tensor_type = tensor_type  # PyTorch's legacy type string, what Tensor.type() returns

    @property
    def is_floating_point(self):
        """True for float16 only."""
        return self.name == "float16"

    @property
    def is_complex(self):
        """True for complex32 only."""
        return self.name == "complex32"

    @property
    def is_signed(self):
        """True for every dtype but bool and uint8."""
        return self.name not in ("bool", "uint8")

    def __repr__(self):
        return f"tensorlogic.{self.name}"

    def __reduce__(self):
        return (_lookup, (self.name,))


float16 = dtype("float16", 2, np.float16, "torch.HalfTensor")
int32 = dtype("int32", 4, np.int32, "torch.IntTensor")
int64 = dtype("int64", 8, np.int64, "torch.LongTensor")
bool = dtype("bool", 1, np.bool_, "torch.BoolTensor")  # noqa: A001 -- PyTorch's name (torch.bool)
half = float16
long = int64
_BY_NAME = {"float16": float16, "int32": int32, "int64": int64, "bool": bool}
# PyTorch's narrow integer dtypes are names only, so that code mentioning them imports and compares (no tensor has
# them); as_dtype refuses them: an int32 in their place would not wrap around as their arithmetic does.
uint8 = dtype("uint8", 1, np.uint8, "torch.ByteTensor")
int8 = dtype("int8", 1, np.int8, "torch.CharTensor")
int16 = dtype("int16", 2, np.int16, "torch.ShortTensor")
short = int16
_NARROW = {"uint8": uint8, "int8": int8, "int16": int16, "short": int16, "ByteTensor": uint8, "CharTensor": int8,
           "ShortTensor": int16}
# Not among _BY_NAME (the native arrays' dtypes) nor accepted by as_dtype: only complex_dtype() answers it.
complex32 = dtype("complex32", 4, np.complex64, "torch.ComplexHalfTensor")  # numpy has no complex32: its host form
_COMPLEX_NAMES = {"complex32", "chalf", "complex64", "cfloat", "complex128", "cdouble", "complex", "complex_",
                  "csingle", "clongdouble", "ComplexHalfTensor", "ComplexFloatTensor", "ComplexDoubleTensor"}

# Every name PyTorch or numpy gives a dtype, mapped to ours (float names all mean float16).
_ALIASES = {
    "float16": float16, "half": float16, "float32": float16, "float": float16, "float64": float16,
    "double": float16, "bfloat16": float16, "float_": float16,
    "int32": int32, "int": int32, "intc": int32,
    "int64": int64, "long": int64, "int_": int64, "intp": int64,
    "bool": bool, "bool_": bool,
    "HalfTensor": float16, "FloatTensor": float16, "DoubleTensor": float16, "BFloat16Tensor": float16,
    "IntTensor": int32, "LongTensor": int64, "BoolTensor": bool,
}


_PYTHON_TYPES = {builtins.float: float16, builtins.int: int64, builtins.bool: bool}


def _lookup(name):
    return complex32 if name == "complex32" else _NARROW[name] if name in _NARROW else _BY_NAME[name]


def _name_of(value):
    """The bare name of a dtype given as an object, a type or a string ('torch.float32' -> 'float32')."""
    if isinstance(value, builtins.type) and issubclass(value, np.generic):
        value = np.dtype(value)
    name = value if isinstance(value, str) else getattr(value, "name", None)
    if not isinstance(name, str):
        name = str(value)
    return name.replace("torch.cuda.", "").replace("torch.", "").replace("tensorlogic.", "")


def complex_dtype(value):
    """complex32 when `value` names a complex dtype (tl.complex32, PyTorch's complex64/cfloat/complex128/..., numpy's,
    Python's complex), else None."""
    if value is complex32 or value is builtins.complex:
        return complex32
    if value is None or isinstance(value, dtype) or (isinstance(value, builtins.type) and value in _PYTHON_TYPES):
        return None
    return complex32 if _name_of(value) in _COMPLEX_NAMES else None


def is_narrow_integer(value):
    """Whether `value` names one of the narrow integer dtypes (tl.uint8, 'int8', numpy's int16, ...)."""
    if isinstance(value, dtype):
        return value.name in _NARROW
    if isinstance(value, builtins.type) and isinstance(getattr(value, "dtype", None), dtype):  # tl.ByteTensor
        return value.dtype.name in _NARROW
    return (isinstance(value, (str, np.dtype)) or isinstance(value, builtins.type) and issubclass(value, np.generic)
            or type(value).__module__.startswith("torch")) and _name_of(value) in _NARROW


def narrow_integer_error(name, what="dtype"):
    """The TypeError for a narrow integer dtype (uint8, int8, int16), naming what to use instead."""
    narrow = _NARROW[name]
    info = np.iinfo(narrow.numpy)
    return TypeError(
        f"unsupported {what} {narrow.name}: TensorLogic has no narrow integer dtypes (uint8, int8, int16), since an "
        f"int32 in their place would not wrap around as {narrow.name} arithmetic does; use tl.int32 or tl.int64, "
        f"which hold {narrow.name}'s values {info.min}..{info.max} exactly (tl.from_numpy and tl.tensor make int32 "
        f"of {narrow.name} arrays){', or .float() / 255 for 8-bit image data' if narrow is uint8 else ''}, and "
        f".clamp({info.min}, {info.max}) or % {1 << info.bits} where a value must stay in that range")


def as_dtype(value):
    """Accepts tl dtypes, their names and the numpy/PyTorch/Python equivalents; TypeError otherwise (for the narrow
    integer dtypes, narrow_integer_error)."""
    if is_narrow_integer(value):
        raise narrow_integer_error(_name_of(value))
    if value is None or (isinstance(value, dtype) and value is not complex32):
        return value
    if isinstance(value, builtins.type) and value in _PYTHON_TYPES:
        return _PYTHON_TYPES[value]
    name = _name_of(value)
    found = _ALIASES.get(name)
    if found is None and complex_dtype(value) is not None:
        raise TypeError(f"unsupported dtype {value!r} here: complex tensors (tl.complex32, which PyTorch's complex "
                        "names mean) are made by tl.complex, tl.view_as_complex, tl.fft and the creation functions "
                        "tensor/zeros/ones/zeros_like/ones_like/empty/rand/randn, and support the operations listed "
                        "in docs/api.md")
    if found is None:
        raise TypeError(
            f"unsupported dtype {value!r}: TensorLogic has float16 (every floating dtype name means it), "
            "int32, int64 and bool"
        )
    return found
