"""Helpers for comparing TensorLogic results with a float32/float64 oracle on the same f16 inputs."""
import numpy as np
import torch

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.tensor import _wrap


def f16_data(rng, shape, scale=1.0):
    """Random f16 values (the exact inputs both sides see)."""
    return (rng.standard_normal(shape) * scale).astype(np.float16)


def to_tl(x, device):
    return tl.Tensor(x, device=device)


def host(t):
    return np.asarray(t.cpu() if t.device.type != "cpu" else t)


def torch_of(x):
    return torch.from_numpy(np.asarray(x, dtype=np.float32))


def strided_view(x, device):
    """A non-contiguous TensorLogic view (every other element of the last dim) of data equal to `x`."""
    wide = np.repeat(x, 2, axis=-1) if x.ndim else x
    t = to_tl(wide, device)
    if x.ndim == 0:
        return t
    return _wrap(_core.slice(t._a, x.ndim - 1, 0, wide.shape[-1], 2))


def assert_f16_close(actual, expected, rtol=2e-3, atol=1e-5):
    """actual: f16 result; expected: the oracle in float32/64, compared after rounding it to f16."""
    actual = np.asarray(actual)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    with np.errstate(over="ignore"):
        rounded = expected.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(actual.astype(np.float64), rounded, rtol=rtol, atol=atol, equal_nan=True)
