"""Shared fixtures and helpers: every test body runs once per available device; inputs are random,
float16-rounded and freshly seeded (the seed is printed, so a failure can be replayed); results are
compared with a float32/float64 oracle rounded to float16 once.

Tests import the helpers with `from conftest import ...` (tests/ is on sys.path under pytest)."""
import os
import secrets

import numpy as np
import pytest

import tensorlogic as tl


@pytest.fixture(params=tl.available_devices())
def device(request):
    return request.param


@pytest.fixture
def rng(request):
    """A numpy Generator with a fresh seed (TL_TEST_SEED replays one), reported when the test fails."""
    seed = int(os.environ.get("TL_TEST_SEED", secrets.randbits(32)))
    request.node.user_properties.append(("seed", seed))
    print(f"seed={seed}")
    return np.random.default_rng(seed)


def f16_randn(rng, shape, scale=1.0):
    """Normal random values already rounded to float16: the exact inputs both sides see."""
    return np.asarray(rng.standard_normal(shape) * scale).astype(np.float16)


def f16_uniform(rng, shape, low=-1.0, high=1.0):
    return np.asarray(rng.uniform(low, high, shape)).astype(np.float16)


def host(t):
    """A numpy copy of a tensor's data wherever it lives."""
    return np.array(t.cpu().numpy() if isinstance(t, tl.Tensor) else t)


def strided(x, device):
    """A non-contiguous TensorLogic view equal to `x`: every other element of a wider array's last dim."""
    x = np.asarray(x)
    if x.ndim == 0:
        return tl.tensor(x, device=device)
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
    wide[..., ::2] = x
    view = tl.tensor(wide, device=device)[..., ::2]
    assert not view.is_contiguous() or x.shape[-1] <= 1 or x.size == 0
    return view


def transposed(x, device):
    """A non-contiguous view equal to `x` (2-d or more): the transpose of a contiguous transposed copy."""
    x = np.asarray(x)
    return tl.tensor(np.ascontiguousarray(np.swapaxes(x, -1, -2)), device=device).transpose(-1, -2)


def assert_close_f16(actual, expected, rtol=2e-3, atol=1e-3):
    """actual (a Tensor or array) against an oracle computed in float32/64 and rounded to float16 once:
    |a - e| <= atol + rtol * |e| elementwise, infinities and NaNs in the same places, same shape."""
    a = host(actual).astype(np.float64)
    e = np.asarray(expected, dtype=np.float64)
    e = e.astype(np.float16).astype(np.float64)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), f"NaN positions differ: {np.argwhere(nan_a != nan_e)[:5].tolist()}"
    inf_e = np.isinf(e)
    assert np.array_equal(a[inf_e], e[inf_e]), "infinities differ"
    ok = ~(nan_e | inf_e)
    err = np.abs(a[ok] - e[ok])
    bound = atol + rtol * np.abs(e[ok])
    if err.size and not np.all(err <= bound):
        worst = int(np.argmax(err - bound))
        raise AssertionError(f"{int(np.sum(err > bound))} of {err.size} values differ; worst: got {a[ok][worst]!r}, "
                             f"expected {e[ok][worst]!r} (|diff| {err[worst]:.3g} > {bound[worst]:.3g})")


def assert_equal(actual, expected):
    """Exact comparison (indexing moves values without arithmetic), dtype kind included."""
    a, e = host(actual), np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    np.testing.assert_array_equal(a, e)


@pytest.fixture
def cpu_default():
    """Makes the CPU the default device for one test (host-memory semantics: zero-copy numpy views,
    writes through .numpy()); restores the previous default after it."""
    previous = tl.get_default_device()
    tl.set_default_device("cpu")
    yield
    tl.set_default_device(previous)
