"""Thin adapters over conftest's helpers for the linear-algebra tests: float64 copies of f16 data (so
numpy's einsum/matmul oracles compute in float64) and a tolerance that scales with the result."""
import numpy as np

import tensorlogic as tl
from conftest import assert_close_f16, f16_randn, host  # noqa: F401  (host is re-exported)


def f16(rng, *shape, scale=1.0):
    """Random f16 values as float64: exactly our inputs, for an oracle that computes in float64."""
    return f16_randn(rng, shape, scale).astype(np.float64)


def tensor(values, device):
    return tl.tensor(np.asarray(values, dtype=np.float16), device=device)


def assert_close(got, ref, rtol=2e-3, atol_scale=1e-3):
    """assert_close_f16 with the absolute slack relative to the largest magnitude of the result (sums
    of many terms cancel to values far below the terms' size)."""
    ref = np.asarray(ref, dtype=np.float64)
    scale = max(1.0, float(np.nanmax(np.abs(ref)))) if ref.size else 1.0
    assert_close_f16(got, ref, rtol=rtol, atol=atol_scale * scale)
