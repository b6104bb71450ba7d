"""Module's lookups and state-dict options as PyTorch's (get_submodule, set_submodule, get_parameter, get_buffer,
remove_duplicate, load_state_dict(assign=True)), ModuleDict's update, and the _LRScheduler base that older warm-up
schedulers subclass: each side by side with torch on the same model."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import f16_randn, host


def _model(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Sequential(nn.Linear(4, 4), nn.Tanh()))
    model.head = nn.Linear(4, 4)
    model.head.weight = model[2][0].weight  # tied
    model.again = model[0]  # one module under two names
    return model


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 (the oracle's exception, whatever its type)
        return type(error).__name__, str(error)
    return None


def test_lookups_and_their_errors_match_torch():
    ours, theirs = _model(tl), _model(torch)
    for name in ("", "2", "2.0", "again"):
        assert type(ours.get_submodule(name)).__name__ == type(theirs.get_submodule(name)).__name__
    assert ours.get_parameter("2.0.weight") is ours.head.weight and ours.get_buffer("1.running_mean") is not None
    for call in (lambda m: m.get_submodule("7"), lambda m: m.get_submodule("0.weight"),
                 lambda m: m.get_parameter("0.nothing"), lambda m: m.get_parameter("1.running_mean"),
                 lambda m: m.get_buffer("0.weight"), lambda m: m.get_buffer("5.x"),
                 lambda m: m.set_submodule("0.x", m.get_submodule("2.1"), strict=True),
                 lambda m: m.set_submodule("0", 3)):
        assert _error(lambda: call(ours)) == _error(lambda: call(theirs))
    ours.set_submodule("2.1", tl.nn.ReLU())
    theirs.set_submodule("2.1", torch.nn.ReLU())
    # (PyTorch 2.13 prints BatchNorm's new bias flag, which earlier versions and ours do not have)
    assert repr(ours) == repr(theirs).replace("affine=True, bias=True", "affine=True")


def test_remove_duplicate_matches_torch():
    ours, theirs = _model(tl), _model(torch)
    for flag in (True, False):
        for method in ("named_parameters", "named_buffers", "named_modules"):
            names = [n for n, _ in getattr(ours, method)(remove_duplicate=flag)]
            assert names == [n for n, _ in getattr(theirs, method)(remove_duplicate=flag)], (method, flag)


def test_load_state_dict_assign_takes_the_tensors(rng):
    ours, theirs = _model(tl), _model(torch)
    state = {k: f16_randn(rng, tuple(v.shape)) if v.is_floating_point() else v.numpy()
             for k, v in theirs.state_dict().items()}
    mine = {k: tl.tensor(v, device="cpu") for k, v in state.items()}
    theirs[0].weight.requires_grad_(False)
    ours[0].weight.requires_grad_(False)
    got = ours.load_state_dict(mine, assign=True)
    want = theirs.load_state_dict({k: torch.from_numpy(v.astype(np.float32) if v.dtype == np.float16 else v)
                                   for k, v in state.items()}, assign=True)
    assert (got.missing_keys, got.unexpected_keys) == (want.missing_keys, want.unexpected_keys)
    assert ours[1].running_mean is mine["1.running_mean"]  # a buffer is the checkpoint's tensor itself
    for (name, p), (_, tp) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        # (a module or parameter under two names takes the value of the last one, as in PyTorch)
        np.testing.assert_array_equal(host(p).astype(np.float64), tp.numpy().astype(np.float64), err_msg=name)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert isinstance(p, tl.nn.Parameter) and p.requires_grad == tp.requires_grad, name
    x = f16_randn(rng, (5, 3))
    ours.eval(), theirs.eval()

    def run(model, x):  # (the Sequential's own forward would also run the extra children)
        return model.head(model[2](model[1](model[0](x))))

    np.testing.assert_allclose(host(run(ours, tl.tensor(x, device="cpu"))).astype(np.float32),
                               run(theirs, torch.from_numpy(x.astype(np.float32))).detach().numpy(), rtol=2e-2,
                               atol=2e-2)


def test_module_dict_update_and_pairs_as_torchs():
    made = []
    for lib in (tl, torch):
        d = lib.nn.ModuleDict([("a", lib.nn.ReLU()), ("b", lib.nn.Tanh())])
        d.update({"c": lib.nn.GELU(), "a": lib.nn.Identity()})
        d.update([("d", lib.nn.Sigmoid())])
        listed = list(d.keys()), [type(m).__name__ for m in d.values()]
        d.clear()
        made.append((listed, len(d)))
    assert made[0] == made[1]


@pytest.mark.parametrize("lib", [tl, torch], ids=["tl", "torch"])
def test_an_old_style_warmup_scheduler_subclass(lib):
    class WarmUp(lib.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, warmup, last_epoch=-1):
            self.warmup = warmup
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            return [base * min(1.0, (self.last_epoch + 1) / self.warmup) for base in self.base_lrs]

    p = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([p], lr=0.1)
    sched = WarmUp(opt, 4)
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(round(opt.param_groups[0]["lr"], 10))
    assert isinstance(sched, lib.optim.lr_scheduler.LRScheduler)
    assert lrs == [0.05, 0.075, 0.1, 0.1, 0.1, 0.1]
