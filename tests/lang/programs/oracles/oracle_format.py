"""Helpers for the oracle scripts: printing as the language's docs specify (f16 storage, shortest
decimals, numpy's array layout), and checks that a rounded value is far from a rounding boundary."""
import numpy as np


def f16(v):
    """The float16 value v is stored as, as its shortest decimal (the docs' printing rule)."""
    x = np.float16(v)
    return float(x) if float(x).is_integer() else float(str(x))


def show(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        return f"{f16(float(a)):.6g}"
    flat = np.array([f16(x) for x in a.reshape(-1)]).reshape(a.shape)
    return np.array2string(flat, separator=", ", precision=4, suppress_small=True)


def rnd(v, scale, margin=0.05):
    """round(v * scale) / scale as the program computes it, asserting v * scale is not within
    `margin` of a .5 boundary (so f16 rounding in the engine cannot flip it)."""
    a = np.asarray(v, dtype=np.float64) * scale
    frac = np.abs(a - np.floor(a) - 0.5)
    assert (frac > margin).all(), f"too close to a rounding boundary: {a}"
    return np.round(a) / scale
