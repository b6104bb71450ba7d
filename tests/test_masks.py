"""Masks as PyTorch takes them: masked_fill, masked_fill_, masked_select, masked_scatter, masked_scatter_ and where
refuse a mask or condition that is not bool, with PyTorch's RuntimeError (an integer mask used to index instead);
masked_scatter and masked_scatter_ against PyTorch (broadcasting, in place, gradients, errors)."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_equal, f16_randn

_CALLS = {
    "masked_fill": lambda lib, x, m: x.masked_fill(m, 0.5),
    "masked_fill_": lambda lib, x, m: x.clone().masked_fill_(m, 0.5),
    "masked_select": lambda lib, x, m: lib.masked_select(x, m),
    "masked_scatter": lambda lib, x, m: x.masked_scatter(m, x),
    "masked_scatter_": lambda lib, x, m: x.clone().masked_scatter_(m, x),
    "where": lambda lib, x, m: lib.where(m, x, 0.0),
    "Tensor.where": lambda lib, x, m: x.where(m, 0.0),
}


@pytest.mark.parametrize("call", list(_CALLS))
@pytest.mark.parametrize("dtype", ["int32", "int64", "float16"])
def test_a_mask_that_is_not_bool_is_refused_as_in_torch(device, rng, call, dtype):
    x = f16_randn(rng, (3, 4))
    mask = (rng.uniform(size=(3, 4)) > 0.5).astype(np.float16)
    with pytest.raises(RuntimeError) as want:
        _CALLS[call](torch, torch.from_numpy(x), torch.from_numpy(mask).to(getattr(torch, dtype)))
    with pytest.raises(RuntimeError, match="bool|Bool") as got:
        _CALLS[call](tl, tl.tensor(x, device=device), tl.tensor(mask, device=device).to(dtype))
    assert type(got.value) is type(want.value) is RuntimeError
    got = _CALLS[call](tl, tl.tensor(x, device=device), tl.tensor(mask > 0, device=device))  # bool: as torch's
    assert_equal(got, _CALLS[call](torch, torch.from_numpy(x), torch.from_numpy(mask > 0)).numpy())


@pytest.mark.parametrize("x_shape,mask_shape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (2, 4)), ((2, 1, 3), (4, 1)),
                                                ((0, 3), (3,)), ((), ())])
def test_masked_scatter_matches_torch(device, rng, x_shape, mask_shape):
    x, mask = f16_randn(rng, x_shape), rng.uniform(size=mask_shape) > 0.4
    n = int(np.broadcast_to(mask, np.broadcast_shapes(x_shape, mask_shape)).sum())
    source = f16_randn(rng, (n + int(rng.integers(1, 3)),))  # (an empty source: see the errors test)
    lx = tl.tensor(x, device=device, requires_grad=True)
    ls = tl.tensor(source, device=device, requires_grad=True)
    tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(source, requires_grad=True)
    got, want = lx.masked_scatter(tl.tensor(mask, device=device), ls), tx.masked_scatter(torch.tensor(mask), ts)
    assert_equal(got, want.detach().numpy())
    g = f16_randn(rng, tuple(want.shape))
    got.backward(tl.tensor(g, device=device))
    want.backward(torch.tensor(g))
    assert_equal(lx.grad, tx.grad.numpy())  # gradients move values: exact
    assert_equal(ls.grad, ts.grad.numpy())
    assert_equal(tl.masked_scatter(tl.tensor(x, device=device), tl.tensor(mask, device=device), ls.detach()),
                 torch.masked_scatter(torch.tensor(x), torch.tensor(mask), ts.detach()).numpy())


def test_masked_scatter_in_place(device, rng):
    x, mask, source = f16_randn(rng, (3, 5)), rng.uniform(size=(5,)) > 0.5, f16_randn(rng, (4, 4))
    t, ref = tl.tensor(x, device=device), torch.tensor(x)
    version = t._version
    assert t.masked_scatter_(tl.tensor(mask, device=device), tl.tensor(source, device=device)) is t
    ref.masked_scatter_(torch.tensor(mask), torch.tensor(source))
    assert_equal(t, ref.numpy())
    assert t._version > version
    leaf = tl.tensor(x, device=device, requires_grad=True)  # under autograd: recorded on the previous value
    y = leaf * 1.0
    y.masked_scatter_(tl.tensor(mask, device=device), tl.tensor(source, device=device))
    y.sum().backward()
    assert_equal(leaf.grad, np.broadcast_to(~mask, x.shape).astype(np.float16))
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.masked_scatter_(tl.tensor(mask, device=device), tl.tensor(source, device=device))


def test_masked_scatter_and_masked_fill_errors(device, rng):
    x = f16_randn(rng, (3, 4))
    mask = np.zeros((3, 4), bool)
    mask[0] = True
    for lib, dev in ((torch, "cpu"), (tl, device)):
        t, m = lib.tensor(x, device=dev), lib.tensor(mask, device=dev)
        if dev == "cpu":
            with pytest.raises(RuntimeError, match="Number of elements of source"):
                t.masked_scatter(m, lib.zeros(3, dtype=lib.float16, device=dev))
        else:  # counting the mask would make the host wait: the gather's range error comes at the next read
            with pytest.raises(IndexError, match="out of bounds"):
                t.masked_scatter(m, lib.zeros(3, dtype=lib.float16, device=dev))
                tl.cuda.synchronize()
        with pytest.raises(RuntimeError, match="Number of elements of source"):
            t.masked_scatter(m, lib.zeros(0, dtype=lib.float16, device=dev))
        with pytest.raises(RuntimeError, match="same dtype"):
            t.masked_scatter(m, lib.zeros(12, dtype=lib.int64, device=dev))
        with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
            t.masked_fill(m, lib.zeros(2, dtype=lib.float16, device=dev))
        with pytest.raises(TypeError):
            t.masked_fill(mask, 1.0)  # a numpy mask: not a tensor
        with pytest.raises(RuntimeError if lib is torch else tl.ShapeMismatchError):  # a mask wider than self
            lib.tensor(x[0], device=dev).masked_scatter_(m, lib.zeros(12, dtype=lib.float16, device=dev))
        empty = lib.zeros(0, dtype=lib.float16, device=dev)
        assert t.masked_scatter(lib.zeros(3, 4, dtype=lib.bool, device=dev), empty).tolist() == x.tolist()
