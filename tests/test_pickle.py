"""Plain pickle, copy.copy and copy.deepcopy of tensors, Parameters and modules, side by side with PyTorch's: the
same values, dtype, shape, device, requires_grad and type come back; a view pickles only its own values; the graph and
.grad are left behind as PyTorch leaves them; a device the loading process lacks is a DeviceError; and
tl.multiprocessing's pickler still sends tensors through shared memory."""
import copy
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.errors import DeviceError
from tensorlogic.tensor_new import rebuild_tensor
from oracle import f16_randn, host

_DTYPES = {"float16": (torch.float16, tl.float16), "int32": (torch.int32, tl.int32),
           "int64": (torch.int64, tl.int64), "bool": (torch.bool, tl.bool)}


def _round_trip(t):
    return pickle.loads(pickle.dumps(t))


@pytest.mark.parametrize("dtype", list(_DTYPES))
@pytest.mark.parametrize("shape", [(), (0, 3), (3, 4), (2, 1, 5)])
def test_values_dtype_shape_and_device_come_back(device, rng, dtype, shape):
    x = f16_randn(rng, shape, scale=8.0)
    torch_dtype, tl_dtype = _DTYPES[dtype]
    want = _round_trip(torch.from_numpy(x).to(torch_dtype))
    got = _round_trip(tl.tensor(x, device=device).to(tl_dtype))
    assert got.dtype == tl_dtype and got.shape == tuple(want.shape) and got.device == tl.device(device)
    assert type(got) is tl.Tensor and got.is_leaf and not got.requires_grad
    np.testing.assert_array_equal(host(got), want.numpy())


def test_a_view_pickles_its_own_values(device, rng):
    x = f16_randn(rng, (64, 64))
    view = tl.tensor(x, device=device)[1::3, 5]
    data = pickle.dumps(view)
    assert len(data) < 64 * 64 * 2 // 4  # not the whole storage
    got = pickle.loads(data)
    np.testing.assert_array_equal(host(got), x[1::3, 5])
    assert got.is_contiguous() and got.shape == (21,)


def test_requires_grad_parameters_and_attributes_as_in_torch(device, rng):
    x = f16_randn(rng, (3,))
    for lib, dev in ((torch, "cpu"), (tl, device)):
        leaf = lib.tensor(x, device=dev, requires_grad=True)
        leaf.grad = lib.ones_like(leaf)
        back = _round_trip(leaf)
        assert back.requires_grad and back.is_leaf and back.grad is None  # .grad is not pickled
        nonleaf = _round_trip(leaf * 2)  # a non-leaf comes back as a leaf that requires grad
        assert nonleaf.requires_grad and nonleaf.is_leaf and nonleaf.grad_fn is None
        np.testing.assert_array_equal(np.asarray(nonleaf.detach().cpu()), np.asarray((leaf * 2).detach().cpu()))
        for requires_grad in (True, False):
            p = lib.nn.Parameter(lib.tensor(x, device=dev), requires_grad=requires_grad)
            p.note = "kept"
            q = _round_trip(p)
            assert type(q) is lib.nn.Parameter and q.requires_grad == requires_grad and q.note == "kept"
        q.sum()  # usable after loading
    assert copy.deepcopy(p).note == "kept"  # (as torch's Tensor subclasses keep theirs; its Parameter drops them)


def test_copy_shares_storage_and_deepcopy_does_not(device, rng):
    x = f16_randn(rng, (2, 3))
    for lib, dev in ((torch, "cpu"), (tl, device)):
        t = lib.tensor(x, device=dev, requires_grad=True)
        shallow, deep = copy.copy(t), copy.deepcopy(t)
        assert shallow.requires_grad and deep.requires_grad
        with lib.no_grad():
            shallow[0, 0] = 7.0
        assert float(t[0, 0].detach()) == 7.0 and float(deep[0, 0].detach()) == float(x[0, 0])


def test_a_module_round_trips_through_plain_pickle(device, rng):
    model = tl.nn.Sequential(tl.nn.Linear(4, 8), tl.nn.GELU(), tl.nn.LayerNorm(8), tl.nn.Linear(8, 2)).to(device)
    back = _round_trip(model)
    x = tl.tensor(f16_randn(rng, (5, 4)), device=device)
    np.testing.assert_array_equal(host(back(x)), host(model(x)))
    assert all(type(p) is tl.nn.Parameter and p.requires_grad for p in back.parameters())
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in model.named_parameters()]
    back(x).sum().backward()  # trains like the original
    assert all(p.grad is not None for p in back.parameters())


def test_a_device_the_process_lacks_is_a_device_error():
    absent = next((d for d in ("cuda:0", "metal", "ane") if d.split(":")[0] not in tl.available_devices()), None)
    if absent is None:
        pytest.skip("every device is present")
    with pytest.raises(DeviceError, match="available"):
        rebuild_tensor(tl.Tensor, np.zeros(2, np.float16).tobytes(), "float16", (2,), absent, False)


def test_the_multiprocessing_pickler_still_shares_memory(rng):
    t = tl.tensor(f16_randn(rng, (4,)), device="cpu")
    plain, forked = pickle.loads(pickle.dumps(t)), ForkingPickler.loads(ForkingPickler.dumps(t))
    assert forked.is_shared() and not plain.is_shared()
    forked.fill_(1.0)  # the same memory as t (moved to shared memory by the pickler), unlike the plain copy
    assert t.tolist() == [1.0] * 4 and plain.tolist() != [1.0] * 4
