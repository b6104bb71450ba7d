"""The element types (SPEC §1): float16 for all floating data; bool, int32 and int64 are exact and hold
what f16 cannot count (masks, indices, targets, counts). PyTorch's float dtype names all mean float16."""
import builtins

import numpy as np


class dtype:
    """An element type. tl.float16 (tl.half) holds every floating value: PyTorch's other float names, tl.float32,
    tl.float, tl.float64, tl.double and tl.bfloat16, are the same dtype, so code that asks for float32 gets float16.
    tl.int32 (tl.int) and tl.int64 (tl.long) hold indices, targets and counts exactly, and tl.bool holds masks.
    Its fields: name, itemsize (bytes) and numpy (the numpy dtype)."""
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
    def is_signed(self):
        """True for every dtype but bool."""
        return self.name != "bool"

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
    return _BY_NAME[name]


def as_dtype(value):
    """Accepts tl dtypes, their names and the numpy/PyTorch/Python equivalents; TypeError otherwise."""
    if value is None or isinstance(value, dtype):
        return value
    if isinstance(value, builtins.type):
        if value in _PYTHON_TYPES:
            return _PYTHON_TYPES[value]
        if issubclass(value, np.generic):
            value = np.dtype(value)
    if isinstance(value, str):
        name = value
    else:
        name = getattr(value, "name", None)
        if not isinstance(name, str):
            name = str(value)
    name = name.replace("torch.cuda.", "").replace("torch.", "").replace("tensorlogic.", "")
    found = _ALIASES.get(name)
    if found is None:
        raise TypeError(
            f"unsupported dtype {value!r}: TensorLogic has float16 (every floating dtype name means it), "
            "int32, int64 and bool"
        )
    return found
