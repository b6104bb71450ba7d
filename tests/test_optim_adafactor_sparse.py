"""Adafactor against torch.optim.Adafactor on the same f16 parameters and gradients (matrices, a batch of them,
vectors, scalars; weight decay, maximize, clipping), its state names and checks; SparseAdam's checks and PyTorch's
error for dense gradients; a 0-d parameter under the host optimizers."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn, optim
from oracle import f16_randn, host

SHAPES = [(5, 4), (2, 3, 6), (7,), ()]


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.05, "weight_decay": 0.1}, {"maximize": True, "d": 2.0},
                                    {"eps": (1e-6, 1e-2), "beta2_decay": -0.5}])
def test_adafactor_follows_torch(device, rng, kwargs):
    init = [f16_randn(rng, s) for s in SHAPES]
    ours = [nn.Parameter(tl.tensor(a, device=device)) for a in init]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.astype(np.float32))) for a in init]
    lopt, topt = optim.Adafactor(ours, **kwargs), torch.optim.Adafactor(theirs, **kwargs)
    for step in range(6):
        for p, q, shape in zip(ours, theirs, SHAPES):
            g = f16_randn(rng, shape, 1e-3 if step == 2 else 1.0)
            p.grad, q.grad = tl.tensor(g, device=device), torch.from_numpy(g.astype(np.float32))
        lopt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(host(p).astype(np.float64), q.detach().numpy(), rtol=2e-3, atol=2e-3)
    for p, q in zip(ours, theirs):
        mine, torchs = lopt.state[p], topt.state[q]
        assert set(torchs) <= set(mine)
        for key in set(torchs) - {"step"}:
            np.testing.assert_allclose(mine[key], torchs[key].numpy(), rtol=2e-3, atol=1e-6)
    fresh = optim.Adafactor(ours, **kwargs)
    fresh.load_state_dict(lopt.state_dict())
    assert fresh.state[ours[0]]["step"] == 6


@pytest.mark.parametrize("kwargs", [{"lr": -1}, {"beta2_decay": 0.5}, {"eps": (-1, 1e-3)}, {"eps": (None, -1)},
                                    {"d": 0.5}, {"weight_decay": -0.1}])
def test_adafactor_arguments_are_checked(kwargs):
    with pytest.raises(ValueError):
        optim.Adafactor([nn.Parameter(tl.ones(2))], **kwargs)


def test_sparse_adam_refuses_dense_gradients_as_pytorch(device):
    p = nn.Parameter(tl.ones(3, device=device))
    opt = optim.SparseAdam([p], lr=0.1)
    opt.step()  # no gradient: nothing to do
    p.grad = tl.ones(3, device=device)
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        opt.step()
    assert p.tolist() == [1.0, 1.0, 1.0]
    for kwargs in ({"lr": -1}, {"eps": -1}, {"betas": (1.0, 0.9)}, {"betas": (0.9, -0.1)}):
        with pytest.raises(ValueError):
            optim.SparseAdam([p], **kwargs)


@pytest.mark.parametrize("name", ["Adamax", "Adafactor", "Rprop"])
def test_host_optimizers_update_a_scalar_parameter(device, name):
    p, q = nn.Parameter(tl.tensor(1.5, device=device)), torch.nn.Parameter(torch.tensor(1.5))
    ours, theirs = getattr(optim, name)([p]), getattr(torch.optim, name)([q])
    for _ in range(3):
        p.grad, q.grad = tl.tensor(0.75, device=device), torch.tensor(0.75)
        ours.step()
        theirs.step()
    assert p.shape == () and abs(p.item() - q.item()) < 2e-3
