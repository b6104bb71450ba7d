"""torch.finfo and torch.iinfo for TensorLogic's dtypes (every float dtype name is float16, SPEC §1), and
get_default_dtype/set_default_dtype (the default float dtype is float16 and can only stay so)."""
import numpy as np

from .dtypes import as_dtype, float16


class Size(tuple):
    """torch.Size: a tuple of dimension sizes, what tensors' .shape and .size() give. As torch.Size, its slices and
    its sums and products with tuples are Sizes again (so x.new(x.shape[1:]) still means sizes), and it equals the
    plain tuple of its sizes."""

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__

    def numel(self):
        """The number of elements of a tensor of this shape."""
        count = 1
        for n in self:
            count *= n
        return count

    def __repr__(self):
        return f"{type(self).__name__}({list(self)})"


class finfo:  # noqa: N801 (torch's name)
    """The limits of a float dtype, as torch.finfo: bits, eps, max, min, tiny (= smallest_normal), resolution."""

    def __init__(self, type=None):  # noqa: A002 (torch's argument name)
        dt = float16 if type is None else as_dtype(type)
        if not dt.is_floating_point:
            raise TypeError(f"finfo: {dt} is not a floating point dtype (use iinfo)")
        info = np.finfo(np.float16)
        self.dtype, self.bits = dt.name, info.bits
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(info.resolution)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, "
                f"smallest_normal={self.smallest_normal}, tiny={self.tiny}, dtype={self.dtype})")


class iinfo:  # noqa: N801 (torch's name)
    """The limits of an integer dtype (int32, int64, bool's 0 and 1 are not covered), as torch.iinfo."""

    def __init__(self, type):  # noqa: A002 (torch's argument name)
        dt = as_dtype(type)
        if dt.is_floating_point or dt.name == "bool":
            raise TypeError(f"iinfo: {dt} is not an integer dtype (use finfo)")
        info = np.iinfo(np.dtype(dt.name))
        self.dtype, self.bits, self.min, self.max = dt.name, info.bits, int(info.min), int(info.max)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def get_default_dtype():
    """The dtype of floats made from Python numbers: float16."""
    return float16


def set_default_dtype(d):
    """Accepts any float dtype name (they all mean float16, the only float dtype); anything else is a TypeError."""
    if not as_dtype(d).is_floating_point:
        raise TypeError(f"set_default_dtype: only floating point dtypes are supported, got {d}")


__all__ = ["finfo", "iinfo", "get_default_dtype", "set_default_dtype"]
