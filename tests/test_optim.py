"""Optimizers, schedulers and GradScaler against torch.optim (float32, same f16 start) to f16 tolerance."""
import functools

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16

STEPS = 20


def _param(values, device):
    return tl.Tensor(values.astype(np.float16), device=device).requires_grad_()


def _grad(values, device):
    return tl.Tensor(values.astype(np.float16), device=device)


def _run(tl_cls, torch_cls, kwargs, device, rng, grad_scale=1.0, steps=STEPS, torch_kwargs=None):
    start = rng.standard_normal((7, 5)).astype(np.float16)
    grads = [(rng.standard_normal((7, 5)) * grad_scale).astype(np.float16) for _ in range(steps)]
    p = _param(start, device)
    opt = tl_cls([p], **kwargs)
    tp = torch.tensor(start.astype(np.float32), requires_grad=True)
    topt = torch_cls([tp], **(torch_kwargs if torch_kwargs is not None else kwargs))
    for g in grads:
        p.grad = _grad(g, device)
        opt.step()
        tp.grad = torch.tensor(g.astype(np.float32))
        topt.step()
    return p.numpy().astype(np.float32), tp.detach().numpy(), opt


# f16 tolerance: the parameter is stored in f16 (half an ulp) and the trajectory differs by f32 rounding.
_close = functools.partial(assert_close_f16, atol=2e-3)


CASES = [
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05)),
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    (tl.optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    (tl.optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, centered=True, maximize=True)),
    # PyTorch's choices of implementation (ours is one fused kernel whichever is asked for): accepted, same results
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, foreach=True, differentiable=False)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=0.01, foreach=False, capturable=False)),
    (tl.optim.AdamW, torch.optim.AdamW, dict(lr=0.01, fused=True)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.9, foreach=True)),
]


@pytest.mark.parametrize("tl_cls,torch_cls,kwargs", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_trajectory_matches_torch(tl_cls, torch_cls, kwargs, device, rng):
    ours, ref, _ = _run(tl_cls, torch_cls, kwargs, device, rng)
    _close(ours, ref)


@pytest.mark.parametrize("tl_cls,torch_cls", [(tl.optim.Adam, torch.optim.Adam), (tl.optim.AdamW, torch.optim.AdamW),
                                              (tl.optim.RMSprop, torch.optim.RMSprop)])
def test_tiny_gradients_with_default_eps_follow_torch(tl_cls, torch_cls, device, rng):
    # Gradients of 1e-4 square to 1e-8, below f16's range: the f32 state keeps them, so eps=1e-8 does not dominate.
    ours, ref, _ = _run(tl_cls, torch_cls, dict(lr=1e-3), device, rng, grad_scale=1e-4)
    _close(ours, ref)


class _TorchLion(torch.optim.Optimizer):
    """Lion's Algorithm 2 in float32 torch (torch.optim has no Lion)."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                g = -p.grad if group["maximize"] else p.grad
                m = self.state[p].setdefault("exp_avg", torch.zeros_like(p))
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(torch.sign(m * b1 + g * (1 - b1)), alpha=-group["lr"])
                m.mul_(b2).add_(g, alpha=1 - b2)


@pytest.mark.parametrize("kwargs", [dict(lr=1e-2), dict(lr=3e-3, betas=(0.5, 0.9), weight_decay=0.1, maximize=True)])
def test_lion_matches_reference(kwargs, device, rng):
    ours, ref, _ = _run(tl.optim.Lion, _TorchLion, kwargs, device, rng)
    _close(ours, ref)


def test_small_updates_are_not_lost(device):
    # 1.0 has an f16 ulp of ~1e-3: each update of 1e-4 rounds away alone, but the compensation keeps them.
    p = _param(np.ones(8), device)
    opt = tl.optim.SGD([p], lr=1e-4)
    for _ in range(100):
        p.grad = _grad(np.ones(8), device)
        opt.step()
    np.testing.assert_allclose(p.numpy().astype(np.float64), 1.0 - 100 * 1e-4, atol=5e-4)
    assert (p.numpy() < 1.0).all()


def test_state_dict_resume_gives_same_trajectory(device, rng):
    start = rng.standard_normal((4, 3)).astype(np.float16)
    grads = [rng.standard_normal((4, 3)).astype(np.float16) for _ in range(10)]

    def make(values):
        p = _param(values, device)
        return p, tl.optim.Adam([p], lr=0.01, amsgrad=True)

    p, opt = make(start)
    for g in grads[:5]:
        p.grad = _grad(g, device)
        opt.step()
    saved_param, saved_state = p.numpy().copy(), opt.state_dict()
    for g in grads[5:]:
        p.grad = _grad(g, device)
        opt.step()
    q, opt2 = make(saved_param)
    opt2.load_state_dict(saved_state)
    for g in grads[5:]:
        q.grad = _grad(g, device)
        opt2.step()
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert saved_state["state"][0]["step"] == 5
    assert set(saved_state["state"][0]) == {"step", "compensation", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}


def test_param_groups_and_zero_grad(device):
    a, b = _param(np.ones(3), device), _param(np.ones(2), device)
    opt = tl.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    c = _param(np.ones(1), device)
    opt.add_param_group({"params": [c], "momentum": 0.9})
    assert opt.param_groups[2]["momentum"] == 0.9 and opt.param_groups[2]["lr"] == 0.1
    for t in (a, b, c):
        t.grad = _grad(np.ones(t.shape), device)
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9, rtol=1e-3)
    np.testing.assert_allclose(b.numpy(), 0.5, rtol=1e-3)
    opt.zero_grad(set_to_none=False)
    assert (a.grad.numpy() == 0).all()
    opt.zero_grad()
    assert a.grad is None and c.grad is None
    with pytest.raises(ValueError):
        opt.add_param_group({"params": [a]})


@pytest.mark.parametrize("make", [
    lambda p: tl.optim.SGD([p], lr=-1.0),
    lambda p: tl.optim.SGD([p], lr=0.1, nesterov=True),
    lambda p: tl.optim.Adam([p], betas=(1.0, 0.9)),
    lambda p: tl.optim.Adam([p], eps=-1.0),
    lambda p: tl.optim.RMSprop([p], momentum=-0.5),
    lambda p: tl.optim.Lion([p], betas=(0.9, 1.5)),
    lambda p: tl.optim.AdamW([], lr=0.1),
])
def test_bad_options_raise_value_error(make, device):
    p = _param(np.ones(2), device)
    with pytest.raises(ValueError):
        make(p)


def test_bad_param_types(device):
    with pytest.raises(TypeError):
        tl.optim.SGD(_param(np.ones(2), device))
    with pytest.raises(TypeError):
        tl.optim.SGD([np.ones(2)])


def test_native_step_checks_state(device):
    p = _param(np.ones(3), device)
    p.grad = _grad(np.ones(3), device)
    p.data = _param(np.ones(4), device)  # .data may change the shape (the .grad setter refuses other shapes)
    opt = tl.optim.SGD([p], lr=0.1)
    before = p.numpy().copy()
    with pytest.raises(tl.ShapeMismatchError):
        opt.step()
    np.testing.assert_array_equal(p.numpy(), before)


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.25, total_iters=6)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e))),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_scheduler_lr_sequence_matches_torch(name, kwargs):
    p = _param(np.ones(2), "cpu")
    opt = tl.optim.SGD([p], lr=0.1)
    sched = getattr(tl.optim.lr_scheduler, name)(opt, **kwargs)
    tp = torch.zeros(2, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    ours, ref = [], []
    for _ in range(25):
        ours.append(opt.param_groups[0]["lr"])
        ref.append(topt.param_groups[0]["lr"])
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())


def test_grad_scaler_skips_nonfinite_and_backs_off(device):
    p = _param(np.ones(3), device)
    opt = tl.optim.SGD([p], lr=0.1)
    scaler = tl.amp.GradScaler(init_scale=1024.0, growth_interval=2)
    p.grad = _grad(np.array([1.0, np.inf, 1.0]), device)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(p.numpy(), 1.0)
    assert scaler.get_scale() == 512.0
    for _ in range(2):
        p.grad = _grad(np.full(3, 512.0), device)  # a scaled gradient of 1
        scaler.step(opt)
        scaler.update()
    np.testing.assert_allclose(p.numpy(), 0.8, rtol=1e-3)
    assert scaler.get_scale() == 1024.0


def test_grad_scaler_end_to_end_matches_unscaled_training(device, rng):
    # Scaled backward + unscaling inside the fused kernel: the same trajectory as plain training, with a scale
    # large enough that 1e-6-sized gradients would flush to zero in f16 without it.
    x = tl.tensor((rng.standard_normal((8, 4)) * 1e-3).astype(np.float16), device=device)
    start = rng.standard_normal((3, 4)).astype(np.float16)
    w_scaled, w_plain = _param(start, device), _param(start, device)
    opt_scaled = tl.optim.SGD([w_scaled], lr=100.0)
    opt_plain = tl.optim.SGD([w_plain], lr=100.0)
    scaler = tl.amp.GradScaler(init_scale=1024.0)
    for _ in range(3):
        opt_scaled.zero_grad()
        scaler.scale((x @ w_scaled.T).sum() * 1e-3).backward()
        scaler.step(opt_scaled)
        scaler.update()
        opt_plain.zero_grad()
        (x @ w_plain.T).sum().backward()
        with tl.no_grad():
            w_plain.grad = w_plain.grad * 1e-3
        opt_plain.step()
    np.testing.assert_allclose(w_scaled.numpy(), w_plain.numpy(), rtol=2e-3, atol=2e-3)
    assert scaler.get_scale() == 1024.0


def test_grad_scaler_keeps_cross_entropy_gradients_over_many_tokens(device, rng):
    # (softmax - one_hot) / N is ~2e-8 here for every non-target class (12,288 classes, 4,096 tokens): f16 rounds
    # it to zero, so without scaling the bias gradient is far from PyTorch's; the scaler's 2**15 (its default)
    # keeps it whole.
    n, classes = 4096, 12288
    scores = (rng.standard_normal((n, classes), dtype=np.float32) * 0.3).astype(np.float16)
    targets = rng.integers(0, classes, n)
    tb = torch.zeros(classes, requires_grad=True)
    torch.nn.functional.cross_entropy(torch.tensor(scores, dtype=torch.float32) + tb, torch.tensor(targets)).backward()
    want = tb.grad.numpy().astype(np.float64)

    def bias_grad(scaler):
        b = _param(np.zeros(classes), device)
        loss = tl.nn.functional.cross_entropy(tl.tensor(scores, device=device) + b, tl.tensor(targets, device=device))
        scaler.scale(loss).backward()
        return b.grad.numpy().astype(np.float64) / scaler.get_scale()

    def error(got):
        return np.linalg.norm(got - want) / np.linalg.norm(want)

    assert tl.amp.GradScaler().get_scale() == 2.0**15
    assert error(bias_grad(tl.amp.GradScaler(enabled=False))) > 0.2
    assert error(bias_grad(tl.amp.GradScaler())) < 5e-3


def test_step_with_closure(device):
    p = _param(np.array([3.0]), device)
    opt = tl.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(p.numpy(), 3.0 - 0.1 * 6.0, rtol=1e-3)


@pytest.mark.parametrize("make", [lambda lib, ps: lib.optim.Adam(ps, lr=0.01, amsgrad=True),
                                  lambda lib, ps: lib.optim.SGD(ps, lr=0.05, momentum=0.9),
                                  lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01, centered=True)])
def test_a_torch_optimizer_state_dict_loads_and_resumes(device, rng, make):
    # torch.optim's state has the same keys but no compensation: it loads (the weights taken as exact) and the
    # next steps follow torch's from the same state
    start = rng.standard_normal((4, 3)).astype(np.float16)
    grads = [rng.standard_normal((4, 3)).astype(np.float16) for _ in range(6)]
    tp = torch.nn.Parameter(torch.tensor(start.astype(np.float32)))
    topt = make(torch, [tp])
    for g in grads[:3]:
        tp.grad = torch.tensor(g.astype(np.float32))
        topt.step()
    saved = topt.state_dict()
    p = _param(tp.detach().numpy().astype(np.float16), device)
    opt = make(tl, [p])
    opt.load_state_dict(saved)
    ours = opt.state_dict()["state"][0]
    assert ours["step"] == int(saved["state"][0].get("step", 1)) and not ours["compensation"].any()
    for name, value in saved["state"][0].items():
        if name != "step":
            np.testing.assert_array_equal(ours[name], value.numpy())
    for g in grads[3:]:
        tp.grad, p.grad = torch.tensor(g.astype(np.float32)), _grad(g, device)
        topt.step()
        opt.step()
    np.testing.assert_allclose(p.numpy().astype(np.float32), tp.detach().numpy(), rtol=2e-3, atol=2e-3)
