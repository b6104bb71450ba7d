"""Plain run-time values shared by the evaluator, the built-ins and the runtime: scalars, list
literals as tensors, and the truth value of a condition."""
from __future__ import annotations

import numpy as np

from ..check.checker import DTYPES
from ..engine import tl
from .labelled import Labelled, is_tensor


def is_scalar(v) -> bool:
    if isinstance(v, (bool, int, float)):
        return True
    return is_tensor(v) and v.ndim == 0


def is_number(v) -> bool:
    """A plain int or float (not a bool, not a tensor)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_tensor(v, dtype=None):
    """A number, a tensor or a (nested) list of them as one tensor (f16 unless `dtype`); list
    literals are tensors wherever arithmetic meets them."""
    dtype = dtype or tl.float16
    if is_tensor(v):
        return v if v.dtype == dtype else v.to(dtype)
    if isinstance(v, (bool, int, float)):
        return tl.tensor(float(v) if dtype == tl.float16 else int(v), dtype=dtype)
    if isinstance(v, (list, tuple)):
        _check_list_size(v)
        if any(is_tensor(x) or isinstance(x, (list, tuple)) for x in v):
            return tl.stack([as_tensor(x, dtype) for x in v])
        if not all(isinstance(x, (bool, int, float)) for x in v):
            bad = next(x for x in v if not isinstance(x, (bool, int, float)))
            raise TypeError(f"a list of numbers is a tensor; this one holds {type(bad).__name__}")
        arr = np.asarray(v, dtype=np.float32 if dtype == tl.float16 else np.int64)
        return tl.tensor(arr.tolist(), dtype=dtype)
    raise TypeError(f"not a tensor: {type(v).__name__}")


# The most numbers a list converts to a tensor. A list can share its items ([x, x] doubled 40 times is 2^40
# numbers in 40 steps), which the conversion would visit one by one.
MAX_LIST_NUMBERS = 1 << 26


def _check_list_size(v):
    """ValueError when nested list v holds more than MAX_LIST_NUMBERS numbers, counted along its first items
    (the shape the conversion gives it)."""
    count, item = 1, v
    while isinstance(item, (list, tuple)) and item:
        count *= len(item)
        if count > MAX_LIST_NUMBERS:
            raise ValueError(f"a list of more than {MAX_LIST_NUMBERS:,} numbers is too large to make a tensor")
        item = item[0]


def scalar(v):
    if is_tensor(v):
        if v.ndim != 0 and (v.ndim != 1 or v.shape[0] != 1):
            raise TypeError("not a scalar")
        return v.item()
    return v


def truth(v, span, ev):
    if isinstance(v, Labelled):
        raise ev.error("a condition must be a single value, not an indexed tensor", span)
    if is_tensor(v):
        if v.numel() != 1:
            raise ev.error(f"a condition must be a single value, not a tensor of shape "
                           f"{list(v.shape)}", span)
        return bool(v.item())
    return bool(v)


def kind(v) -> str:
    """What a value is, for messages."""
    if is_tensor(v):
        return f"a tensor of shape {list(v.shape)}"
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number",
            list: "a list", tuple: "a tuple"}.get(type(v), type(v).__name__)


def holds_values(v) -> bool:
    """Whether a list holds only things other than numbers and tensors (strings, structs): such a
    list is a sequence, not a tensor, so `+` and `concat` join it to another."""
    return isinstance(v, list) and bool(v) and all(
        not isinstance(x, (bool, int, float, list, tuple)) and not is_tensor(x) and
        not isinstance(x, Labelled) for x in v)


def numeric_list_as_tensor(v):
    """A non-empty list of numbers (nested or not) as a tensor, for a field or method read from it
    (`[[1, 2], [3, 4]].shape`, `xs.view([4])`); anything else as it is."""
    if isinstance(v, (list, tuple)) and v and not holds_values(v):
        try:
            return as_tensor(v)
        except (TypeError, ValueError, RuntimeError):
            return v
    return v


def joins(parts) -> bool:
    """Whether lists are joined as sequences: at least one holds values, the others hold values or
    nothing (`[] + ["a"]`); a list with a number in it stays a tensor (`[1, "a"] + [1]` is an error)."""
    return any(holds_values(p) for p in parts) and all(holds_values(p) or p == [] for p in parts)


def dtype_of(spec):
    """The engine's dtype for a declared type (`float16[2]`, `int[3]`; every float is f16)."""
    return tl.int32 if DTYPES.get(spec.dtype) == "int32" else tl.float16
