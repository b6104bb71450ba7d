"""The Philox generator: a numpy reimplementation of the stream documented in cpp/core/philox.h must
match the native output bit for bit (the oracle every device backend is held to), plus determinism and
distribution checks."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorlogic as tl
from oracle import host

MASK = 0xFFFFFFFF
F32 = np.float32


def philox_words(seed, offset, n):
    """The first n 32-bit words of the stream from counter `offset` (element i: counter offset + i // 4, lane i % 4)."""
    count = (n + 3) // 4
    ctr = np.arange(offset, offset + count, dtype=np.uint64)
    c0, c1 = ctr & MASK, ctr >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = seed & MASK, (seed >> 32) & MASK
    for _ in range(10):
        p0 = c0 * np.uint64(0xD2511F53)
        p1 = c2 * np.uint64(0xCD9E8D57)
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & np.uint64(MASK),
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & np.uint64(MASK))
        k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
    return np.stack([c0, c1, c2, c3], axis=1).reshape(-1)[:n].astype(np.uint32)


def fmaf(a, b, c):
    """Exactly rounded float32 fused multiply-add (float64 product is exact; TwoSum fixes double rounding)."""
    a, b, c = (np.asarray(v, F32).astype(np.float64) for v in (a, b, c))
    s = a * b
    r = s + c
    bb = r - s
    err = (s - (r - bb)) + (c - bb)
    r = np.where(err != 0, np.nextafter(r, np.where(err > 0, np.inf, -np.inf)), r)
    return r.astype(F32)


def philox_log(m):
    m = m.astype(np.int64)
    e = np.full(m.shape, -24, np.int64)
    for _ in range(24):
        low = m < (1 << 23)
        m = np.where(low, m << 1, m)
        e = np.where(low, e - 1, e)
    f = m.astype(F32) * F32(5.9604644775390625e-8)
    e = e + 24
    small = f < F32(0.70710677)
    f = np.where(small, f + f, f)
    e = np.where(small, e - 1, e)
    x = f - F32(1.0)
    z = x * x
    p = np.full(x.shape, F32(7.0376836292e-2))
    for c in (-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
              2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1):
        p = fmaf(p, x, F32(c))
    fe = e.astype(F32)
    y = (x * z) * p
    y = fmaf(fe, F32(-2.12194440e-4), y)
    y = fmaf(z, F32(-0.5), y)
    r = x + y
    out = fmaf(fe, F32(0.693359375), r)
    return np.where(m == (1 << 24), F32(0), out)


def philox_normal(words):
    w = words.reshape(-1, 2)
    r = np.sqrt(F32(-2.0) * philox_log((w[:, 0] >> 8).astype(np.int64) + 1))
    k = (w[:, 1] >> 8).astype(np.int64)
    q = (k + (1 << 21)) >> 22
    a = (k - (q << 22)).astype(F32) * F32(3.745070387e-7)
    z = a * a
    ps = fmaf(fmaf(F32(-1.9515295891e-4), z, F32(8.3321608736e-3)), z, F32(-1.6666654611e-1))
    s = fmaf(ps * z, a, a)
    pc = fmaf(fmaf(F32(2.443315711809948e-5), z, F32(-1.388731625493765e-3)), z, F32(4.166664568298827e-2))
    c = fmaf(pc * z, z, fmaf(z, F32(-0.5), F32(1.0)))
    quadrant = q & 3
    cs = np.choose(quadrant, [c, -s, -c, s])
    sn = np.choose(quadrant, [s, c, -s, -c])
    return np.stack([r * cs, r * sn], axis=1).reshape(-1)


def oracle(kind, seed, offset, n, low=0, high=0):
    words = philox_words(seed, offset, n + (-n) % 4)
    if kind == "rand":
        out = (words >> 21).astype(F32) * F32(2.0**-11)
    elif kind == "randn":
        out = philox_normal(words)
    else:
        return (low + ((words.astype(np.uint64) * np.uint64(high - low)) >> np.uint64(32)).astype(np.int64)).astype(np.int32)[:n]
    return out[:n].astype(np.float16)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**40 + 7, 2**64 - 1])
@pytest.mark.parametrize("n", [1, 3, 4, 5, 1001, 40000])
def test_stream_matches_numpy_oracle_bit_for_bit(device, seed, n):
    tl.manual_seed(seed)
    u = host(tl.rand(n, device=device))
    g = host(tl.randn(n, device=device))
    i = host(tl.randint(-5, 1000, (n,), device=device))
    per = (n + 3) // 4
    np.testing.assert_array_equal(u.view(np.uint16), oracle("rand", seed, 0, n).view(np.uint16))
    np.testing.assert_array_equal(g.view(np.uint16), oracle("randn", seed, per, n).view(np.uint16))
    np.testing.assert_array_equal(i, oracle("randint", seed, 2 * per, n, -5, 1000))


def test_randn_oracle_over_a_large_draw(device):
    tl.manual_seed(2024)
    g = host(tl.randn(1 << 18, device=device))
    np.testing.assert_array_equal(g.view(np.uint16), oracle("randn", 2024, 0, 1 << 18).view(np.uint16))


def test_rng_state_saves_and_restores_the_stream(device):
    tl.manual_seed(2**64 - 3)  # a seed past 2**63: stored as a signed int64
    tl.rand(9, device=device)
    state = tl.get_rng_state()
    assert state.dtype == tl.int64 and state.tolist() == [-3, 3]
    a = host(tl.randn(6, device=device))
    tl.randn(100, device=device)
    tl.set_rng_state(state)
    np.testing.assert_array_equal(host(tl.randn(6, device=device)), a)
    with pytest.raises(ValueError, match="get_rng_state"):
        tl.set_rng_state(tl.zeros(3))
    with pytest.raises(ValueError, match="non-negative"):
        tl.set_rng_state(tl.tensor([1, -2]))


def test_manual_seed_determinism_and_shapes(device):
    tl.manual_seed(7)
    a = host(tl.randn(3, 4, device=device))
    b = host(tl.randn((3, 4), device=device))
    tl.manual_seed(7)
    np.testing.assert_array_equal(host(tl.randn([3, 4], device=device)), a)
    assert not np.array_equal(a, b)
    tl.manual_seed(-1)  # wraps like PyTorch
    c = host(tl.rand(5, device=device))
    tl.manual_seed(2**64 - 1)
    np.testing.assert_array_equal(host(tl.rand(5, device=device)), c)
    assert tl.rand(0, 3, device=device).shape == (0, 3)
    assert tl.rand(size=(2, 3), device=device).shape == (2, 3)
    assert tl.randn(size=[4], device=device).shape == (4,)
    with pytest.raises(TypeError):
        tl.rand(2, size=(2,), device=device)
    assert tl.randn((), device=device).shape == ()
    x = tl.randn(2, 5, device=device)
    assert tl.rand_like(x).shape == (2, 5) and tl.randn_like(x).dtype == tl.float16
    assert tl.randint(3, 10, (4,), device=device).dtype == tl.int64
    assert tl.randint(10, (4,), dtype=tl.float16, device=device).dtype == tl.float16
    assert tl.rand(2, requires_grad=True, device=device).requires_grad


def ks_statistic(sample, cdf):
    s = np.sort(sample.astype(np.float64))
    n = len(s)
    c = cdf(s)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


def test_uniform_statistics(device):
    tl.manual_seed(99)
    u = host(tl.rand(1 << 20, device=device)).astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 3e-3 and abs(u.var() - 1 / 12) < 2e-3
    assert ks_statistic(u[:100000], lambda v: np.clip(v, 0, 1)) < 0.01


def test_normal_statistics(device):
    tl.manual_seed(100)
    g = host(tl.randn(200000, device=device)).astype(np.float64)
    assert abs(g.mean()) < 0.01 and abs(g.var() - 1.0) < 0.02
    erf = np.vectorize(math.erf)
    assert ks_statistic(g[:50000], lambda v: 0.5 * (1 + erf(v / math.sqrt(2)))) < 0.01
    assert np.all(np.isfinite(g)) and np.abs(g).max() < 7


def test_randint_statistics_and_errors(device):
    tl.manual_seed(5)
    r = host(tl.randint(-3, 7, (100000,), device=device))
    assert r.min() == -3 and r.max() == 6
    counts = np.bincount(r + 3, minlength=10)
    chi2 = float(((counts - 10000) ** 2 / 10000).sum())
    assert chi2 < 40  # 9 degrees of freedom
    with pytest.raises(ValueError):
        tl.randint(5, 5, (3,), device=device)
    assert host(tl.randint(0, 2**33, (3,), device=device)).max() < 2**33  # beyond int32: drawn on the host
    with pytest.raises(RuntimeError, match="out of bounds for int32"):
        tl.randint(0, 2**33, (3,), dtype=tl.int32, device=device)
    with pytest.raises(ValueError):
        tl.rand(-1, device=device)
    with pytest.raises(TypeError):
        tl.rand(3, dtype=tl.int32, device=device)


_STREAM_SCRIPT = ("import sys, numpy as np, tensorlogic as tl\n"
                  "tl.manual_seed(31)\n"
                  "np.savez(sys.argv[1], n=np.asarray(tl.randn(5003)), u=np.asarray(tl.rand(777)), "
                  "i=np.asarray(tl.randint(-9, 99, (301,))))\n")


def _stream(target, cap):
    """The draws of seed 31 in a process whose instruction set TL_CPU_SIMD caps ("": the best)."""
    subprocess.run([sys.executable, "-c", _STREAM_SCRIPT, str(target)], env=dict(os.environ, TL_CPU_SIMD=cap), check=True)
    return dict(np.load(target))


@pytest.fixture(scope="module")
def best_stream(tmp_path_factory):
    """This machine's best build of the kernel, drawn once for every capped level to meet."""
    return _stream(tmp_path_factory.mktemp("stream") / "best.npz", "")


def test_best_instruction_set_matches_the_oracle(best_stream):
    """The best build draws the stream of the numpy reimplementation."""
    np.testing.assert_array_equal(best_stream["n"].view(np.uint16), oracle("randn", 31, 0, 5003).view(np.uint16))


@pytest.mark.parametrize("isa", ["avx2", "none"])
def test_every_instruction_set_gives_the_same_stream(tmp_path, isa, best_stream):
    """The vectorised AVX-512/AVX2 builds and the portable build of the kernel agree bit for bit."""
    capped = _stream(tmp_path / f"{isa}.npz", isa)
    for key in ("n", "u", "i"):
        np.testing.assert_array_equal(best_stream[key].view(np.uint16 if key != "i" else np.int32),
                                      capped[key].view(np.uint16 if key != "i" else np.int32))
