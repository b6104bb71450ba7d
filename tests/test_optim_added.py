"""Adamax, NAdam, RAdam, ASGD, Rprop and the schedulers ConstantLR, MultiplicativeLR, PolynomialLR, CyclicLR,
SequentialLR and ChainedScheduler against torch.optim on the same parameters, gradients and steps."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn, optim
from oracle import f16_randn, host


def _pair(rng, device, shape=(4, 3)):
    w = f16_randn(rng, shape)
    return torch.nn.Parameter(torch.tensor(w.astype(np.float32))), nn.Parameter(tl.tensor(w, device=device))


@pytest.mark.parametrize("name,kwargs", [
    ("Adamax", {}), ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}), ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}), ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.05}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("ASGD", {}), ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1}),
    ("Rprop", {}), ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True})])
def test_optimizers_follow_torch(device, rng, name, kwargs):
    tp, lp = _pair(rng, device)
    topt, lopt = getattr(torch.optim, name)([tp], **kwargs), getattr(optim, name)([lp], **kwargs)
    signs = rng.choice([-1.0, 1.0], tp.shape)
    for step in range(8):  # small gradients too; Rprop: signs that hold and then flip
        g = f16_randn(rng, tp.shape, 1e-3 if step == 3 else 0.5)
        if name == "Rprop":
            g = (np.abs(g) * signs * (1 if step < 4 else -1)).astype(np.float16)
        tp.grad = torch.tensor(g.astype(np.float32))
        lp.grad = tl.tensor(g, device=device)
        topt.step()
        lopt.step()
        np.testing.assert_allclose(host(lp).astype(np.float64), tp.detach().numpy(), rtol=2e-3, atol=2e-3)
    theirs = topt.state_dict()["state"][0]
    ours = lopt.state_dict()["state"][0]
    assert set(theirs) <= set(ours)
    for key, value in theirs.items():
        np.testing.assert_allclose(np.asarray(host(ours[key]) if isinstance(ours[key], tl.Tensor) else ours[key],
                                              np.float64), np.asarray(value, np.float64), rtol=2e-3, atol=2e-3)
    fresh = getattr(optim, name)([lp], **kwargs)
    fresh.load_state_dict(lopt.state_dict())
    assert fresh.state[lp]["step"] == 8


@pytest.mark.parametrize("name,kwargs", [("Adamax", {"betas": (1.0, 0.9)}), ("NAdam", {"momentum_decay": -1}),
                                         ("RAdam", {"eps": -1}), ("Rprop", {"etas": (1.5, 1.2)}),
                                         ("Adamax", {"lr": -1})])
def test_optimizer_arguments_are_checked(device, rng, name, kwargs):
    _, lp = _pair(rng, device)
    with pytest.raises(ValueError):
        getattr(optim, name)([lp], **kwargs)


def _schedulers(lib, opt, name):
    s = lib.optim.lr_scheduler
    if name == "ConstantLR":
        return s.ConstantLR(opt, factor=0.5, total_iters=3)
    if name == "MultiplicativeLR":
        return s.MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.9 if epoch % 2 else 1.05)
    if name == "PolynomialLR":
        return s.PolynomialLR(opt, total_iters=6, power=2.0)
    if name == "CyclicLR":
        return s.CyclicLR(opt, 0.01, 0.1, step_size_up=3, step_size_down=2, mode="triangular2")
    if name == "CyclicLR_exp":
        return s.CyclicLR(opt, [0.01], [0.2], step_size_up=2, mode="exp_range", gamma=0.9, cycle_momentum=False)
    if name == "SequentialLR":
        return s.SequentialLR(opt, [s.LinearLR(opt, 0.2, total_iters=3), s.ExponentialLR(opt, 0.8),
                                    s.ConstantLR(opt, 0.5, total_iters=2)], milestones=[4, 7])
    if name == "ChainedScheduler":
        return s.ChainedScheduler([s.ConstantLR(opt, 0.5, total_iters=3), s.ExponentialLR(opt, 0.9)])
    raise KeyError(name)


@pytest.mark.parametrize("name", ["ConstantLR", "MultiplicativeLR", "PolynomialLR", "CyclicLR", "CyclicLR_exp",
                                  "SequentialLR", "ChainedScheduler"])
def test_schedulers_follow_torch(rng, name):
    tp, lp = _pair(rng, "cpu")
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    lopt = optim.SGD([lp], lr=0.1, momentum=0.9)
    tsched, lsched = _schedulers(torch, topt, name), _schedulers(tl, lopt, name)
    for _ in range(12):
        assert lsched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-9)
        assert lopt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-9)
        assert lopt.param_groups[0]["momentum"] == pytest.approx(topt.param_groups[0]["momentum"], rel=1e-9)
        topt.step()
        lopt.step()
        tsched.step()
        lsched.step()
    state = lsched.state_dict()
    assert "optimizer" not in state


def test_cyclic_lr_adam_beta1_and_errors(rng):
    tp, lp = _pair(rng, "cpu")
    topt, lopt = torch.optim.Adam([tp], lr=0.1), optim.Adam([lp], lr=0.1)
    ts = torch.optim.lr_scheduler.CyclicLR(topt, 0.001, 0.01, step_size_up=2)
    ls = optim.lr_scheduler.CyclicLR(lopt, 0.001, 0.01, step_size_up=2)
    tp.grad, lp.grad = torch.zeros_like(tp), tl.zeros_like(lp)
    for _ in range(5):
        topt.step()
        lopt.step()
        ts.step()
        ls.step()
        assert lopt.param_groups[0]["betas"][0] == pytest.approx(topt.param_groups[0]["betas"][0], rel=1e-9)
        assert lopt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-9)
    with pytest.raises(ValueError):
        optim.lr_scheduler.CyclicLR(lopt, 0.1, 1.0, mode="sawtooth")
    with pytest.raises(ValueError):
        optim.lr_scheduler.CyclicLR(optim.Adagrad([lp]), 0.1, 1.0)
    with pytest.raises(ValueError):
        optim.lr_scheduler.ConstantLR(lopt, factor=2.0)
    other = optim.SGD([lp], lr=0.1)
    with pytest.raises(ValueError):
        optim.lr_scheduler.SequentialLR(lopt, [optim.lr_scheduler.ExponentialLR(other, 0.9)], milestones=[])
