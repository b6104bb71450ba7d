"""Zero-copy interop: numpy both ways (writes show on the other side), the buffer protocol, DLPack with
PyTorch and numpy in both directions (shared memory, deleters run exactly once)."""
import gc
import sys

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_equal, f16_randn

# Zero-copy host interop is about CPU memory, whatever the machine's default device is.
pytestmark = pytest.mark.usefixtures("cpu_default")


def test_numpy_view_shares_memory(rng):
    x = f16_randn(rng, (3, 4))
    t = tl.tensor(x)
    n = t.numpy()
    assert n.dtype == np.float16 and n.shape == (3, 4)
    assert n.ctypes.data == t.data_ptr()
    n[1, 2] = 42.0
    assert t[1, 2].item() == 42.0
    t[0, 0] = -3.0
    assert n[0, 0] == -3.0
    a = np.asarray(t)
    assert a.ctypes.data == t.data_ptr()
    v = t[:, 1:3]  # a strided view stays a view on the numpy side too
    assert np.shares_memory(v.numpy(), n)
    i = tl.tensor([[1, 2], [3, 4]])
    ni = i.numpy()
    assert ni.dtype == np.int64
    ni[0, 0] = 9
    assert i.tolist() == [[9, 2], [3, 4]]


def test_array_protocol_dtype_and_copy(rng):
    t = tl.tensor(f16_randn(rng, (5,)))
    as32 = np.asarray(t, dtype=np.float32)
    assert as32.dtype == np.float32
    np.testing.assert_array_equal(as32, t.numpy().astype(np.float32))
    copied = np.array(t, copy=True)
    copied[0] = 1000
    assert t[0].item() != 1000


def test_from_numpy_shares_memory_both_ways(rng):
    x = f16_randn(rng, (4, 3))
    t = tl.from_numpy(x)
    assert t.data_ptr() == x.ctypes.data
    x[2, 1] = 11.0
    assert t[2, 1].item() == 11.0
    t[0, 0] = 5.0
    assert x[0, 0] == 5.0
    ints = np.arange(6, dtype=np.int32)
    ti = tl.from_numpy(ints)
    ti[1] = 100
    assert ints[1] == 100
    col = x[:, 1]  # whole-element strides: still no copy
    tc = tl.from_numpy(col)
    assert tc.data_ptr() == col.ctypes.data and tc.stride() == (3,)
    del x, t, col
    gc.collect()
    assert tc.shape == (4,)  # the tensor keeps the numpy buffer alive


def test_from_numpy_converts_other_dtypes(rng):
    x = rng.standard_normal((3, 3))
    t = tl.from_numpy(x)
    assert t.dtype == tl.float16
    assert_equal(t, x.astype(np.float16))
    x[0, 0] = 7.0
    assert t[0, 0].item() != 7.0  # a converted copy
    t64 = tl.from_numpy(np.array([1, -2, 3], dtype=np.int64))
    assert t64.dtype == tl.int64 and t64.tolist() == [1, -2, 3]
    assert tl.from_numpy(np.array([1, 2], dtype=np.int16)).dtype == tl.int32
    tb = tl.from_numpy(np.array([True, False]))
    assert tb.dtype == tl.bool and tb.tolist() == [True, False]


def test_buffer_protocol(rng):
    x = f16_randn(rng, (2, 3))
    t = tl.tensor(x)
    m = memoryview(t)
    assert m.format == "e" and m.shape == (2, 3) and m.itemsize == 2 and not m.readonly
    assert np.frombuffer(m.tobytes(), np.float16).reshape(2, 3).tolist() == x.tolist()
    view = np.asarray(m)
    view[1, 1] = 3.0
    assert t[1, 1].item() == 3.0
    mi = memoryview(tl.tensor([1, 2, 3]))
    assert mi.format == "q" and mi.tolist() == [1, 2, 3]
    assert memoryview(tl.tensor([1], dtype=tl.int32)).format == "i"
    mb = memoryview(tl.tensor([True, False]))
    assert mb.format == "?" and mb.tolist() == [True, False]
    st = memoryview(t[:, ::2])
    assert st.strides == (6, 4)


@pytest.mark.parametrize("shape", [(3, 4), (0, 2), (), (5,)])
def test_torch_from_dlpack_shares_memory(rng, shape):
    x = f16_randn(rng, shape)
    t = tl.tensor(x)
    pt = torch.from_dlpack(t)
    assert pt.dtype == torch.float16 and tuple(pt.shape) == shape
    np.testing.assert_array_equal(pt.numpy(), x)
    if pt.numel():
        pt.view(-1)[0] = 21.0
        assert t.numpy().reshape(-1)[0] == 21.0
        t.fill_(-1.0)
        assert bool((pt == -1.0).all())


def test_torch_from_dlpack_strided_and_int(rng):
    x = f16_randn(rng, (4, 6))
    t = tl.tensor(x)
    v = t.T[1:, ::2]
    pt = torch.from_dlpack(v)
    np.testing.assert_array_equal(pt.numpy(), x.T[1:, ::2])
    assert pt.stride() == v.stride()
    i = tl.tensor([[1, 2], [3, 4]])
    pi = torch.from_dlpack(i)
    assert pi.dtype == torch.int64
    pi[1, 1] = 40
    assert i[1, 1].item() == 40


def test_tl_from_dlpack_torch_shares_memory():
    pt = torch.arange(12, dtype=torch.float16).reshape(3, 4)
    t = tl.from_dlpack(pt)
    assert t.shape == (3, 4) and t.dtype == tl.float16 and t.data_ptr() == pt.data_ptr()
    t[1, 1] = 99.0
    assert pt[1, 1].item() == 99.0
    pt[2, 3] = -7.0
    assert t[2, 3].item() == -7.0
    view = tl.from_dlpack(pt.t())
    assert view.stride() == (1, 4)
    assert_equal(view, pt.t().numpy())
    ints = tl.from_dlpack(torch.tensor([5, 6], dtype=torch.int32))
    assert ints.dtype == tl.int32 and ints.tolist() == [5, 6]
    del pt
    gc.collect()
    assert t[2, 3].item() == -7.0  # the producer's memory lives as long as the tensor


def test_dlpack_deleter_runs_exactly_once():
    x = np.arange(8, dtype=np.float16)
    base = sys.getrefcount(x)
    t = tl.from_dlpack(x)  # numpy's producer holds a reference until its deleter runs
    assert sys.getrefcount(x) > base
    t[0] = 5.0
    assert x[0] == 5.0
    view = t[2:]
    del t
    gc.collect()
    assert sys.getrefcount(x) > base  # a view still holds the memory
    del view
    gc.collect()
    assert sys.getrefcount(x) == base  # released once: a second release would drop below base

    y = np.arange(4, dtype=np.float16)
    base = sys.getrefcount(y)
    capsule = y.__dlpack__()
    del capsule  # an unconsumed capsule releases its tensor itself
    gc.collect()
    assert sys.getrefcount(y) == base


def test_dlpack_capsules_roundtrip(rng):
    x = f16_randn(rng, (2, 3))
    t = tl.tensor(x)
    for versioned in (False, True):
        capsule = t.__dlpack__(max_version=(1, 0) if versioned else None)
        back = tl.from_dlpack(capsule)
        assert back.data_ptr() == t.data_ptr()
        with pytest.raises(ValueError):
            tl.from_dlpack(capsule)  # a capsule is consumed once
    assert t.__dlpack_device__() == (1, 0)
    copied = tl.from_dlpack(t.__dlpack__(copy=True))
    assert copied.data_ptr() != t.data_ptr()
    assert_equal(copied, x)


def test_dlpack_rejects_other_dtypes():
    with pytest.raises(TypeError, match="float16, int32, int64 and bool"):
        tl.from_dlpack(torch.zeros(3, dtype=torch.float32))
    with pytest.raises(TypeError):
        tl.from_dlpack(np.zeros(3, dtype=np.int16))


def test_readonly_numpy_is_copied():
    x = np.arange(4, dtype=np.float16)
    x.flags.writeable = False
    t = tl.from_numpy(x)
    t[0] = 9.0
    assert x[0] == 0


def test_readonly_dlpack_producer_is_copied():
    x = np.arange(4, dtype=np.float16)
    x.flags.writeable = False  # numpy exports it with DLPack 1.0's read-only flag
    t = tl.from_dlpack(x)
    assert t.data_ptr() != x.ctypes.data
    t[0] = 9.0
    assert x[0] == 0 and t[0].item() == 9.0


def test_numpy_round_trip_of_every_integer_dtype_object(device):
    """numpy has several dtype objects of one type (longlong and int64 on Linux): all are accepted."""
    for dtype in (np.int64, np.longlong, np.int32, np.intc, np.bool_):
        values = np.array([1, 0, 3], dtype=dtype)
        t = tl.tensor(values, device=device)
        np.testing.assert_array_equal(tl.tensor(t.cpu().numpy(), device=device).cpu().numpy(), values)


def test_utils_dlpack_capsules_travel_both_ways(rng):
    """tl.utils.dlpack as torch.utils.dlpack: a capsule of ours is torch's tensor over our memory, and torch's
    capsule ours over its memory."""
    x = f16_randn(rng, (3, 5))
    t = tl.tensor(x)
    pt = torch.utils.dlpack.from_dlpack(tl.utils.dlpack.to_dlpack(t))
    np.testing.assert_array_equal(pt.numpy(), x)
    assert pt.data_ptr() == t.data_ptr()
    src = torch.from_numpy(f16_randn(rng, (4,)))
    back = tl.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    assert back.data_ptr() == src.data_ptr() and back.tolist() == src.tolist()
