"""Adagrad, Adadelta, LBFGS, the added lr schedulers, clip_grad_value_ and Python-written optimizers
against torch.optim on the same parameters and gradients."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn, optim

from oracle import f16_randn, host


def _pair(rng, shape=(4, 3)):
    w = f16_randn(rng, shape)
    return torch.nn.Parameter(torch.tensor(w.astype(np.float32))), nn.Parameter(tl.tensor(w))


@pytest.mark.parametrize("name,kwargs", [
    ("Adagrad", {"lr": 0.1}), ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.1,
                                           "initial_accumulator_value": 0.2}),
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.05, "maximize": True})])
def test_host_optimizers_follow_torch(device, rng, name, kwargs):
    tp, lp = _pair(rng)
    lp = nn.Parameter(lp.to(device))
    topt, lopt = getattr(torch.optim, name)([tp], **kwargs), getattr(optim, name)([lp], **kwargs)
    for scale in (1.0, 1e-3, 1e-4, 0.5):  # small gradients: squares far below f16's range
        g = f16_randn(rng, tp.shape, scale)
        tp.grad = torch.tensor(g.astype(np.float32))
        lp.grad = tl.tensor(g, device=device)
        topt.step()
        lopt.step()
    np.testing.assert_allclose(host(lp).astype(np.float64), tp.detach().numpy(), rtol=2e-3, atol=2e-3)
    state = lopt.state_dict()
    fresh = getattr(optim, name)([lp], **kwargs)
    fresh.load_state_dict(state)
    assert fresh.state[lp]["step"] == 4


def test_lbfgs_matches_torch_on_least_squares(rng):
    a, b = f16_randn(rng, (8, 3)), f16_randn(rng, (8,))
    tw, lw = _pair(rng, (3,))
    ta, tb = torch.tensor(a.astype(np.float32)), torch.tensor(b.astype(np.float32))
    la, lb = tl.tensor(a), tl.tensor(b)
    topt, lopt = torch.optim.LBFGS([tw], lr=0.5, max_iter=6), optim.LBFGS([lw], lr=0.5, max_iter=6)

    def tclosure():
        topt.zero_grad()
        loss = ((ta @ tw - tb) ** 2).mean()
        loss.backward()
        return loss

    def lclosure():
        lopt.zero_grad()
        loss = ((la @ lw - lb) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        topt.step(tclosure)
        lopt.step(lclosure)
    np.testing.assert_allclose(host(lw).astype(np.float64), tw.detach().numpy(), rtol=2e-2, atol=2e-2)
    assert float(lclosure().item()) == pytest.approx(tclosure().item(), rel=5e-2, abs=1e-3)
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([lw], line_search_fn="strong_wolfe")


def _lrs(module, make, steps, metric=None):
    p = torch.nn.Parameter(torch.zeros(1)) if module is torch.optim else nn.Parameter(tl.zeros(1))
    opt = module.SGD([p], lr=0.1, momentum=0.9)
    sched = make(module.lr_scheduler, opt)
    out = []
    for i in range(steps):
        opt.step()
        sched.step(metric[i]) if metric is not None else sched.step()
        out.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
    return out


@pytest.mark.parametrize("make", [
    lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=4),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=12),
    lambda s, o: s.OneCycleLR(o, max_lr=0.5, epochs=3, steps_per_epoch=4, anneal_strategy="linear", three_phase=True),
], ids=["multistep", "warm_restarts_mult", "warm_restarts", "onecycle", "onecycle_three_phase"])
def test_schedulers_match_torch(make):
    want, got = _lrs(torch.optim, make, 11), _lrs(optim, make, 11)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-9, atol=1e-12)


def test_scheduler_state_dicts_are_plain_data(tmp_path):
    p = nn.Parameter(tl.zeros(1))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for sched in (optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10),
                  optim.lr_scheduler.ReduceLROnPlateau(opt), optim.lr_scheduler.MultiStepLR(opt, [2])):
        tl.save(sched.state_dict(), tmp_path / "s.safetensors")
        assert tl.load(tmp_path / "s.safetensors").keys() == sched.state_dict().keys()


def test_reduce_lr_on_plateau_matches_torch(rng):
    metric = list(np.repeat(rng.random(8), 3))
    for kwargs in ({"patience": 1}, {"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 1, "min_lr": 0.02},
                   {"threshold_mode": "abs", "threshold": 0.1, "patience": 0}):
        make = lambda s, o: s.ReduceLROnPlateau(o, **kwargs)  # noqa: E731
        np.testing.assert_allclose(np.array(_lrs(optim, make, 24, metric)),
                                   np.array(_lrs(torch.optim, make, 24, metric)), rtol=1e-9, atol=1e-12)


def test_clip_grad_value(device, rng):
    g = f16_randn(rng, (5, 4), 3.0)
    tp, lp = _pair(rng, (5, 4))
    lp = nn.Parameter(lp.to(device))
    tp.grad, lp.grad = torch.tensor(g.astype(np.float32)), tl.tensor(g, device=device)
    torch.nn.utils.clip_grad_value_([tp], 1.25)
    nn.utils.clip_grad_value_([lp], 1.25)
    np.testing.assert_array_equal(host(lp.grad).astype(np.float32), tp.grad.numpy())


def test_custom_optimizer_uses_state_defaultdict(device, rng):
    """The usual pattern of a hand-written optimizer: state = self.state[p], lazily filled."""

    def make(module):
        class MomentumSGD(module.optim.Optimizer):
            def __init__(self, params, lr=0.1, beta=0.9):
                super().__init__(params, dict(lr=lr, beta=beta))

            @module.no_grad()
            def step(self):
                for group in self.param_groups:
                    for p in group["params"]:
                        state = self.state[p]
                        if len(state) == 0:
                            state["buf"] = module.zeros_like(p)
                        state["buf"].mul_(group["beta"]).add_(p.grad)
                        p.add_(state["buf"], alpha=-group["lr"])

        return MomentumSGD

    tp, lp = _pair(rng)
    lp = nn.Parameter(lp.to(device))
    topt, lopt = make(torch)([tp]), make(tl)([lp])
    for _ in range(3):
        g = f16_randn(rng, tp.shape)
        tp.grad, lp.grad = torch.tensor(g.astype(np.float32)), tl.tensor(g, device=device)
        topt.step()
        lopt.step()
    np.testing.assert_allclose(host(lp).astype(np.float64), tp.detach().numpy(), rtol=1e-2, atol=1e-2)
    saved = lopt.state_dict()
    assert set(saved["state"][0]) == {"buf"}
    again = make(tl)([lp])
    again.load_state_dict(saved)
    np.testing.assert_array_equal(host(again.state[lp]["buf"]), host(lopt.state[lp]["buf"]))
