"""Conversion of Python and numpy data to native arrays, with the float16 overflow check of SPEC §6."""
import numpy as np

from . import _core
from .dtypes import as_dtype, float16, int32, int64
from .dtypes import bool as bool_
from .errors import PrecisionOverflowError

_F16_MAX = 65504.0


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
        value = values[first].item()  # a Python number: numpy 2 writes its scalars as np.float32(...)
        raise PrecisionOverflowError(
            f"{count} value(s) exceed the float16 range ±65504; the first, at index {tuple(int(i) for i in first)}, is {value!r}"
        )


def default_dtype_for(values):
    """PyTorch's inference: bool data gives bool, int32 stays int32, other integers (Python ints among
    them) int64 or int32 where they fit it, anything else float16."""
    if values.dtype.kind == "b":
        return bool_
    if values.dtype.kind in "iu":
        return int32 if values.dtype.itemsize < 4 or values.dtype == np.int32 else int64
    return float16


# safetensors' dtype names that numpy reads; BF16, which numpy lacks, is read as its uint16 bit patterns.
SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64,
                      "U64": np.uint64, "I32": np.int32, "U32": np.uint32, "I16": np.int16, "U16": np.uint16,
                      "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_, "C64": np.complex64}


def bf16_to_f32(bits):
    """bfloat16 bit patterns (uint16) to float32: the same bits in the upper half."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def safetensors_array(dtype, data, shape):
    """The array of a safetensors entry of `dtype` (its name in the header) over the buffer `data` (a view, except
    bfloat16, which becomes float32); None for a dtype numpy cannot read (the float8 kinds)."""
    if dtype not in SAFETENSORS_DTYPES:
        return None
    array = np.frombuffer(data, dtype=SAFETENSORS_DTYPES[dtype]).reshape(shape)
    return bf16_to_f32(array) if dtype == "BF16" else array


# Integers up to 2^53 pass exactly through the float a native fill takes; larger ones are copied from an int tensor.
EXACT_IN_FLOAT = 2**53


def check_int_fill(value, name, op):
    """The int an int32/int64 tensor is filled with (a float truncates toward zero, as in PyTorch); an OverflowError
    beyond the dtype's range (a native fill wrapped 2^40 to int32's -2^31, and 2^63 to int64's -2^63)."""
    whole = int(value)
    limits = np.iinfo(np.int32 if name == "int32" else np.int64)
    if not limits.min <= whole <= limits.max:
        raise OverflowError(f"{op}: {value!r} is beyond the {name} range")
    return whole


def canonical_bools(values):
    """A numpy bool array whose bytes are all 0 or 1: `values` itself, or a copy with every other byte made 1. numpy
    lets a bool hold any byte (a view of raw bytes, a file's BOOL data); the kernels read a bool's byte as the number
    it is, so a 2 compared unequal to True and summed as 2."""
    raw = values.view(np.uint8)
    return raw != 0 if raw.size and raw.max() > 1 else values


def _refuse_objects(values):
    """The error for data numpy holds only as objects, naming the first element at fault: an integer beyond int64
    (OverflowError, as PyTorch's "Overflow when unpacking long") or something that is no number (TypeError)."""
    def where(flat):
        return f" at index {tuple(int(i) for i in np.unravel_index(flat, values.shape))}" if values.ndim else ""

    for flat, item in enumerate(values.flat):
        if isinstance(item, int) and not isinstance(item, bool) and not -2**63 <= item < 2**63:
            shown = item if item.bit_length() < 128 else f"of {item.bit_length()} bits"
            raise OverflowError(f"cannot make a tensor from the integer {shown}{where(flat)}: beyond the int64 range")
        if not isinstance(item, (int, float, complex, np.generic)):
            raise TypeError(f"cannot make a tensor from an element of type {type(item).__name__}{where(flat)}: "
                            "tensors hold ints, floats and bools (Python's or numpy's), given as nested sequences of "
                            "one length at each depth")


def numpy_to_array(values, dtype, device, copy):
    """A native array holding `values` as `dtype` (inferred when None) on `device`.

    C-layout data of one of our dtypes on the CPU is wrapped without copying unless `copy` is set."""
    try:
        values = np.asarray(values)
    except ValueError as error:
        if "sequence" not in str(error):
            raise
        if "maximum number of dimension" in str(error):
            raise ValueError("cannot make a tensor from sequences nested more than 64 deep (numpy's limit on "
                             "dimensions; does a list contain itself?)") from None
        # numpy's message for a ragged list ("setting an array element ... inhomogeneous part") speaks of its arrays
        raise ValueError("cannot make a tensor from nested sequences of uneven lengths (every sequence at one depth "
                         "must have one length)") from None
    if values.dtype.kind == "c":
        raise TypeError(f"cannot make a real tensor from data of dtype {values.dtype}: complex data makes a complex "
                        "tensor (tl.tensor, tl.complex); a real tensor's operators take real operands (write the "
                        "complex operand first: z * t)")
    if values.dtype.kind == "O":
        _refuse_objects(values)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor from data of dtype {values.dtype}")
    target = as_dtype(dtype) or default_dtype_for(values)
    if target is float16:
        check_f16_range(values)
    elif target is not bool_:
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise ValueError(f"cannot convert NaN or inf to {target.name}")
        limits = np.iinfo(target.numpy)
        if values.size and values.dtype.kind in "iuf" and (values.min() < limits.min or values.max() > limits.max):
            raise OverflowError(f"integer data beyond the {target.name} range")
    if values.dtype != target.numpy:
        values = values.astype(target.numpy)
        copy = False
    if target is bool_:
        canonical = canonical_bools(values)
        copy = copy and canonical is values
        values = canonical
    if copy:
        values = values.copy()
    strides_ok = all(s >= 0 and s % values.itemsize == 0 for s in values.strides)
    if not strides_ok:
        values = np.ascontiguousarray(values)
    array = _core.from_numpy(values)
    if device != "cpu":
        array = _core.to_device(array, device)
    return array
