"""The CUDA backend against the CPU backend: copies and transfers bit for bit, elementwise math within
one f16 ulp, errors typed, memory statistics flat. Skipped where no CUDA device is present."""
import numpy as np
import pytest

import opinfo
import tensorlogic as tl
from oracle import assert_ulp
from tensorlogic import _core

pytestmark = pytest.mark.skipif(not tl.cuda.is_available(), reason="no CUDA device")

U, B = _core.UnaryOp, _core.BinaryOp
TINY = 1e-6  # tiny results (f16 subnormals) may differ in their last bits between the backends
UNARY_KERNELS = opinfo.kernel_cases(opinfo.UNARY)  # each kernel's op entry and the parameters of its first variant


def rng():
    return np.random.default_rng()


def f16(shape, lo=-4.0, hi=4.0):
    return rng().uniform(lo, hi, size=shape).astype(np.float16)


def to(a, device):
    return _core.to_device(_core.from_numpy(np.ascontiguousarray(a)), device)


def host(arr):
    return np.asarray(_core.to_device(arr, "cpu")).copy()


def test_available_and_default():
    assert "cuda" in tl.available_devices()
    assert tl.get_default_device() == "cuda"
    tl.cuda.synchronize()


@pytest.mark.parametrize("shape", [(0,), (1,), (7, 3), (3, 1 << 19), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float16, np.int32])
def test_roundtrip_bitwise(shape, dtype):
    a = f16(shape) if dtype == np.float16 else rng().integers(-1000, 1000, size=shape, dtype=np.int32)
    if dtype == np.float16 and a.size:
        a.reshape(-1)[0] = np.nan
    back = host(to(a, "cuda"))
    np.testing.assert_array_equal(back.view(np.uint8), a.view(np.uint8))


def test_strided_transfers_and_copies():
    a = f16((6, 40, 9))
    d = to(a, "cuda")
    view = _core.slice(_core.transpose(d, 0, 2), 1, 3, 37, 2)  # non-contiguous on the device
    np.testing.assert_array_equal(host(view), a.transpose(2, 1, 0)[:, 3:37:2])
    np.testing.assert_array_equal(host(_core.contiguous(view)), a.transpose(2, 1, 0)[:, 3:37:2])
    cpu_view = _core.transpose(_core.from_numpy(a), 0, 1)
    np.testing.assert_array_equal(host(_core.to_device(cpu_view, "cuda")), a.transpose(1, 0, 2))
    # dtype conversion both ways matches the CPU backend bit for bit
    for arr, dt in ((d, "int32"), (_core.astype(d, "int32"), "float16")):
        np.testing.assert_array_equal(host(_core.astype(arr, dt)), np.asarray(_core.astype(_core.to_device(arr, "cpu"), dt)))
    dst = to(np.zeros((9, 40, 6), np.float16), "cuda")
    _core.copy_(dst, _core.transpose(d, 0, 2))
    np.testing.assert_array_equal(host(dst), a.transpose(2, 1, 0))
    _core.fill_(_core.slice(dst, 0, 0, 9, 3), 2.5)
    want = a.transpose(2, 1, 0).copy()
    want[0:9:3] = 2.5
    np.testing.assert_array_equal(host(dst), want)


def unary_inputs(op):
    lo, hi = (0.01, 8.0) if UNARY_KERNELS[op][0].domain.low >= 0 else (-6.0, 6.0)
    return f16((37, 129), lo, hi)


@pytest.mark.parametrize("op", list(U.__members__))
def test_unary_matches_cpu(op):
    a = unary_inputs(op)
    params = (UNARY_KERNELS[op][1].params + (0.0, 0.0))[:2]
    want = np.asarray(_core.unary(U.__members__[op], _core.from_numpy(a), *params))
    got = host(_core.unary(U.__members__[op], to(a, "cuda"), *params))
    assert_ulp(got, want, atol=TINY)
    # strided input and in place through a strided view
    d = to(a, "cuda")
    view = _core.slice(d, 1, 0, 129, 2)
    _core.unary_(U.__members__[op], view, *params)
    want_full = a.copy()
    want_full[:, ::2] = np.asarray(_core.unary(U.__members__[op], _core.from_numpy(np.ascontiguousarray(a[:, ::2])), *params))
    assert_ulp(host(d), want_full, atol=TINY)


@pytest.mark.parametrize("op", list(B.__members__))
def test_binary_matches_cpu(op):
    o = B.__members__[op]
    a, b = f16((33, 65)), f16((65,))
    if op in ("div", "floor_divide", "remainder", "pow"):
        b = np.where(np.abs(b) < 0.25, 1.0, b).astype(np.float16)
    if op == "pow":
        a = np.abs(a)
    ca, cb = _core.from_numpy(a), _core.from_numpy(b)
    da, db = to(a, "cuda"), to(b, "cuda")
    assert_ulp(host(_core.binary(o, da, db)), np.asarray(_core.binary(o, ca, cb)), atol=TINY)
    assert_ulp(host(_core.binary_scalar(o, da, 1.75)), np.asarray(_core.binary_scalar(o, ca, 1.75)), atol=TINY)
    assert_ulp(host(_core.rbinary_scalar(o, 1.75, db)), np.asarray(_core.rbinary_scalar(o, 1.75, cb)), atol=TINY)
    ta = _core.transpose(da, 0, 1)  # strided operands
    assert_ulp(host(_core.binary(o, ta, ta)), np.asarray(_core.binary(o, _core.transpose(ca, 0, 1), _core.transpose(ca, 0, 1))), atol=TINY)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "minimum", "floor_divide", "remainder", "eq", "lt", "ge"])
def test_int_binary_matches_cpu(op):
    o = B.__members__[op]
    a = rng().integers(-2**31, 2**31 - 1, size=(17, 9), dtype=np.int32)
    b = rng().integers(-50, 50, size=(9,), dtype=np.int32)
    b[b == 0] = 7
    got = host(_core.binary(o, to(a, "cuda"), to(b, "cuda")))
    want = np.asarray(_core.binary(o, _core.from_numpy(a), _core.from_numpy(b)))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(host(_core.binary_scalar(o, to(a, "cuda"), 3)), np.asarray(_core.binary_scalar(o, _core.from_numpy(a), 3)))


def test_int_division_by_zero_raises():
    a = to(np.arange(6, dtype=np.int32), "cuda")
    z = to(np.array([1, 2, 0, 1, 1, 1], dtype=np.int32), "cuda")
    for o in (B.floor_divide, B.remainder):
        with pytest.raises(ValueError, match="division by zero"):
            _core.binary(o, a, z)
    np.testing.assert_array_equal(host(a), np.arange(6, dtype=np.int32))


def test_ternary_matches_cpu():
    c = (f16((20, 31)) > 0).astype(np.float16)
    a, b = f16((20, 31)), f16((31,))
    assert_ulp(host(_core.where(to(c, "cuda"), to(a, "cuda"), to(b, "cuda"))),
               np.asarray(_core.where(_core.from_numpy(c), _core.from_numpy(a), _core.from_numpy(b))), atol=TINY)
    assert_ulp(host(_core.affine(to(a, "cuda"), to(b, "cuda"), to(a, "cuda"))),
               np.asarray(_core.affine(_core.from_numpy(a), _core.from_numpy(b), _core.from_numpy(a))), atol=TINY)
    ia, ib = (rng().integers(-9, 9, size=(20, 31), dtype=np.int32) for _ in range(2))
    np.testing.assert_array_equal(host(_core.where(to(c, "cuda"), to(ia, "cuda"), to(ib, "cuda"))), np.where(c != 0, ia, ib))


def test_mixed_devices_raise_device_error():
    a = f16((4, 4))
    d, c = to(a, "cuda"), _core.from_numpy(a.copy())
    with pytest.raises(tl.DeviceError, match="one device"):
        _core.binary(B.add, d, c)
    np.testing.assert_array_equal(host(d), a)
    with pytest.raises(tl.DeviceError):
        _core.to_device(c, "cuda:3")


def test_out_of_memory_names_request_and_usage():
    with pytest.raises(MemoryError, match=r"requested \d+ bytes with \d+ bytes in use"):
        _core.empty([1 << 45], "float16", "cuda")
    tl.memory.set_limit(1 << 20, "cuda")
    try:
        with pytest.raises(MemoryError, match="limit"):
            _core.empty([1 << 21], "float16", "cuda")
    finally:
        tl.memory.set_limit(0, "cuda")
    assert _core.empty([16], "float16", "cuda").numel() == 16  # still usable after the failure


def test_small_ops_keep_active_bytes_flat():
    x = to(f16((64,)), "cuda")
    y = _core.binary(B.add, x, x)
    before = tl.memory.stats("cuda")["active_bytes"]
    for _ in range(20000):
        y = _core.binary(B.add, y, x)
        y = _core.unary(U.relu, y, 0.0, 0.0)
    tl.cuda.synchronize()
    stats = tl.memory.stats("cuda")
    assert stats["active_bytes"] == before
    assert stats["cached_bytes"] < 1 << 20


def test_tensor_to_and_from_cuda():
    a = f16((5, 7))
    t = tl.Tensor(a, device="cuda")
    assert t.device == "cuda"
    s = (t + t).exp()
    assert s.device == "cuda"
    assert_ulp(s.cpu().numpy(), np.asarray((tl.Tensor(a, device="cpu") + tl.Tensor(a, device="cpu")).exp().numpy()), atol=TINY)
    np.testing.assert_array_equal(t.to("cpu").numpy(), a)


def test_dlpack_exchange_with_torch_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    a = torch.randn(2048, 2048, device="cuda", dtype=torch.float16)
    b = a @ a  # queued on torch's stream, read by our kernels right after the exchange
    t = tl.from_dlpack(b)
    assert t.device == "cuda" and t.data_ptr() == b.data_ptr()
    np.testing.assert_array_equal((t + 0).cpu().numpy(), b.cpu().numpy())
    x = tl.Tensor(f16((2048, 2048)), device="cuda")
    y = x + x  # queued on our stream, read by torch right after the exchange
    u = torch.from_dlpack(y)
    assert u.device.type == "cuda" and u.data_ptr() == y.data_ptr()
    np.testing.assert_array_equal(u.cpu().numpy(), y.cpu().numpy())
