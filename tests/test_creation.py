"""Creation functions with PyTorch's signatures: tensor, zeros/ones/full/empty (varargs or tuple),
arange, linspace, eye, the *_like forms; dtype inference and the float16 overflow check."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_equal


def test_tensor_from_python_data(device):
    t = tl.tensor([[1.5, 2.0], [3.25, -4.0]], device=device)
    assert t.dtype == tl.float16 and t.shape == (2, 2) and t.device.type == device
    assert t.tolist() == [[1.5, 2.0], [3.25, -4.0]]
    i = tl.tensor([1, 2, 3], device=device)
    assert i.dtype == tl.int64 and i.tolist() == [1, 2, 3]
    assert tl.tensor(3.5, device=device).shape == () and tl.tensor(3.5).item() == 3.5
    b = tl.tensor([True, False], device=device)
    assert b.dtype == tl.bool and b.tolist() == [True, False]
    assert tl.tensor([], device=device).shape == (0,)
    assert tl.tensor([1, 2], dtype=tl.float16, device=device).dtype == tl.float16
    assert tl.tensor([1.7, -2.2], dtype="int32", device=device).tolist() == [1, -2]
    assert tl.tensor(np.float64(0.1)).item() == float(np.float16(0.1))
    for ragged in ([[1], [1, 2]], [1, [2]]):  # numpy's "setting an array element with a sequence" before
        with pytest.raises(ValueError, match="uneven lengths"):
            tl.tensor(ragged, device=device)


def test_tensor_copies_and_requires_grad(device):
    x = np.arange(4, dtype=np.float16)
    t = tl.tensor(x, device=device)
    x[0] = 9
    assert t[0].item() == 0
    u = tl.tensor(t)
    u[1] = 5.0
    assert t[1].item() == 1.0
    g = tl.tensor([1.0, 2.0], requires_grad=True)
    assert g.requires_grad and not t.requires_grad
    with pytest.raises(TypeError):
        tl.tensor([1, 2], requires_grad=True)
    assert tl.tensor([tl.tensor([1.0, 2.0]), tl.tensor([3.0, 4.0])]).tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("fn,value", [(tl.zeros, 0.0), (tl.ones, 1.0)])
def test_zeros_ones(device, fn, value):
    for args in [(2, 3), ((2, 3),), ([2, 3],), (torch.Size([2, 3]),)]:
        t = fn(*args, device=device)
        assert t.shape == (2, 3) and t.dtype == tl.float16
        assert_equal(t, np.full((2, 3), value, np.float16))
    assert fn(0, device=device).shape == (0,)
    assert fn((), device=device).shape == ()
    i = fn(4, dtype=tl.int32, device=device)
    assert i.dtype == tl.int32 and i.tolist() == [int(value)] * 4


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_size_keyword(device, rng, name):
    """size= as PyTorch takes it (the PyTorch examples' gat: torch.empty(size=(in_features, out_features))), and
    the same TypeErrors for a size given twice or an unknown keyword."""
    shape = tuple(int(s) for s in rng.integers(0, 4, rng.integers(0, 4)))
    for lib in (torch, tl):
        assert tuple(getattr(lib, name)(size=shape).shape) == shape
        assert tuple(getattr(lib, name)(size=list(shape), dtype=lib.int32).shape) == shape
        with pytest.raises(TypeError):
            getattr(lib, name)(2, size=(2,))
        with pytest.raises(TypeError):
            getattr(lib, name)(2, shape=(2,))
    assert getattr(tl, name)(size=shape, device=device).device.type == tl.device(device).type
    # bad sizes by keyword are explained as the varargs are ("received an invalid combination of arguments" before)
    with pytest.raises(MemoryError, match=rf"{name}\(\): argument 'size' \(element 1\)"):
        getattr(tl, name)(size=(2, 2**64))
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'size' must be tuple of ints, not NoneType"):
        getattr(tl, name)(size=None)


def test_full_empty_like(device, rng):
    assert tl.full((2, 2), 1.5, device=device).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert tl.full((3,), 7, device=device).dtype == tl.int64
    assert tl.full((3,), True, device=device).dtype == tl.bool
    assert tl.full((3,), 7, dtype=tl.float16).dtype == tl.float16
    assert tl.empty(2, 5, device=device).shape == (2, 5)
    x = tl.tensor(rng.standard_normal((3, 2)), device=device)
    for fn, value in [(tl.zeros_like, 0), (tl.ones_like, 1)]:
        y = fn(x)
        assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
        assert_equal(y, np.full((3, 2), value, np.float16))
    assert_equal(tl.full_like(x, -2.5), np.full((3, 2), -2.5, np.float16))
    assert tl.empty_like(x).shape == (3, 2)
    assert tl.zeros_like(x, dtype=tl.int32).dtype == tl.int32
    with pytest.raises(tl.PrecisionOverflowError):
        tl.full((2,), 70000.0)


@pytest.mark.parametrize("args", [(5,), (2, 9), (0, 10, 3), (10, 0, -2), (3, 3), (-4, 4, 1)])
def test_arange_int(device, args):
    t = tl.arange(*args, device=device)
    assert t.dtype == tl.int64
    assert t.tolist() == torch.arange(*args).tolist()


@pytest.mark.parametrize("args", [(0.0, 1.0, 0.1), (1, 2.5, 0.25), (-1.5, 3.0, 0.7), (5.0,), (2.0, -2.0, -0.3)])
def test_arange_float(device, args):
    t = tl.arange(*args, device=device)
    assert t.dtype == tl.float16
    assert_close_f16(t, torch.arange(*args, dtype=torch.float64).numpy(), rtol=1e-3, atol=1e-3)


def test_linspace_eye(device):
    for start, end, steps in [(0, 1, 5), (-3.0, 7.0, 11), (2, 2, 1), (0, 1, 0), (1.0, -1.0, 7)]:
        t = tl.linspace(start, end, steps, device=device)
        assert_close_f16(t, torch.linspace(start, end, steps, dtype=torch.float64).numpy(), rtol=1e-3, atol=1e-3)
    assert_equal(tl.eye(3, device=device), np.eye(3, dtype=np.float16))
    assert_equal(tl.eye(2, 4, device=device), np.eye(2, 4, dtype=np.float16))
    assert tl.eye(3, dtype=tl.int32).dtype == tl.int32


def test_is_tensor_and_broadcast_shapes():
    assert tl.is_tensor(tl.zeros(1)) and not tl.is_tensor(np.zeros(1))
    assert tl.broadcast_shapes((2, 1), (3,), (1, 1, 1)) == torch.broadcast_shapes((2, 1), (3,), (1, 1, 1))
    assert tl.broadcast_shapes(5, (1,)) == (5,)
    with pytest.raises(tl.ShapeMismatchError):
        tl.broadcast_shapes((2, 3), (4,))


def test_to_and_dtype_conversions(device, rng):
    x = tl.tensor(rng.standard_normal(4) * 10, device=device)
    i = x.int()
    assert i.dtype == tl.int32 and i.tolist() == [int(v) for v in x.tolist()]
    assert x.long().dtype == tl.int64 and i.float().dtype == tl.float16 and i.half().dtype == tl.float16
    assert x.to(tl.int32).dtype == tl.int32 and x.to("int32").dtype == tl.int32
    assert x.to(device) is x and x.to(dtype=tl.float16) is x
    assert x.to(device, tl.int32).dtype == tl.int32
    assert x.to(i).dtype == tl.int32
    assert x.cpu().device.type == "cpu"
    assert x.to(device, copy=True).data_ptr() != x.data_ptr()
