"""Several Python threads using the engine at once: results equal to sequential runs (and to a numpy
oracle), no deadlock, a shared random stream that hands out disjoint counters, native work overlapping
Python work in another thread (the GIL is released), and grad mode that is per thread."""
import sys
import threading
import time

import numpy as np
import pytest

import tensorlogic as tl
from conftest import assert_close_f16, f16_randn, host

TIMEOUT = 120  # seconds; a deadlock fails the test instead of hanging the suite


def run_threads(target, count):
    """Runs target(i) in `count` daemon threads; re-raises the first error; fails on a timeout."""
    errors = []

    def body(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"threads still running after {TIMEOUT} s (deadlock?)"
    if errors:
        raise errors[0]


def workload(rng, device):
    """(name, fn, numpy oracle) triples over large (GIL released) and small (GIL kept) inputs, including
    non-contiguous views and broadcasting."""
    a, b = f16_randn(rng, (192, 320)), f16_randn(rng, (320, 160))
    x, y = f16_randn(rng, (300, 257)), f16_randn(rng, (257,))
    s, t = f16_randn(rng, (7,)), f16_randn(rng, (7,))
    ta, tb, tx, ty, ts, tt = (tl.tensor(v, device=device) for v in (a, b, x, y, s, t))
    f32 = np.float32
    return [
        ("matmul", lambda: ta @ tb, a.astype(f32) @ b.astype(f32)),
        ("matmul of transposes", lambda: tb.T @ ta.T, b.T.astype(f32) @ a.T.astype(f32)),
        ("mul add broadcast", lambda: tx * ty + 1.5, (x.astype(f32) * y.astype(f32)).astype(np.float16).astype(f32) + 1.5),
        ("exp", lambda: (tx * 0.25).exp(), np.exp((x.astype(f32) * 0.25).astype(np.float16).astype(f32))),
        ("sum dim 1", lambda: tx.sum(dim=1), x.astype(np.float64).sum(axis=1)),
        ("sum all", lambda: tx.sum(), x.astype(np.float64).sum()),
        ("max of transpose", lambda: tx.T.amax(dim=1), x.T.astype(f32).max(axis=1)),
        ("softmax", lambda: tl.softmax(tx, dim=1), _softmax(x.astype(np.float64))),
        ("small add", lambda: ts + tt, s.astype(f32) + t.astype(f32)),
        ("small mul", lambda: ts * tt, s.astype(f32) * t.astype(f32)),
    ]


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_concurrent_ops_match_sequential_runs(device, rng):
    cases = workload(rng, device)
    sequential = {}
    for name, fn, oracle in cases:
        got = host(fn())
        assert_close_f16(got, oracle, rtol=4e-3, atol=4e-2 if name.startswith("sum") else 2e-3)
        sequential[name] = got
    mismatches = []

    def worker(i):
        order = cases[i % len(cases):] + cases[:i % len(cases)]  # threads run different ops at once
        for _ in range(6):
            for name, fn, _ in order:
                got = host(fn())
                if not np.array_equal(got, sequential[name], equal_nan=True):
                    mismatches.append(name)

    run_threads(worker, 4)
    assert not mismatches, f"results differ from the sequential run: {sorted(set(mismatches))}"


def test_errors_from_released_ops_reach_their_thread(device, rng):
    big = tl.tensor(f16_randn(rng, (256, 256)), device=device)
    wrong = tl.tensor(f16_randn(rng, (255, 256)), device=device)

    def worker(i):
        for _ in range(20):
            with pytest.raises(tl.ShapeMismatchError, match="matmul"):
                big @ wrong
            assert (big @ big).shape == (256, 256)

    run_threads(worker, 3)


def test_random_draws_from_threads_take_disjoint_counters(device):
    """One generator: each draw reserves its counters atomically, so draws made at once by several threads
    are exactly the draws a single thread makes in some order."""
    n, count = 5000, 8
    tl.manual_seed(1234)
    sequential = [host(tl.rand(n, device=device)).tobytes() for _ in range(count)]
    tl.manual_seed(1234)
    drawn = [None] * count
    run_threads(lambda i: drawn.__setitem__(i, host(tl.rand(n, device=device)).tobytes()), count)
    assert sorted(drawn) == sorted(sequential)


def test_native_work_overlaps_python_in_another_thread(cpu_default):
    """While one thread is inside a long native op, another thread keeps running Python: its progress
    stamps leave no gap longer than half the op (holding the GIL would leave one as long as the op)."""
    rng = np.random.default_rng(5)
    a = tl.tensor(f16_randn(rng, (1536, 1536)))
    a @ a  # warm up (scratch buffers, BLAS threads)
    stamps, stop = [], threading.Event()

    def spinner():
        while not stop.is_set():
            for _ in range(100):
                pass
            stamps.append(time.perf_counter())

    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    thread = threading.Thread(target=spinner, daemon=True)
    thread.start()
    try:
        time.sleep(0.02)
        start = time.perf_counter()
        a @ a
        end = time.perf_counter()
    finally:
        stop.set()
        thread.join(TIMEOUT)
        sys.setswitchinterval(previous)
    inside = [s for s in stamps if start < s < end]
    gaps = np.diff([start] + inside + [end])
    assert gaps.max() < 0.5 * (end - start), (
        f"the other thread stalled for {gaps.max() * 1e3:.1f} ms of a {(end - start) * 1e3:.1f} ms matmul")
