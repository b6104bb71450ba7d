"""Adagrad, Adadelta, LBFGS, the added lr schedulers and Python-written optimizers
against torch.optim on the same parameters and gradients; LBFGS where f16 losses cannot show its progress."""
import numpy as np
import pytest
import torch
from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

import tensorlogic as tl
from tensorlogic import nn, optim
from tensorlogic.optim.line_search import strong_wolfe

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
        optim.LBFGS([lw], line_search_fn="backtracking")


def test_strong_wolfe_search_matches_torch(rng):
    """The line search alone, in float64 on random smooth convex problems: the same accepted step, loss and
    number of evaluations as torch.optim.lbfgs._strong_wolfe (PyTorch's own, private, as the oracle)."""
    for _ in range(50):
        a = rng.standard_normal((5, 5))
        q, c, k = a @ a.T + 0.1 * np.eye(5), rng.standard_normal(5), rng.uniform(0, 1)
        f = lambda x: 0.5 * x @ q @ x - c @ x + k * np.sum(x ** 4)  # noqa: E731
        grad = lambda x: q @ x - c + 4 * k * x ** 3  # noqa: E731
        x0, t = rng.standard_normal(5), rng.uniform(0.01, 5)
        d = -grad(x0) * rng.uniform(0.1, 3)
        want = torch_strong_wolfe(
            lambda x, s, d: (float(f((x + s * d).numpy())), torch.tensor(grad((x + s * d).numpy()))),
            torch.tensor(x0), t, torch.tensor(d), float(f(x0)), torch.tensor(grad(x0)), float(grad(x0) @ d))
        got = strong_wolfe(lambda s: (float(f(x0 + s * d)), grad(x0 + s * d)), t, d, float(f(x0)), grad(x0),
                           float(grad(x0) @ d))
        assert got[2] == pytest.approx(float(want[2]), rel=1e-12) and got[3] == want[3]
        assert got[0] == pytest.approx(float(want[0]), rel=1e-12)


def test_lbfgs_strong_wolfe_follows_torch(device, rng):
    """A least-squares fit with a quartic term. The first step (one line search per iteration) follows
    PyTorch's loss; at the end both sit at the minimum as far as f16 losses can tell: the f64 loss at our
    parameters is within two f16 ulps of PyTorch's (beyond that the line search's sufficient-decrease test
    compares f16 losses that no longer change, so it stops there; the parameters can then differ by
    ~sqrt(ulp / curvature), a few 1e-2)."""
    a, b = f16_randn(rng, (24, 3)), f16_randn(rng, (24,))
    tw, lw = _pair(rng, (3,))
    lw = nn.Parameter(lw.to(device))
    ta, tb = torch.tensor(a.astype(np.float32)), torch.tensor(b.astype(np.float32))
    la, lb = tl.tensor(a, device=device), tl.tensor(b, device=device)
    topt = torch.optim.LBFGS([tw], max_iter=10, line_search_fn="strong_wolfe")
    lopt = optim.LBFGS([lw], max_iter=10, line_search_fn="strong_wolfe")

    def closure(opt, x, y, w):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean() + 0.1 * (w ** 4).sum()
        loss.backward()
        return loss

    def f64_loss(w):
        w = np.asarray(w, dtype=np.float64)
        return ((a.astype(np.float64) @ w - b) ** 2).mean() + 0.1 * (w ** 4).sum()

    first_t, first_l = topt.step(lambda: closure(topt, ta, tb, tw)), lopt.step(lambda: closure(lopt, la, lb, lw))
    assert float(first_l.item()) == pytest.approx(first_t.item(), rel=2e-3)
    for _ in range(2):
        topt.step(lambda: closure(topt, ta, tb, tw))
        lopt.step(lambda: closure(lopt, la, lb, lw))
    ours, theirs = f64_loss(host(lw)), f64_loss(tw.detach().numpy())
    assert abs(ours - theirs) <= 2 * 2.0 ** -10 * theirs, (ours, theirs)
    assert lopt.state[lw]["n_iter"] >= 3 and lopt.state[lw]["func_evals"] > lopt.state[lw]["n_iter"]


@pytest.mark.parametrize("overflow", ["inf", "nan"])
def test_lbfgs_strong_wolfe_steps_back_from_an_f16_overflow(device, rng, overflow):
    """A trial step whose loss overflows f16 (inf, or NaN where infinities cancel: PyTorch's float32 loss is only
    large there) is a step too long: the search shrinks it, as PyTorch's does from its large loss, where the cubic
    through inf gave NaN steps, and a NaN loss was taken for the lower end of the bracket; both ended in NaN
    weights. Both end at the minimum."""
    start = float(rng.uniform(0.5, 0.8))
    tw, lw = torch.tensor([start], requires_grad=True), nn.Parameter(tl.tensor([start], device=device))
    results = []
    for lib, w in ((torch, tw), (tl, lw)):
        opt = lib.optim.LBFGS([w], lr=10, max_iter=20, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            square = (w * 300) ** 2  # past |w| = 0.85 the square overflows f16
            loss = square.sum() / 1000 + ((square - square).sum() if overflow == "nan" else 0)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append(float(w.detach().cpu().numpy()[0]))
    assert all(np.isfinite(results)) and abs(results[1]) <= 2e-3 and abs(results[0]) <= 2e-3, (start, results)



def test_lbfgs_goes_on_where_the_f16_losses_are_equal(device, rng):
    """64 + 0.01 |w - target|^2 from |w - target| ~ 1: every loss along the way is 64.0 or 64.06 in f16 (spacing
    0.0625 there), so sufficient decrease cannot be read from the losses, nor convergence from their change; PyTorch's
    float32 ones show both. Ours judges them by the slopes (Hager and Zhang's approximate Wolfe condition, the change
    the slopes predict) and reaches the target as PyTorch does; it stood still at its start before."""
    target = f16_randn(rng, (8,))
    start = (target + f16_randn(rng, (8,))).astype(np.float16)
    reached = []
    for lib, device_ in ((torch, "cpu"), (tl, device)):
        w = lib.nn.Parameter(lib.tensor(start.astype(np.float32), device=device_))
        goal = lib.tensor(target.astype(np.float32), device=device_)
        opt = lib.optim.LBFGS([w], max_iter=20, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = 64 + 0.01 * ((w - goal) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        reached.append(np.abs(w.detach().cpu().numpy().astype(np.float64) - target).max())
    assert reached[0] <= 1e-3 and reached[1] <= 1e-2, reached


def test_strong_wolfe_on_losses_known_to_a_resolution(rng):
    """The search given losses rounded to a grid of spacing r (as f16 rounds them) and resolution=r: on random
    convex problems whose decreases along the first steps are below r, it accepts a step whose exact loss is below
    the start's, every time over 200 such problems (without the resolution it returned the start, t = 0, in 146)."""
    moved = 0
    for _ in range(50):
        a = rng.standard_normal((5, 5))
        q, c = a @ a.T + 0.1 * np.eye(5), rng.standard_normal(5)
        f = lambda x: 0.5 * x @ q @ x - c @ x  # noqa: E731
        grad = lambda x: q @ x - c  # noqa: E731
        x0 = rng.standard_normal(5)
        d = -grad(x0)
        t = 1e-3 / float(np.abs(d).sum())
        r = 4 * abs(float(grad(x0) @ d)) * t  # coarser than the first trial's decrease
        rounded = lambda x: float(np.round(f(x) / r) * r)  # noqa: E731
        loss, _, step, _ = strong_wolfe(lambda s: (rounded(x0 + s * d), grad(x0 + s * d)), t, d, rounded(x0),
                                        grad(x0), float(grad(x0) @ d), resolution=r)
        assert f(x0 + step * d) <= f(x0) and np.isfinite(loss)
        moved += step > 0
    assert moved == 50


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
