"""Every error path of SPEC §6 raises its typed exception with a clear message, never crashes, and leaves
the inputs unchanged."""
import numpy as np
import pytest

import tensorlogic as tl
from oracle import assert_equal, f16_randn


@pytest.fixture
def x(device, rng):
    return tl.tensor(f16_randn(rng, (3, 4)), device=device)


def _unchanged(t, fn, error, match=None):
    before = t.numpy().copy()
    version = t._version
    with pytest.raises(error, match=match):
        fn()
    assert_equal(t, before)
    assert t._version == version


def test_shape_mismatch_names_op_and_shapes(x, device):
    y = tl.zeros(5, device=device)
    with pytest.raises(tl.ShapeMismatchError, match=r"add.*\[3, 4\].*\[5\]"):
        x + y
    assert issubclass(tl.ShapeMismatchError, ValueError)
    for fn in (lambda: tl.cat([x, tl.zeros(3, 5, device=device)]), lambda: tl.stack([x, x.T]),
               lambda: x.reshape(5, -1), lambda: x.view(7), lambda: tl.where(x > 0, x, y), lambda: x.expand(2, 3),
               lambda: tl.gather(x, 0, tl.zeros(1, 5, dtype=tl.int32, device=device)),
               lambda: tl.embedding(x[0], tl.zeros(2, dtype=tl.int32, device=device))):
        with pytest.raises(tl.ShapeMismatchError):
            fn()


def test_inplace_errors_leave_input_unchanged(x, device):
    _unchanged(x, lambda: x.add_(tl.zeros(2, 3, 4, device=device)), tl.ShapeMismatchError, "broadcast")
    _unchanged(x, lambda: x.mul_(tl.zeros(5, device=device)), tl.ShapeMismatchError)
    ints = tl.tensor([1, 2, 3], device=device)
    _unchanged(ints, lambda: ints.mul_(0.5), TypeError, "int64")
    _unchanged(ints, lambda: ints.div_(2), TypeError)
    _unchanged(x, lambda: x.fill_(1e6), tl.PrecisionOverflowError)
    _unchanged(x, lambda: x.copy_(tl.zeros(4, 3, device=device)), tl.ShapeMismatchError)
    _unchanged(x, lambda: x.__setitem__((slice(None), 0), tl.zeros(4, device=device)), tl.ShapeMismatchError)


def test_precision_overflow_reports_count_and_first_index(device):
    data = np.zeros((3, 4))
    data[1, 2] = 70000.0
    data[2, 0] = -1e9
    with pytest.raises(tl.PrecisionOverflowError, match=r"2 value.*\(1, 2\)") as info:
        tl.tensor(data, device=device)
    assert isinstance(info.value, OverflowError)
    with pytest.raises(tl.PrecisionOverflowError):
        tl.from_numpy(data)
    with pytest.raises(tl.PrecisionOverflowError):
        tl.tensor([1.0, 65520.0])
    assert np.isinf(tl.tensor([np.inf, -np.inf, np.nan]).numpy()[:2]).all()  # non-finite values convert as they are
    assert tl.tensor([65504.0]).item() == 65504.0


@pytest.mark.parametrize("data, says", [(np.array([[0.5, -7e4]], np.float32), "index (0, 1), is -70000.0"),
                                        (np.float64(1e5), "index (), is 100000.0"),
                                        (np.array(-3e38, np.float32), "index (), is -3.0000000")])
def test_precision_overflow_prints_the_value_as_a_plain_number(data, says):
    """Found by attack round 9: numpy 2 writes its scalars as np.float32(-70000.0), and the message did too."""
    with pytest.raises(tl.PrecisionOverflowError) as info:
        tl.tensor(data)
    assert says in str(info.value) and "np." not in str(info.value)
    with pytest.raises(OverflowError):
        tl.tensor([2 ** 40], dtype=tl.int32)


def test_wrong_dtypes(x, device):
    assert tl.tensor([1.0], dtype="float64").dtype == tl.float16  # every float dtype name means float16
    with pytest.raises(TypeError, match="float16 .* int32, int64 and bool"):
        tl.tensor([1.0], dtype="quint8")
    assert isinstance(tl.zeros(2, dtype=np.complex64), tl.ComplexTensor)  # complex names make complex tensors
    with pytest.raises(TypeError, match="complex tensors .* are made by"):
        tl.arange(2, dtype=np.complex64)  # where a real dtype belongs
    with pytest.raises(TypeError, match="int32"):
        tl.gather(x, 1, tl.zeros(3, 1, device=device))  # float16 indices
    with pytest.raises(TypeError):
        tl.index_select(x, 0, tl.zeros(2, device=device))
    ints = tl.tensor([1, 2], device=device)
    _unchanged(ints, lambda: ints.index_put_((tl.tensor([0], device=device),), tl.tensor([0.5], device=device)), TypeError)
    with pytest.raises(TypeError):
        tl.tensor(["a", "b"])
    with pytest.raises(TypeError):
        x + "text"
    with pytest.raises(TypeError):
        tl.from_numpy([1, 2])
    with pytest.raises(TypeError):
        tl.zeros(2.5)
    with pytest.raises(IndexError):
        x[1.5]


def test_out_of_range_indices(x, device):
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="-5"):
        x[:, -5]
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 1 with size 4"):
        x[:, [0, 7]]
    with pytest.raises(IndexError):  # index tensors on a GPU are checked there: the error comes at the read
        x[tl.tensor([0, 3], device=device)].numpy()
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[..., ...]
    idx = tl.tensor([[0, 4, 1, 0]], device=device)
    with pytest.raises(IndexError, match="index 4"):
        tl.gather(x, 0, idx).numpy()
    with pytest.raises(IndexError):
        tl.index_select(x, 1, tl.tensor([4], device=device)).numpy()
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):  # CUDA: at the read
        tl.embedding(x, tl.tensor([[0, 3]], device=device)).numpy()
    with pytest.raises(IndexError):
        x[x[:, :2] > 0]  # mask of the wrong shape
    with pytest.raises(IndexError):
        x.transpose(0, 2)
    # writes: indices given as host data are checked before anything is written, on every device
    _unchanged(x, lambda: x.__setitem__([0, 1, 5], 1.0), IndexError)
    _unchanged(x, lambda: x.__setitem__((slice(None), [3, 4]), tl.zeros(3, 2, device=device)), IndexError)
    bad_writes = [lambda: x.index_put_((tl.tensor([0, 2, -4], device=device),), tl.zeros(4, device=device), accumulate=True),
                  lambda: x.scatter_add_(0, tl.tensor([[0, 1, 2, 3]], device=device), tl.ones(1, 4, device=device))]
    for write in bad_writes:
        if device == "cpu":
            _unchanged(x, write, IndexError)
        else:  # checked on the device: the entries out of range are skipped, the error raised at the read
            before = x.numpy().copy()
            write()
            with pytest.raises(IndexError, match="out of bounds"):
                x.numpy()
            x.copy_(tl.tensor(before, device=device))


def test_bad_arguments(x, device):
    with pytest.raises(ValueError, match="mode"):
        tl.pad(x, (1, 1), mode="wrap")
    with pytest.raises(ValueError):
        tl.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match="smaller than the size"):
        tl.pad(x, (4, 0), mode="reflect")
    with pytest.raises(ValueError, match="step"):
        x[::-1]
    with pytest.raises(ValueError):
        x[::0]
    with pytest.raises(ValueError):
        tl.cat([])
    with pytest.raises(TypeError):
        tl.cat(x)
    with pytest.raises(ValueError):
        tl.arange(0, 10, 0)
    with pytest.raises(ValueError):
        tl.zeros(-1)
    with pytest.raises(ValueError):
        tl.tensor([np.nan], dtype=tl.int32)
    with pytest.raises(IndexError):
        x.squeeze(5)
    with pytest.raises(ValueError, match="2 elements"):
        tl.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError):
        tl.memory.set_limit(-1)
    with pytest.raises(ValueError, match="division by zero"):
        tl.tensor([1, 2]) // 0


def test_bad_device_names(device):
    for name in ("tpu", "gpu", "cuda:x", "cpu:1", "", "metal:-1"):
        with pytest.raises(tl.DeviceError, match="available"):
            tl.zeros(2, device=name)
    assert issubclass(tl.DeviceError, RuntimeError)
    for missing in ("cuda", "metal", "ane"):
        if missing not in tl.available_devices():
            with pytest.raises(tl.DeviceError, match="available: .*cpu"):
                tl.zeros(2, device=missing)
            with pytest.raises(tl.DeviceError):
                tl.zeros(2).to(missing)


def test_mixed_devices():
    devices = tl.available_devices()
    if len(devices) < 2:
        pytest.skip("needs two devices")
    a = tl.ones(3, device=devices[0])
    b = tl.ones(3, device=devices[-1])
    for fn in (lambda: a + b, lambda: tl.cat([a, b]), lambda: a[tl.tensor([0], device=devices[-1])],
               lambda: tl.where(a > 0, a, b)):
        with pytest.raises(tl.DeviceError, match="device"):
            fn()
    _unchanged(a, lambda: a.add_(b), tl.DeviceError)
