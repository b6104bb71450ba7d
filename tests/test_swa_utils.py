"""optim.swa_utils against PyTorch: AveragedModel's averaged parameters and buffers over several updates (each
averaging function, with and without use_buffers; PyTorch in float64 on the same f16-rounded weights), averages
whose steps are below half an f16 ulp (they must still move), SWALR's learning rates per step, and update_bn's
running statistics."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_to_largest, f16_randn, host


@pytest.fixture(autouse=True, scope="module")
def _torch_on_one_thread():
    """PyTorch's batch norm on two threads waits ~40 ms per call for a core this shared machine rarely has free."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


AVERAGING = {
    "default": lambda S: {},
    "ema multi": lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn(0.8)},
    "swa multi": lambda S: {"multi_avg_fn": S.get_swa_multi_avg_fn()},
    "ema avg_fn": lambda S: {"avg_fn": S.get_ema_avg_fn(0.7)},
    "swa avg_fn": lambda S: {"avg_fn": S.get_swa_avg_fn()},
}


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Tanh(), nn.Linear(3, 2))


def _load(model, state, lib):
    model.load_state_dict({k: torch.tensor(v.astype(np.float64) if v.dtype == np.float16 else v) if lib is torch
                           else v for k, v in state.items()})


def _fresh_weights(rng, model):
    return {k: (f16_randn(rng, tuple(v.shape)) if v.is_floating_point() else host(v)) for k, v in
            model.state_dict().items() if not k.endswith("running_var") and not k.endswith("num_batches_tracked")}


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("averaging", list(AVERAGING))
def test_averaged_model_like_torch(rng, device, averaging, use_buffers):
    """Five updates from a model whose weights change at random and whose batch norm sees a batch each time: the
    averaged parameters, the buffers (averaged or copied) and n_averaged follow PyTorch's."""
    theirs, ours = _model(torch).double(), _model(tl).to(device)
    averaged = {}
    for lib, model in ((torch, theirs), (tl, ours)):
        # PyTorch's own get_swa_multi_avg_fn fails on integer buffers (addcdiv); its default has the same formula
        form = "default" if (lib is torch and averaging == "swa multi" and use_buffers) else averaging
        averaged[lib] = lib.optim.swa_utils.AveragedModel(model, use_buffers=use_buffers,
                                                          **AVERAGING[form](lib.optim.swa_utils))
    assert list(averaged[tl].state_dict()) == list(averaged[torch].state_dict())
    for _ in range(5):
        weights = _fresh_weights(rng, ours)
        x = f16_randn(rng, (6, 4))
        for lib, model in ((torch, theirs), (tl, ours)):
            model.load_state_dict({k: (torch.tensor(v.astype(np.float64)) if lib is torch else tl.tensor(v, device=device))
                                   for k, v in weights.items()}, strict=False)
            model(torch.tensor(x.astype(np.float64)) if lib is torch else tl.tensor(x, device=device))
            averaged[lib].update_parameters(model)
    want = averaged[torch].state_dict()
    for key, value in averaged[tl].state_dict().items():
        if value.is_floating_point():
            assert_close_to_largest(value, want[key].numpy(), ulps=3)
        else:
            assert host(value).tolist() == want[key].tolist(), key
    x = f16_randn(rng, (2, 4))
    averaged[tl].eval(), averaged[torch].eval()
    assert_close_to_largest(averaged[tl](tl.tensor(x, device=device)),
                            averaged[torch](torch.tensor(x.astype(np.float64))).detach().numpy(), ulps=6)


@pytest.mark.parametrize("averaging", ["default", "ema multi"])
def test_steps_below_half_an_ulp_still_move(rng, averaging):
    """An EMA with decay 0.999 moves a thousandth of the way per update, and the 100th SWA update a hundredth: far
    below half an f16 ulp of the average. The averages follow the exact (float64) ones within an ulp."""
    model = tl.nn.Linear(8, 8)
    kwargs = {"multi_avg_fn": tl.optim.swa_utils.get_ema_multi_avg_fn(0.999)} if averaging == "ema multi" else {}
    swa = tl.optim.swa_utils.AveragedModel(model, **kwargs)
    start = host(model.weight).astype(np.float64)
    exact = start.copy()
    for n in range(120):
        value = f16_randn(rng, (8, 8)) * 0.1 + 1.0  # a small spread around 1, where the ulp is 2^-10
        with tl.no_grad():
            model.weight.copy_(tl.tensor(value.astype(np.float16)))
        swa.update_parameters(model)
        v = value.astype(np.float16).astype(np.float64)
        exact = v if n == 0 else (exact + (v - exact) / (n + 1) if averaging == "default" else
                                  exact + (v - exact) * (1 - 0.999))
    got = host(swa.module.weight).astype(np.float64)
    assert np.abs(got - exact).max() <= 2.0 ** -10, f"off by {np.abs(got - exact).max()} from the exact average"
    assert np.abs(got - exact).max() < np.abs(start - exact).max() / 4


def test_residuals_dropped_when_the_average_is_overwritten(rng):
    """load_state_dict writes the averages: the next update starts from the loaded values, not from the residuals
    kept for the values before."""
    model = tl.nn.Linear(3, 3)
    ema = tl.optim.swa_utils.AveragedModel(model, multi_avg_fn=tl.optim.swa_utils.get_ema_multi_avg_fn(0.999))
    for _ in range(5):
        with tl.no_grad():
            model.weight.copy_(tl.tensor(f16_randn(rng, (3, 3))))
        ema.update_parameters(model)
    state = {k: host(v) for k, v in ema.state_dict().items()}
    state["module.weight"] = host(model.weight)
    ema.load_state_dict(state)
    ema.update_parameters(model)  # the average already equals the model's weight: nothing moves
    np.testing.assert_array_equal(host(ema.module.weight), host(model.weight))


def test_state_dicts_load_both_ways(rng):
    theirs = torch.optim.swa_utils.AveragedModel(_model(torch), use_buffers=True)
    ours = tl.optim.swa_utils.AveragedModel(_model(tl), use_buffers=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: torch.tensor(host(v)) if v.is_floating_point() else torch.tensor(host(v))
                            for k, v in ours.state_dict().items()})
    assert int(ours.n_averaged.item()) == 0 and ours.n_averaged.dtype == tl.int64


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_like_torch(strategy, anneal_epochs):
    """After five epochs of cosine annealing, SWALR takes over (PyTorch's recipe); per group swa_lr; the
    scheduler's state_dict resumes a fresh one on the same sequence."""
    lrs = {}
    for lib in (torch, tl):
        params = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))]
        opt = lib.optim.SGD([{"params": params[:1], "lr": 0.5}, {"params": params[1:], "lr": 0.2}], momentum=0.9)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                                        anneal_strategy=strategy)
        seen = []
        for epoch in range(12):
            opt.step()
            if epoch < 5:
                cosine.step()
            else:
                swa.step()
            seen.append([g["lr"] for g in opt.param_groups])
            if epoch == 7:  # resume from the state_dict
                state = swa.state_dict()
                swa = lib.optim.swa_utils.SWALR(opt, swa_lr=1.0, anneal_strategy="linear" if strategy == "cos"
                                                else "cos")
                swa.load_state_dict(state)
                for group, lr, swa_lr in zip(opt.param_groups, seen[-1], [0.05, 0.01]):
                    group["lr"], group["swa_lr"] = lr, swa_lr
        lrs[lib] = seen
    assert np.ravel(lrs[tl]).tolist() == pytest.approx(np.ravel(lrs[torch]).tolist(), rel=1e-12)


def test_swalr_errors():
    opt = tl.optim.SGD([tl.nn.Parameter(tl.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="swa_lr must have the same length"):
        tl.optim.swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        tl.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        tl.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=1.5)
    with pytest.raises(ValueError, match="Invalid decay value"):
        tl.optim.swa_utils.get_ema_multi_avg_fn(-0.1)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        tl.optim.swa_utils.AveragedModel(tl.nn.Linear(1, 1), avg_fn=tl.optim.swa_utils.get_swa_avg_fn(),
                                         multi_avg_fn=tl.optim.swa_utils.get_swa_multi_avg_fn())


def _bn_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3, momentum=0.3), nn.Flatten(), nn.Linear(12, 4),
                         nn.BatchNorm1d(4))


def test_update_bn_like_torch(rng, device):
    """Statistics reset, then averaged over the loader's batches with equal weights; momenta and the model's mode
    restored; (input, target) items use the input."""
    theirs, ours = _bn_model(torch).double().eval(), _bn_model(tl).eval()
    state = {k: (f16_randn(rng, tuple(v.shape)) if v.is_floating_point() else host(v)) for k, v in
             ours.state_dict().items()}
    state["1.running_var"] = np.abs(state["1.running_var"])
    state["4.running_var"] = np.abs(state["4.running_var"])
    _load(theirs, state, torch), _load(ours, state, tl)
    ours.to(device)
    batches = [f16_randn(rng, (5, 2, 4, 4)) for _ in range(4)]
    torch.optim.swa_utils.update_bn([(torch.tensor(b.astype(np.float64)), 0) for b in batches], theirs)
    tl.optim.swa_utils.update_bn([(tl.tensor(b), 0) for b in batches], ours, device=device)
    want = theirs.state_dict()
    for key, value in ours.state_dict().items():
        if "running" in key:
            assert_close_to_largest(value, want[key].numpy(), ulps=4)
        elif "num_batches" in key:
            assert int(value.item()) == int(want[key].item()) == 4
    assert not ours.training and ours[1].momentum == 0.3 and ours[4].momentum == 0.1
    tl.optim.swa_utils.update_bn([], tl.nn.Linear(2, 2))  # no batch norm: nothing to do
