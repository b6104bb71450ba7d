"""The two element types: float16 for all floating data, int32 for indices."""
import numpy as np


class dtype:
    __slots__ = ("name", "itemsize", "numpy")

    def __init__(self, name, itemsize, numpy_type):
        self.name = name
        self.itemsize = itemsize
        self.numpy = np.dtype(numpy_type)

    @property
    def is_floating_point(self):
        return self.name == "float16"

    def __repr__(self):
        return f"tensorlogic.{self.name}"

    def __reduce__(self):
        return (_lookup, (self.name,))


float16 = dtype("float16", 2, np.float16)
int32 = dtype("int32", 4, np.int32)
half = float16
_BY_NAME = {"float16": float16, "int32": int32}


def _lookup(name):
    return _BY_NAME[name]


def as_dtype(value):
    """Accepts tl dtypes, their names and the numpy/PyTorch equivalents; TypeError otherwise."""
    if value is None or isinstance(value, dtype):
        return value
    name = getattr(value, "name", None) if not isinstance(value, str) else value
    if name is None:
        name = str(value)
    name = name.replace("torch.", "")
    if name in ("float16", "half"):
        return float16
    if name in ("int32", "int"):
        return int32
    raise TypeError(f"unsupported dtype {value!r}: TensorLogic has float16 (all floating data) and int32 (indices)")
