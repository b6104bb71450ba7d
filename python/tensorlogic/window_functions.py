"""torch's window functions for spectral analysis: hann_window hamming_window blackman_window bartlett_window
kaiser_window. Each is computed in float64 on the host and rounded once to float16 (PyTorch's float16 windows go
through float32 and may differ by an ulp), then placed on the device. A periodic window of length N is the symmetric
window of length N + 1 without its last point, as in PyTorch. (Tensor.unfold's sliding windows are ops/windows.py's.)"""
import math
import numbers
import operator

import numpy as np

from .creation import tensor
from .dtypes import as_dtype, float16
from .tensor import Tensor


def _length(window_length, name):
    if isinstance(window_length, bool) or not isinstance(window_length, (numbers.Integral, Tensor)):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not {type(window_length).__name__}")
    try:
        return operator.index(window_length)  # an int, or a one-element integer tensor as PyTorch takes
    except TypeError:
        raise TypeError(f"{name}(): argument 'window_length' must be int, not a {window_length.dtype.name} "
                        "tensor") from None


def _real(value, name, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}(): argument '{what}' must be a number, not {type(value).__name__}")
    return float(value)


def _window(name, window_length, periodic, dtype, device, requires_grad, symmetric):
    """The window of `window_length` points: symmetric(k, m) gives the symmetric window's values at the float64
    positions k = 0 .. m (m + 1 points)."""
    n = _length(window_length, name)
    if not isinstance(periodic, bool):
        raise TypeError(f"{name}(): argument 'periodic' must be bool, not {type(periodic).__name__}")
    if dtype is not None and not as_dtype(dtype).is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    if n <= 1:
        values = np.ones(n)
    else:
        m = n if periodic else n - 1
        values = symmetric(np.arange(m + 1, dtype=np.float64), m)[:n]
    return tensor(values.astype(np.float16), dtype=float16, device=device, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """The Hann window: 0.5 - 0.5 cos(2 pi k / M) (M = window_length, or window_length - 1 when not periodic)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.5 - 0.5 * np.cos(2 * math.pi * k / m))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, device=None,
                   requires_grad=False):
    """The Hamming window: alpha - beta cos(2 pi k / M) (M as in hann_window)."""
    alpha, beta = _real(alpha, "hamming_window", "alpha"), _real(beta, "hamming_window", "beta")
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: alpha - beta * np.cos(2 * math.pi * k / m))


def blackman_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """The Blackman window: 0.42 - 0.5 cos(2 pi k / M) + 0.08 cos(4 pi k / M) (M as in hann_window)."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.42 - 0.5 * np.cos(2 * math.pi * k / m) + 0.08 * np.cos(4 * math.pi * k / m))


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """The Bartlett (triangular) window: 1 - |2k / M - 1| (M as in hann_window)."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 1 - np.abs(2 * k / m - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None, requires_grad=False):
    """The Kaiser window: I0(beta sqrt(1 - (2k / M - 1)^2)) / I0(beta) (M as in hann_window; I0 the modified Bessel
    function of order 0)."""
    beta = _real(beta, "kaiser_window", "beta")
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: np.i0(beta * np.sqrt(np.clip(1 - (2 * k / m - 1) ** 2, 0, None))) / np.i0(beta))


__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]
