"""Plain run-time values shared by the evaluator, the built-ins and the runtime: scalars, list
literals as tensors, and the truth value of a condition."""
from __future__ import annotations

import numpy as np

import tensorlogic as tl

from .labelled import Labelled, is_tensor


def is_scalar(v) -> bool:
    if isinstance(v, (bool, int, float)):
        return True
    return is_tensor(v) and v.ndim == 0


def as_tensor(v):
    if is_tensor(v):
        return v
    if isinstance(v, (list, tuple, bool, int, float)):
        return tl.tensor(np.asarray(v, dtype=np.float32).tolist() if not isinstance(v, (bool, int, float))
                         else float(v), dtype=tl.float16)
    raise TypeError(f"not a tensor: {type(v).__name__}")


def item(v):
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
