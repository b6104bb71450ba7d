"""Several Python threads using the engine at once: results equal to sequential runs (and to a numpy
oracle), no deadlock, a shared random stream that hands out disjoint counters, native work overlapping
Python work in another thread (the GIL is released), and grad mode that is per thread."""
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn, host

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


def test_native_work_overlaps_python_in_another_thread(cpu_default, rng):
    """While one thread is inside a long native op, another thread keeps running Python: its progress
    stamps leave no gap longer than half the op (holding the GIL would leave one as long as the op)."""
    n = 1536
    while True:  # an op of at least ~30 ms, however fast the machine, so scheduling noise stays small
        a = tl.tensor(f16_randn(rng, (n, n)))
        a @ a  # warm up (scratch buffers, BLAS threads)
        t0 = time.perf_counter()
        a @ a
        if time.perf_counter() - t0 > 0.03 or n >= 6144:
            break
        n *= 2
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
    assert len(inside) >= 2 and gaps.max() < 0.5 * (end - start), (
        f"the other thread stalled for {gaps.max() * 1e3:.1f} ms of a {(end - start) * 1e3:.1f} ms matmul")


def test_no_grad_in_one_thread_leaves_another_recording(device, rng):
    """Grad mode is per thread (PyTorch's rule): a thread inside no_grad does not stop another thread
    recording, and a new thread starts with grad enabled whatever its creator's mode."""
    w = tl.tensor(f16_randn(rng, (8,)), device=device, requires_grad=True)
    inside, resume = threading.Event(), threading.Event()
    seen = {}

    def no_grad_thread(i):
        with tl.no_grad():
            seen["no_grad records"] = (w * 2).requires_grad
            inside.set()
            assert resume.wait(TIMEOUT)
            seen["no_grad still off"] = not tl.is_grad_enabled()

    def recording_thread(i):
        assert inside.wait(TIMEOUT)
        seen["other enabled"] = tl.is_grad_enabled()
        y = (w * w).sum()
        seen["other records"] = y.requires_grad
        y.backward()
        resume.set()

    run_threads(lambda i: (no_grad_thread if i == 0 else recording_thread)(i), 2)
    assert seen == {"no_grad records": False, "no_grad still off": True, "other enabled": True,
                    "other records": True}
    np.testing.assert_allclose(host(w.grad).astype(np.float32), 2 * host(w).astype(np.float32), rtol=2e-3)

    with tl.no_grad():
        started_inside = []
        run_threads(lambda i: started_inside.append(tl.is_grad_enabled()), 1)
        assert not tl.is_grad_enabled()
    assert started_inside == [True] and tl.is_grad_enabled()


def test_grad_mode_switches_from_many_threads_restore_each_thread(device):
    """Threads entering and leaving no_grad / enable_grad / set_grad_enabled at once each see only their
    own switches; the main thread's mode is untouched."""
    x = tl.ones(4, device=device, requires_grad=True)
    wrong = []

    def worker(i):
        for k in range(300):
            off = (i + k) % 2 == 0
            with tl.set_grad_enabled(not off):
                if (x * 1).requires_grad == off:
                    wrong.append((i, k))
                with tl.enable_grad():
                    if not (x + 1).requires_grad:
                        wrong.append((i, k, "enable_grad"))
            if not tl.is_grad_enabled():
                wrong.append((i, k, "not restored"))

    with tl.no_grad():
        run_threads(worker, 4)
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled() and not wrong


@pytest.mark.filterwarnings("ignore:Anomaly Detection")
def test_anomaly_mode_is_process_wide_like_pytorch():
    import torch

    seen = []
    with tl.autograd.detect_anomaly(), torch.autograd.detect_anomaly():
        run_threads(lambda i: seen.append((tl.autograd.is_anomaly_enabled(), torch.is_anomaly_enabled())), 1)
    assert seen == [(True, True)]
    assert not tl.autograd.is_anomaly_enabled()


REFUSED_POOL = """
import re, resource
import tensorlogic as tl
with open("/proc/self/status") as f:
    size = int(re.search(r"VmSize:\\s+(\\d+)", f.read()).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + (512 << 20), resource.RLIM_INFINITY))  # room for ~60 stacks
try:
    tl.set_num_threads(1000)
except MemoryError as e:
    assert "refused thread" in str(e), e
else:
    raise SystemExit("no error")
assert tl.get_num_threads() == 1
assert (tl.ones(100000) * 0.5).mean().item() == 0.5
tl.set_num_threads(2)
assert tl.get_num_threads() == 2 and (tl.ones(100000) * 0.5).mean().item() == 0.5
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_pool_the_system_refuses():
    """set_num_threads past what the system allows is a MemoryError that leaves a working one-thread pool (it
    ended in an untyped resource error with some threads started)."""
    done = subprocess.run([sys.executable, "-c", REFUSED_POOL], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr



_SLOT_GRAD = tl.Tensor.grad  # the slot the property below reads and writes


class _ClearedAfterRead(tl.nn.Parameter):
    """A parameter whose gradient another thread's zero_grad clears right after each read of it: deterministically
    the interleaving a race gives now and then."""

    @property
    def grad(self):
        value = _SLOT_GRAD.__get__(self)
        _SLOT_GRAD.__set__(self, None)
        return value

    @grad.setter
    def grad(self, value):
        _SLOT_GRAD.__set__(self, value)


@pytest.mark.parametrize("make", [lambda ps: tl.optim.Adam(ps, lr=0.1), lambda ps: tl.optim.Adagrad(ps, lr=0.1),
                                  lambda ps: tl.optim.LBFGS(ps, lr=0.1, max_iter=1)], ids=["native", "host", "lbfgs"])
def test_a_gradient_cleared_by_another_thread_is_read_once(rng, make):
    """Hogwild-style training, one thread clearing the gradients while another clips and steps: each gradient is read
    once, as PyTorch's optimizers and clip_grad_norm_ read it, so the step uses the one it read (a second read found
    None: an AttributeError on `_a`). The update equals PyTorch's with that gradient."""
    start, grad = f16_randn(rng, (6,)), f16_randn(rng, (6,))
    p = _ClearedAfterRead(tl.tensor(start))
    opt = make([p])
    ref = torch.nn.Parameter(torch.tensor(start.astype(np.float32)))
    ref_opt = {"Adam": torch.optim.Adam, "Adagrad": torch.optim.Adagrad, "LBFGS": torch.optim.LBFGS}[
        type(opt).__name__]([ref], lr=0.1, **({"max_iter": 1} if type(opt).__name__ == "LBFGS" else {}))

    def closure():  # (LBFGS's): sets the gradient, which is gone again after one read
        p.grad = tl.tensor(grad)
        return tl.tensor(0.0)

    def ref_closure():
        ref.grad = torch.tensor(grad.astype(np.float32))
        return torch.tensor(0.0)
    p.grad = tl.tensor(grad)
    tl.nn.utils.clip_grad_value_([p], 10.0)
    p.grad = tl.tensor(grad)
    opt.step(closure) if isinstance(opt, tl.optim.LBFGS) else opt.step()
    ref_opt.step(ref_closure) if isinstance(ref_opt, torch.optim.LBFGS) else (ref_closure(), ref_opt.step())
    assert_close_f16(p.detach().numpy(), ref.detach().numpy())
