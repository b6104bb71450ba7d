"""Helpers for the linear-algebra tests: f16 test data and comparison with float64/float32 oracles."""
import numpy as np

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.tensor import _wrap


def f16(rng, *shape, scale=1.0):
    """Random f16 data as float64 (already rounded to f16), so the oracle sees exactly our inputs."""
    return (rng.standard_normal(shape) * scale).astype(np.float16).astype(np.float64)


def tensor(values, device):
    return tl.Tensor(np.asarray(values, dtype=np.float16), device=device)


def strided(t, dim, start, stop, step):
    """A strided view t[..., start:stop:step, ...] along `dim` (no copy)."""
    return _wrap(_core.slice(t._a, dim, start, stop, step))


def host(t):
    return np.asarray(t.cpu().numpy(), dtype=np.float64)


def assert_close(got, ref, rtol=2e-3, atol_scale=1e-3):
    """Compares an f16 result with an exact oracle rounded to f16 (a few ulps, plus a small absolute slack
    relative to the largest magnitude for values near cancellation)."""
    got = host(got) if isinstance(got, tl.Tensor) else np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64).astype(np.float16).astype(np.float64)
    assert got.shape == ref.shape, f"shape {got.shape} != {ref.shape}"
    scale = max(1.0, float(np.nanmax(np.abs(ref)))) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol_scale * scale)
