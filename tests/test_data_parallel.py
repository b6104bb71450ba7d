"""nn.DataParallel's scatter, replicate and gather, run here with the CPU standing in for each of several devices
(tests/gpu/test_multi_gpu.py runs it on two GPUs): outputs and gradients as the wrapped module's own and PyTorch's
on the same weights, PyTorch's state_dict keys, inputs and outputs of every structure, and PyTorch's errors."""
from collections import namedtuple

import numpy as np
import pytest
import torch

import tensorlogic as tl
from _torch_modules import copy_weights
from oracle import assert_close_f16, f16_randn, host

Pair = namedtuple("Pair", ["logits", "hidden"])


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Linear(6, 8)
            self.body = lib.nn.Sequential(lib.nn.LayerNorm(8), lib.nn.GELU(), lib.nn.Linear(8, 8))
            self.head = lib.nn.Linear(8, 8, bias=False)
            self.head.weight = self.body[2].weight  # tied: one parameter in two places

        def forward(self, x, scale=1.0, extra=None):
            h = self.body(self.embed(x)) * scale
            if extra is not None:
                h = h + extra["shift"]
            return Pair(self.head(h), {"mean": h.mean(), "h": h})

    return Net()


def test_without_devices_it_is_the_module(rng):
    model = _net(tl).to("cpu")  # (the default device is a GPU where one exists)
    wrapped = tl.nn.DataParallel(model, device_ids=[])
    assert wrapped.module is model and wrapped.device_ids == []
    if not torch.cuda.is_available():  # (PyTorch's DataParallel takes device_ids=[] only where it sees no GPU)
        theirs = torch.nn.DataParallel(_net(torch), device_ids=[])
        assert theirs.device_ids == [] and list(wrapped.state_dict()) == list(theirs.state_dict())
    assert list(wrapped.state_dict()) == ["module." + k for k in model.state_dict()]
    x = tl.tensor(f16_randn(rng, (3, 6)), device="cpu")
    np.testing.assert_array_equal(host(wrapped(x).logits), host(model(x).logits))
    if tl.cuda.device_count() == 0:
        assert tl.nn.DataParallel(model).device_ids == []


@pytest.mark.parametrize("n_devices,batch", [(3, 8), (4, 2), (2, 5)])
def test_split_over_devices_matches_torch(rng, n_devices, batch):
    theirs = _net(torch)
    ours = copy_weights(theirs, _net(tl), "cpu")
    wrapped = tl.nn.DataParallel(ours, device_ids=["cpu"] * n_devices)
    x, shift = f16_randn(rng, (batch, 6)), f16_randn(rng, (batch, 8))  # (kwargs tensors are split too)
    lx = tl.tensor(x, device="cpu", requires_grad=True)
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="scalars"):
        got = wrapped(lx, scale=0.5, extra={"shift": tl.tensor(shift, device="cpu")})
    want = theirs(tx, scale=0.5, extra={"shift": torch.tensor(shift.astype(np.float32))})
    assert type(got) is Pair and got.logits.shape == tuple(want.logits.shape)
    assert got.hidden["mean"].shape == (min(n_devices, batch),)  # one 0-d mean per replica, stacked
    assert_close_f16(got.logits, want.logits.detach().numpy(), rtol=1e-2, atol=1e-2)
    (got.logits.square().sum() + got.hidden["h"].sum()).backward()
    (want.logits.square().sum() + want.hidden["h"].sum()).backward()
    assert_close_f16(lx.grad, tx.grad.numpy(), rtol=2e-2, atol=2e-2)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        scale = float(tp.grad.abs().max()) + 1e-3
        assert np.abs(host(p.grad).astype(np.float64) - tp.grad.numpy()).max() <= 2e-2 * scale, name


def test_the_module_must_live_on_the_first_device():
    wrapped = tl.nn.DataParallel(tl.nn.Linear(2, 2).to("cpu"), device_ids=[0, 1])
    assert wrapped.device_ids == ["cuda:0", "cuda:1"] and wrapped.output_device == "cuda:0"
    if tl.cuda.device_count() == 0:
        with pytest.raises(RuntimeError, match=r"parameters and buffers on device cuda:0.*cpu"):
            wrapped(tl.zeros(2, 2, device="cpu"))
    with pytest.raises(TypeError, match="nn.Module"):
        tl.nn.DataParallel(lambda x: x)


def test_data_parallel_function(rng):
    model = tl.nn.Linear(4, 3).to("cpu")
    x = tl.tensor(f16_randn(rng, (6, 4)), device="cpu")
    got = tl.nn.parallel.data_parallel(model, x, device_ids=["cpu", "cpu"])
    assert_close_f16(got, host(model(x)), rtol=2e-3, atol=2e-3)
