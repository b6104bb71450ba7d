"""The metal and ane devices themselves (macOS only: they exist only in Apple builds on Apple hardware,
so this file runs in the macOS workflow and skips elsewhere). Results are compared with the CPU backend
on the same f16 inputs."""
import os

import numpy as np
import pytest

import opinfo
import tensorlogic as tl
from tensorlogic import _core

GPU_DEVICES = [d for d in ("metal", "ane") if d in tl.available_devices()]
UNARY_KERNELS = opinfo.kernel_cases(opinfo.UNARY)  # each kernel's op entry and the parameters of its first variant
pytestmark = pytest.mark.skipif(not GPU_DEVICES, reason="no metal/ane device (Apple builds on Apple hardware only)")


@pytest.fixture(params=GPU_DEVICES or ["metal"])
def gpu(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(int.from_bytes(os.urandom(4), "little"))


def on(device, x):
    return _core.to_device(_core.from_numpy(np.ascontiguousarray(x)), device)


def host(a):
    return np.asarray(_core.to_device(a, "cpu"))


def close(got, want, rtol=2e-3, atol=1e-3):
    np.testing.assert_allclose(host(got).astype(np.float32), host(want).astype(np.float32), rtol=rtol, atol=atol)


def test_round_trip_and_strided_copies(gpu, rng):
    x = rng.uniform(-100, 100, (5, 6, 7)).astype(np.float16)
    a = on(gpu, x)
    np.testing.assert_array_equal(host(a), x)
    view = _core.slice(_core.transpose(a, 0, 2), 1, 0, 6, 2)
    np.testing.assert_array_equal(host(_core.contiguous(view)), np.ascontiguousarray(x.transpose(2, 1, 0)[:, ::2]))
    np.testing.assert_array_equal(host(_core.astype(a, "int32")), x.astype(np.float32).astype(np.int32))
    _core.fill_(view, 2.5)
    assert (host(a).transpose(2, 1, 0)[:, ::2] == 2.5).all()


@pytest.mark.parametrize("name", sorted(UNARY_KERNELS))
def test_unary_matches_cpu(gpu, rng, name):
    x = rng.uniform(0.1, 4, (33, 17)).astype(np.float16)
    op = _core.UnaryOp.__members__[name]
    p0, p1 = (UNARY_KERNELS[name][1].params + (0.0, 0.0))[:2]
    close(_core.unary(op, _core.transpose(on(gpu, x), 0, 1), p0, p1), _core.unary(op, _core.transpose(on("cpu", x), 0, 1), p0, p1))


@pytest.mark.parametrize("name", [op.kernel for op in opinfo.BINARY if op.kernel is not None])
def test_binary_broadcast_matches_cpu(gpu, rng, name):
    a, b = rng.uniform(0.5, 3, (4, 1, 9)).astype(np.float16), rng.uniform(0.5, 3, (5, 1)).astype(np.float16)
    op = _core.BinaryOp.__members__[name]
    close(_core.binary(op, on(gpu, a), on(gpu, b)), _core.binary(op, on("cpu", a), on("cpu", b)))
    close(_core.binary_scalar(op, on(gpu, a), 1.5), _core.binary_scalar(op, on("cpu", a), 1.5))


def test_integer_division_by_zero_raises_and_device_stays_usable(gpu):
    a, b = np.arange(6, dtype=np.int32), np.array([1, 2, 0, 1, 2, 3], np.int32)
    with pytest.raises(ValueError, match="division by zero"):
        _core.binary(_core.BinaryOp.floor_divide, on(gpu, a), on(gpu, b))
    np.testing.assert_array_equal(host(_core.binary(_core.BinaryOp.add, on(gpu, a), on(gpu, b))), a + b)


def test_tuple_engine_int64_kernels_match_cpu(gpu, rng):
    """The tuple engine's int64 kernels on the device itself (sizes cross the kernels' blocks)."""
    x = rng.integers(-50, 50, (3, 5000)).astype(np.int64)
    h = rng.uniform(-4, 4, (4, 700)).astype(np.float16)
    mask = rng.random(9000) < 0.3
    keys = np.sort(rng.integers(-100, 100, 3000)).astype(np.int64)
    index = rng.integers(0, 5000, 4000).astype(np.int64)
    calls = (
        lambda d: _core.argsort(on(d, x), 1, False),
        lambda d: _core.argsort(on(d, h), 1, True),
        lambda d: _core.scan(_core.ScanOp.cumsum, on(d, x), 1),
        lambda d: _core.scan(_core.ScanOp.cumprod, on(d, x[:, :40]), 1),
        lambda d: _core.scan(_core.ScanOp.cumsum, on(d, h), 1),
        lambda d: _core.searchsorted(on(d, keys), on(d, x.reshape(-1)), True),
        lambda d: _core.take_rows(on(d, x.T), on(d, index)),
        lambda d: _core.flatnonzero(on(d, mask)),
        lambda d: _core.reduce(_core.ReduceOp.argmax, on(d, x), [1], False, 1.0, 2.0),
        lambda d: _core.reduce(_core.ReduceOp.sum, on(d, x.reshape(-1)), [0], False, 1.0, 2.0),
        lambda d: _core.binary(_core.BinaryOp.mul, on(d, x), on(d, x[:, :1] << 40)),
        lambda d: _core.binary(_core.BinaryOp.lt, on(d, x), on(d, x[::-1])),
        lambda d: _core.binary_scalar(_core.BinaryOp.floor_divide, on(d, x), -(2**41) - 3),
        lambda d: _core.unary(_core.UnaryOp.neg, on(d, x), 0.0, 0.0),
        lambda d: _core.where(on(d, x > 0), on(d, x), on(d, x[::-1])),
    )
    for call in calls:
        np.testing.assert_array_equal(host(call(gpu)), host(call("cpu")))


def test_too_many_strided_dims_raise_device_error(gpu, rng):
    x = rng.uniform(-1, 1, (2,) * 10).astype(np.float16)
    t = _core.permute(on(gpu, x), [9, 0, 8, 1, 7, 2, 6, 3, 5, 4])  # no two dims merge
    with pytest.raises(tl.DeviceError, match="dims"):
        _core.unary(_core.UnaryOp.neg, t)
    close(_core.unary(_core.UnaryOp.neg, on(gpu, x)), _core.unary(_core.UnaryOp.neg, on("cpu", x)))


def test_buffers_are_reused_only_after_their_work(gpu, rng):
    x = on(gpu, rng.uniform(-1, 1, (256, 256)).astype(np.float16))
    sync = tl.metal.synchronize if gpu == "metal" else tl.ane.synchronize
    sync()
    before = _core.memory_stats(gpu)
    for _ in range(2):
        for _ in range(20):
            y = _core.unary(_core.UnaryOp.exp, x)
            del y  # released while its kernel may still be queued: back in the pool after it completes
        sync()
    after = _core.memory_stats(gpu)
    assert after["active_bytes"] == before["active_bytes"]
    assert after["reuses"] - before["reuses"] >= 20  # the second round runs on the first round's buffers


@pytest.mark.skipif(not hasattr(_core, "matmul"), reason="matmul is not on this branch yet")
def test_gemm_matches_cpu(gpu, rng):
    for m, k, n in ((1, 1, 1), (37, 19, 53), (130, 64, 96)):
        a, b = rng.uniform(-1, 1, (m, k)).astype(np.float16), rng.uniform(-1, 1, (k, n)).astype(np.float16)
        close(_core.matmul(on(gpu, a), on(gpu, b)), _core.matmul(on("cpu", a), on("cpu", b)), rtol=3e-3, atol=3e-3)


def planned(op, **shape):
    """The planner's decisions for `op` whose shape has these entries."""
    return [d for d in tl.planner.stats()["decisions"]
            if d["op"] == op and all(d["shape"].get(k) == v for k, v in shape.items())]


@pytest.mark.skipif("ane" not in tl.available_devices() or not hasattr(_core, "matmul"), reason="needs the ane device and matmul")
def test_ane_placement_is_counted_with_reasons(rng):
    small = rng.uniform(-1, 1, (4, 4)).astype(np.float16)
    _core.matmul(on("ane", small), on("ane", small))
    assert tl.planner.stats()["fallbacks"].get("too small to pay for a Core ML call", 0) >= 1
    a, b = rng.uniform(-1, 1, (256, 512)).astype(np.float16), rng.uniform(-1, 1, (512, 256)).astype(np.float16)
    close(_core.matmul(on("ane", a), on("ane", b)), _core.matmul(on("cpu", a), on("cpu", b)), rtol=1e-2, atol=1e-2)
    mine = planned("matmul", m=256, k=512, n=256)
    assert sum(d["calls"] for d in mine) >= 1, tl.planner.stats()
    assert all(d["device"] == "ane" or d["reason"] for d in mine), mine


@pytest.mark.skipif("ane" not in tl.available_devices(), reason="needs the ane device")
def test_ane_conv2d_matches_cpu_and_is_counted(rng):
    x = rng.uniform(-1, 1, (2, 32, 40, 40)).astype(np.float16)
    w = rng.uniform(-0.2, 0.2, (48, 16, 3, 3)).astype(np.float16)
    b = rng.uniform(-1, 1, (48,)).astype(np.float16)
    for stride, padding, dilation in (((1, 1), (1, 1), (1, 1)), ((2, 1), (0, 2), (1, 1)), ((1, 1), (2, 2), (2, 2))):
        got = _core.conv2d(on("ane", x), on("ane", w), on("ane", b), stride, padding, dilation, 2)
        want = _core.conv2d(on("cpu", x), on("cpu", w), on("cpu", b), stride, padding, dilation, 2)
        close(got, want, rtol=2e-2, atol=3e-2)  # the Neural Engine may accumulate in fp16
    for stride, padding in (([1, 1], [1, 1]), ([2, 1], [0, 2])):
        mine = planned("conv2d", stride=stride, padding=padding, dilation=[1, 1], groups=2)
        assert sum(d["calls"] for d in mine) >= 1 and all(d["device"] == "ane" or d["reason"] for d in mine), mine
    dilated = planned("conv2d", dilation=[2, 2], groups=2)
    assert dilated and all(d["device"] == "metal" and "dilat" in d["reason"] for d in dilated), dilated


@pytest.mark.skipif("ane" not in tl.available_devices() or not hasattr(_core, "matmul"), reason="needs the ane device and matmul")
def test_ane_model_that_fails_to_compile_is_reported_once(rng, tmp_path):
    bogus = tmp_path / "broken.mlpackage"
    bogus.mkdir()
    asked = []
    _core.ane_set_planner(lambda op, shape: asked.append(op) or (str(bogus), ""))
    try:
        a, b = rng.uniform(-1, 1, (257, 520)).astype(np.float16), rng.uniform(-1, 1, (520, 129)).astype(np.float16)
        for _ in range(3):
            close(_core.matmul(on("ane", a), on("ane", b)), _core.matmul(on("cpu", a), on("cpu", b)), rtol=3e-3, atol=3e-3)
        assert len(asked) == 1
        assert str(bogus) in tl.planner.stats()["failed_models"]
        failed = planned("matmul", m=257, k=520, n=129)
        assert sum(d["calls"] for d in failed if d["device"] == "metal") == 3, failed
    finally:
        _core.ane_set_planner(tl.planner._plan_native)


@pytest.mark.skipif(not {"metal", "ane"} <= set(GPU_DEVICES), reason="needs both metal and ane")
def test_metal_and_ane_share_memory(rng):
    x = rng.uniform(-1, 1, (8, 16)).astype(np.float16)
    m = on("metal", x)
    view = _core.slice(m, 1, 2, 10, 2)
    a = _core.to_device(view, "ane")
    assert a.device == "ane" and a.data_ptr() == view.data_ptr()  # no copy
    np.testing.assert_array_equal(host(_core.unary(_core.UnaryOp.neg, a)), -x[:, 2:10:2])
    back = _core.to_device(a, "metal")
    assert back.data_ptr() == m.data_ptr() + 2 * 2
