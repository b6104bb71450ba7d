"""tl.amp.GradScaler against torch.amp.GradScaler on the CPU (float32, the same f16-rounded inputs): which steps are
skipped, the scale sequence, trajectories and step counts with injected infs and NaNs; its native pieces against
PyTorch's own kernels (_amp_update_scale_, _amp_foreach_non_finite_check_and_unscale_); its misuse errors as
PyTorch raises them; and on CUDA, a scaled step that never waits for the device."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16
from tensorlogic import _core

needs_cuda = pytest.mark.skipif(not tl.cuda.is_available(), reason="needs a CUDA device")

OPTIMIZERS = [
    (tl.optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    (tl.optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05)),  # no native kernel: the scaler reads its flag
]


def _inputs(rng, steps, shape=(6, 5)):
    """The start weight and one input per step, three of the steps with an inf or NaN (its gradient's too)."""
    start = rng.standard_normal(shape).astype(np.float16)
    xs = [(rng.standard_normal(shape) * 0.1).astype(np.float16) for _ in range(steps)]
    for i, bad in zip(rng.choice(steps, 3, replace=False), (np.inf, -np.inf, np.nan)):
        xs[i].flat[rng.integers(xs[i].size)] = bad
    return start, xs


def _torch_step(tp, topt, tscaler, x, unscale):
    topt.zero_grad()
    tscaler.scale((tp * torch.tensor(x.astype(np.float32))).sum()).backward()
    if unscale:
        tscaler.unscale_(topt)
        torch.nn.utils.clip_grad_norm_([tp], 1.0)
    tscaler.step(topt)
    tscaler.update()


def _tl_step(p, opt, scaler, x, unscale):
    opt.zero_grad()
    scaler.scale((p * tl.tensor(x, device=p.device)).sum()).backward()
    if unscale:
        scaler.unscale_(opt)
        tl.nn.utils.clip_grad_norm_([p], 1.0)
    scaler.step(opt)
    scaler.update()


def _step_count(state):
    step = state.get("step")
    return None if step is None else int(step)


@pytest.mark.parametrize("tl_cls,torch_cls,kwargs", OPTIMIZERS, ids=[c[0].__name__ for c in OPTIMIZERS])
def test_scaled_training_matches_torch(tl_cls, torch_cls, kwargs, device, rng):
    # growth_interval 2 and three bad steps in twelve: the scale both grows and backs off
    start, xs = _inputs(rng, 12)
    p = tl.tensor(start, device=device, requires_grad=True)
    opt, scaler = tl_cls([p], **kwargs), tl.amp.GradScaler(init_scale=256.0, growth_interval=2)
    tp = torch.tensor(start.astype(np.float32), requires_grad=True)
    topt, tscaler = torch_cls([tp], **kwargs), torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    for i, x in enumerate(xs):
        _tl_step(p, opt, scaler, x, unscale=False)
        _torch_step(tp, topt, tscaler, x, unscale=False)
        assert scaler.get_scale() == tscaler.get_scale(), i
        assert_close_f16(p, tp.detach().numpy(), atol=2e-3)
        want = _step_count(topt.state[tp])
        if want is not None:  # (torch's Adagrad makes its state, step 0, before any step; ours at the first)
            assert (_step_count(opt.state[p]) or 0) == want, i
    assert scaler.state_dict() == tscaler.state_dict()


def test_unscale_then_clip_matches_torch(device, rng):
    start, xs = _inputs(rng, 8)
    p = tl.tensor(start, device=device, requires_grad=True)
    opt, scaler = tl.optim.AdamW([p], lr=0.01), tl.amp.GradScaler(init_scale=1024.0, growth_interval=3)
    tp = torch.tensor(start.astype(np.float32), requires_grad=True)
    topt, tscaler = torch.optim.AdamW([tp], lr=0.01), torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=3)
    for x in xs:
        _tl_step(p, opt, scaler, x, unscale=True)
        _torch_step(tp, topt, tscaler, x, unscale=True)
        assert scaler.get_scale() == tscaler.get_scale()
        assert_close_f16(p, tp.detach().numpy(), atol=2e-3)
    assert int(opt.state[p]["step"]) == int(topt.state[tp]["step"])


def test_a_skipped_step_changes_nothing(device, rng):
    # parameters, moments, compensation and the step count keep their bits; the next clean step counts as one
    p = tl.tensor(rng.standard_normal(40).astype(np.float16), device=device, requires_grad=True)
    opt, scaler = tl.optim.AdamW([p], lr=0.01), tl.amp.GradScaler(init_scale=64.0)
    grads = [rng.standard_normal(40).astype(np.float16) for _ in range(3)]
    for g in grads[:2]:
        p.grad = tl.tensor(g, device=device)
        scaler.step(opt)
        scaler.update()
    before, weights = opt.state_dict()["state"][0], p.numpy().copy()
    grads[2][7] = np.nan
    p.grad = tl.tensor(grads[2], device=device)
    scaler.step(opt)
    scaler.update()
    after = opt.state_dict()["state"][0]
    np.testing.assert_array_equal(p.numpy().view(np.uint16), weights.view(np.uint16))
    assert after["step"] == before["step"] == 2
    for name in ("compensation", "exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(after[name].view(np.int32), before[name].view(np.int32))
    assert scaler.get_scale() == 32.0
    p.grad = tl.tensor(grads[0], device=device)
    scaler.step(opt)
    assert int(opt.state[p]["step"]) == 3


@pytest.mark.parametrize("growth,backoff,interval", [(2.0, 0.5, 3), (1.7, 0.3, 2), (2.0, 0.5, 1)])
def test_update_follows_torch_amp_update_scale(growth, backoff, interval, device, rng):
    # odd factors round the double product to float32 as PyTorch's kernel does; 2^127 * growth overflows and
    # the scale stays (PyTorch keeps a finite scale)
    for init in (float(rng.uniform(1, 5e4)), 2.0**127):
        ours = _core.LossScale(init, 0, device)
        scale, tracker = torch.tensor([init], dtype=torch.float32), torch.zeros(1, dtype=torch.int32)
        for found in rng.random(30) < 0.3:
            flag = _core.full([], float(found), "int32", device)
            _core.amp_update_scale(ours, flag, growth, backoff, interval)
            torch._amp_update_scale_(scale, tracker, torch.tensor([float(found)]), growth, backoff, interval)
            packed = _core.cat([_core.reshape(a, [1]) for a in (ours.scale, ours.inv_scale, ours.growth_tracker)], 0)
            words = np.asarray(_core.to_device(packed, "cpu"))
            assert words[0].view(np.float32) == scale.item() and words[2] == tracker.item()
            assert words[1].view(np.float32) == np.float32(1.0 / np.float64(scale.item()))
            with np.errstate(over="ignore"):  # 2^127 is inf in f16, as in scale_f16
                assert float(np.asarray(_core.to_device(ours.scale_f16, "cpu"))) == np.float16(scale.item())


def test_check_and_unscale_matches_torch(device, rng):
    # arrays of several sizes (a strided one among them) into one flag, scaled by a float32 word that is not a
    # power of two; integer arrays are skipped
    inv = np.float32(1 / 3)
    values = [(rng.standard_normal(n) * 100).astype(np.float16) for n in (1, 7, 4099, 40000)]
    for bad in (None, np.inf, np.nan):
        arrays = [v.copy() for v in values]
        if bad is not None:
            arrays[rng.integers(len(arrays))][-1] = bad
        mats = [tl.tensor(a, device=device) for a in arrays]
        strided = tl.tensor(values[2][:4096].reshape(64, 64), device=device).T
        found = _core.full([], 0.0, "int32", device)
        inv_word = _core.to_device(_core.from_numpy(np.array(inv).view(np.int32)), device)
        ints = tl.tensor(np.arange(5, dtype=np.int32), device=device)
        _core.amp_non_finite_check_and_unscale([m._a for m in mats] + [strided._a, ints._a], found, inv_word)
        want = [torch.tensor(a.astype(np.float32)) for a in arrays + [values[2][:4096].reshape(64, 64).T.copy()]]
        want_found = torch.zeros(1)
        torch._amp_foreach_non_finite_check_and_unscale_(want, want_found, torch.tensor(inv))
        assert int(np.asarray(_core.to_device(found, "cpu"))) == int(want_found.item())
        for got, ref in zip(mats + [strided], want):
            np.testing.assert_array_equal(got.numpy(), ref.numpy().astype(np.float16))
        np.testing.assert_array_equal(ints.numpy(), np.arange(5))


def test_misuse_raises_as_torch(device):
    p = tl.tensor(np.ones(3, np.float16), device=device, requires_grad=True)
    opt, scaler = tl.optim.SGD([p], lr=0.1), tl.amp.GradScaler()
    with pytest.raises(AssertionError, match="_scale is None"):
        scaler.update()
    with pytest.raises(AssertionError, match="No inf checks were recorded for this optimizer"):
        scaler.step(opt)  # no gradients
    p.grad = tl.tensor(np.ones(3, np.float16), device=device)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
        scaler.unscale_(opt)
    scaler.update(new_scale=tl.tensor([128.0]))
    assert scaler.get_scale() == 128.0
    fresh = tl.amp.GradScaler()
    fresh.set_growth_interval(7)
    fresh.set_backoff_factor(0.25)
    assert (fresh.get_growth_interval(), fresh.get_backoff_factor(), fresh.get_growth_factor()) == (7, 0.25, 2.0)
    fresh.load_state_dict(scaler.state_dict())
    assert fresh.state_dict() == scaler.state_dict()
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        scaler.update()


def test_hostile_settings_and_state_are_clear_errors(device):
    """Values of the wrong kind or range for the scaler's settings, state and arguments: typed errors naming them
    (they reached the native binding, whose message named its C++ types, or failed on a missing attribute), checked
    before anything changes; numbers of every kind, and iterables of outputs, as PyTorch takes them."""
    with pytest.raises(TypeError, match="growth_interval must be an int"):
        tl.amp.GradScaler(growth_interval=2.5)
    with pytest.raises(ValueError, match="growth_interval"):
        tl.amp.GradScaler(growth_interval=2 ** 70)
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        tl.amp.GradScaler(growth_factor=float("nan"))
    with pytest.raises(TypeError, match="init_scale must be a real number"):
        tl.amp.GradScaler(init_scale="8")
    scaler = tl.amp.GradScaler(init_scale=64.0)
    for setter, bad in ((scaler.set_growth_interval, "3"), (scaler.set_growth_factor, None)):
        with pytest.raises(TypeError):
            setter(bad)
    with pytest.raises(ValueError, match="backoff factor"):
        scaler.set_backoff_factor(2.0)
    good = scaler.state_dict()
    for key, bad, error in (("_growth_tracker", 2 ** 40, ValueError), ("_growth_tracker", float("nan"), TypeError),
                            ("growth_interval", "x", TypeError), ("scale", "x", TypeError)):
        with pytest.raises(error, match=key.lstrip("_")):
            scaler.load_state_dict({**good, key: bad})
    with pytest.raises(KeyError, match="growth_factor"):
        scaler.load_state_dict({"scale": 2.0})
    with pytest.raises(TypeError, match="expected a dict"):
        scaler.load_state_dict([1])
    assert scaler.state_dict() == good
    for bad in (None, 3.0):
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            scaler.scale(bad)
    outputs = [tl.tensor([1.5], device=device), tl.tensor([-2.0], device=device)]
    assert [o.tolist() for o in scaler.scale(iter(outputs))] == [[96.0], [-128.0]]
    with pytest.raises(TypeError, match="expected an optimizer"):
        scaler.step(object())
    with pytest.raises(TypeError, match="new_scale must be a real number"):
        scaler.update(new_scale="x")
    scaler.update(new_scale=np.int64(16))
    assert scaler.get_scale() == 16.0


def _scaled_run(device, starts, inputs):
    params = [tl.tensor(s, device=device, requires_grad=True) for s in starts]
    opt = tl.optim.AdamW(params, lr=0.01, weight_decay=0.1)
    scaler = tl.amp.GradScaler(init_scale=512.0, growth_interval=2)
    for xs in inputs:
        loss = sum((p * tl.tensor(x, device=device)).sum() for p, x in zip(params, xs))
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
    return params, opt, scaler


@needs_cuda
def test_cuda_scaled_steps_wait_for_nothing_and_give_the_cpu_bits(rng):
    # parameters that take several chunks, one with an odd size (unaligned 4-wide tails), stepped in one
    # multi-tensor launch; bad values in three of the ten steps
    runs = [_inputs(rng, 10, shape) for shape in [(3, 1000, 7), (5,), (4099,)]]
    for _, xs in runs[1:]:  # the bad steps are the first parameter's: seven of the ten steps update
        for x in xs:
            x[~np.isfinite(x)] = 0
    starts, inputs = [r[0] for r in runs], list(zip(*[r[1] for r in runs]))
    params, opt, scaler = _scaled_run("cpu", starts, inputs)
    before = _core.host_reads("cuda")
    ours, ours_opt, ours_scaler = _scaled_run("cuda", starts, inputs)
    assert _core.host_reads("cuda") == before
    for q, p in zip(ours, params):
        np.testing.assert_array_equal(q.numpy().view(np.uint16), p.numpy().view(np.uint16))
        assert int(ours_opt.state[q]["step"]) == int(opt.state[p]["step"])
    assert ours_scaler.state_dict() == scaler.state_dict()


def test_checkpoint_of_device_step_counts_resumes_exactly(device, rng):
    # state_dict reads the device counts back as ints; a loaded optimizer continues with the same bits
    start, xs = _inputs(rng, 9)
    p = tl.tensor(start, device=device, requires_grad=True)
    opt, scaler = tl.optim.Adam([p], lr=0.01), tl.amp.GradScaler(init_scale=256.0, growth_interval=2)
    for x in xs[:5]:
        _tl_step(p, opt, scaler, x, unscale=False)
    saved, saved_scaler = opt.state_dict(), scaler.state_dict()
    assert isinstance(saved["state"][0]["step"], int)
    q = tl.tensor(p.numpy(), device=device, requires_grad=True)
    resumed, resumed_scaler = tl.optim.Adam([q], lr=0.01), tl.amp.GradScaler()
    resumed.load_state_dict(saved)
    resumed_scaler.load_state_dict(saved_scaler)
    for x in xs[5:]:
        _tl_step(p, opt, scaler, x, unscale=False)
        _tl_step(q, resumed, resumed_scaler, x, unscale=False)
    np.testing.assert_array_equal(q.numpy().view(np.uint16), p.numpy().view(np.uint16))
    assert resumed.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    assert resumed_scaler.state_dict() == scaler.state_dict()


def test_an_empty_parameter_counts_its_steps(device):
    # as on the host path, where every parameter with a gradient counts the step; the skipped one counts for none
    empty, w = tl.zeros(0, device=device).requires_grad_(), tl.ones(3, device=device).requires_grad_()
    opt, scaler = tl.optim.AdamW([empty, w]), tl.amp.GradScaler()
    for value in (1.0, np.inf, 1.0):
        empty.grad, w.grad = tl.zeros(0, device=device), tl.tensor(np.full(3, value, np.float16), device=device)
        scaler.step(opt)
        scaler.update()
    assert int(opt.state[empty]["step"]) == int(opt.state[w]["step"]) == 2


def test_an_optimizer_written_in_python_sees_unscaled_gradients(device, rng):
    # as PyTorch's scaler does for optimizers it cannot drive: unscale_ in place, read the flag, step or skip
    class PlainSGD(tl.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            with tl.no_grad():
                for p in self.param_groups[0]["params"]:
                    p.sub_(p.grad * self.param_groups[0]["lr"])

    class TorchPlainSGD(torch.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

        @torch.no_grad()
        def step(self, closure=None):
            for p in self.param_groups[0]["params"]:
                p.sub_(p.grad * self.param_groups[0]["lr"])

    start, xs = _inputs(rng, 6)
    p = tl.tensor(start, device=device, requires_grad=True)
    opt, scaler = PlainSGD([p], lr=0.5), tl.amp.GradScaler(init_scale=256.0, growth_interval=2)
    tp = torch.tensor(start.astype(np.float32), requires_grad=True)
    topt, tscaler = TorchPlainSGD([tp], lr=0.5), torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    for x in xs:
        _tl_step(p, opt, scaler, x, unscale=False)
        _torch_step(tp, topt, tscaler, x, unscale=False)
        assert scaler.get_scale() == tscaler.get_scale()
        assert_close_f16(p, tp.detach().numpy(), atol=2e-3)
