"""Conversion of Python and numpy data to native arrays, with the float16 overflow check of SPEC §6."""
import numpy as np

from . import _core
from .dtypes import as_dtype, float16, int32
from .errors import PrecisionOverflowError

_F16_MAX = 65504.0
_I32 = np.iinfo(np.int32)


def check_f16_range(values):
    """Raises PrecisionOverflowError when finite values lie beyond ±65504 (NaN and inf pass)."""
    if values.dtype.kind not in "fiu" or values.dtype == np.float16 or values.size == 0:
        return
    with np.errstate(invalid="ignore"):
        bad = np.abs(values.astype(np.float64, copy=False)) > _F16_MAX
        if values.dtype.kind == "f":
            bad &= np.isfinite(values)
    count = int(np.count_nonzero(bad))
    if count:
        first = np.unravel_index(int(np.argmax(bad.reshape(-1))), values.shape) if values.ndim else ()
        value = values[first] if values.ndim else values.item()
        raise PrecisionOverflowError(
            f"{count} value(s) exceed the float16 range ±65504; the first, at index {tuple(int(i) for i in first)}, is {value!r}"
        )


def default_dtype_for(values):
    return int32 if values.dtype.kind in "iu" else float16


def numpy_to_array(values, dtype, device, copy):
    """A native array holding `values` as `dtype` (inferred when None) on `device`.

    float16/int32 C-layout data on the CPU is wrapped without copying unless `copy` is set."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor from data of dtype {values.dtype}")
    target = as_dtype(dtype) or default_dtype_for(values)
    if target is int32:
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise ValueError("cannot convert NaN or inf to int32")
        if values.size and values.dtype.kind in "iuf" and (values.min() < _I32.min or values.max() > _I32.max):
            raise OverflowError("integer data beyond the int32 range")
        if values.dtype != np.int32:
            values = values.astype(np.int32)
            copy = False
    else:
        check_f16_range(values)
        if values.dtype != np.float16:
            values = values.astype(np.float16)
            copy = False
    if copy:
        values = values.copy()
    strides_ok = all(s >= 0 and s % values.itemsize == 0 for s in values.strides)
    if not strides_ok:
        values = np.ascontiguousarray(values)
    array = _core.from_numpy(values)
    if device != "cpu":
        array = _core.to_device(array, device)
    return array
