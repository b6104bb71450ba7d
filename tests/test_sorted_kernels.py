"""The sorted-array kernels of the language's tuple engine (searchsorted, take_rows, flatnonzero, and
cumsum of one long int64 line) against numpy, on every device present, with fresh seeds."""
import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.tensor import _wrap


def seeded():
    seed = int(np.random.SeedSequence().entropy % (1 << 31))
    return np.random.default_rng(seed), seed


def on(device, a):
    return tl.tensor(a, device=device)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_matches_numpy(device, right):
    rng, seed = seeded()
    for m, n in ((0, 5), (1, 7), (300, 1000), (5000, 20)):
        keys = np.sort(rng.integers(-(1 << 40), 1 << 40, size=m)) if m > 3 else np.sort(rng.integers(-3, 3, size=m))
        keys = np.repeat(keys, rng.integers(1, 4, size=m)) if m else keys   # runs of equal keys
        probe = np.concatenate([rng.choice(keys, size=n // 2) if m else np.zeros(0, np.int64),
                                rng.integers(-(1 << 41), 1 << 41, size=n - n // 2)])
        got = _wrap(_core.searchsorted(on(device, keys)._a, on(device, probe.reshape(-1, 1))._a, right))
        want = np.searchsorted(keys, probe, "right" if right else "left").reshape(-1, 1)
        assert got.device.type == tl.device(device).type
        np.testing.assert_array_equal(got.numpy(), want, err_msg=str(seed))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float16])
def test_take_rows_matches_numpy(device, dtype):
    rng, seed = seeded()
    for shape in ((50,), (40, 3), (30, 2, 5)):
        src = rng.integers(0, 2 if dtype == np.bool_ else 1000, size=shape).astype(dtype)
        index = rng.integers(0, shape[0], size=rng.integers(0, 200))
        got = _wrap(_core.take_rows(on(device, src)._a, on(device, index)._a))
        np.testing.assert_array_equal(got.numpy(), src[index], err_msg=str(seed))
    flat = on(device, rng.integers(0, 2, size=8 * 20).astype(np.bool_))
    shifted = flat[1:-7].reshape(19, 8)         # contiguous rows of 8 bytes starting at an odd address
    index = rng.integers(0, 19, size=25)
    np.testing.assert_array_equal(_wrap(_core.take_rows(shifted._a, on(device, index)._a)).numpy(),
                                  shifted.numpy()[index], err_msg=str(seed))
    view = on(device, rng.integers(0, 9, size=(20, 4)))[:, 2]          # a strided column
    index = rng.integers(0, 20, size=30)
    np.testing.assert_array_equal(_wrap(_core.take_rows(view._a, on(device, index)._a)).numpy(),
                                  view.numpy()[index], err_msg=str(seed))


def test_take_rows_rejects_bad_indices(device):
    src = on(device, np.arange(6, dtype=np.int64))
    with pytest.raises(IndexError, match="out of bounds"):
        _core.take_rows(src._a, on(device, np.array([0, 6]))._a)
    with pytest.raises(IndexError, match="out of bounds"):
        _core.take_rows(src._a, on(device, np.array([-1]))._a)
    with pytest.raises(TypeError):
        _core.take_rows(src._a, on(device, np.array([0], dtype=np.int32))._a)


def test_flatnonzero_matches_numpy(device):
    rng, seed = seeded()
    for n in (0, 1, 17, 100_000):
        mask = rng.random(n) < rng.random()
        got = _wrap(_core.flatnonzero(on(device, mask)._a))
        np.testing.assert_array_equal(got.numpy(), np.flatnonzero(mask), err_msg=str(seed))
    with pytest.raises(TypeError):
        _core.flatnonzero(on(device, np.arange(3))._a)


def test_cumsum_of_one_long_int64_line_wraps_like_numpy(device):
    rng, seed = seeded()
    a = rng.integers(-(1 << 62), 1 << 62, size=300_000)
    got = tl.cumsum(on(device, a), 0).numpy()
    np.testing.assert_array_equal(got, np.cumsum(a), err_msg=str(seed))    # int64 wraps in both
