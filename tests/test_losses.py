"""Every loss of issue 11, as a function and as a module, against torch on the same f16 inputs: values for
each reduction and the gradient with respect to the input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from tensorlogic import nn

from oracle import assert_matches_torch, f16_randn, f16_uniform, host


def _inputs(rng, name, shape):
    x = f16_randn(rng, shape)
    if name == "binary_cross_entropy":
        return f16_uniform(rng, shape, 0.02, 0.98), f16_uniform(rng, shape, 0.0, 1.0)
    if name == "binary_cross_entropy_with_logits":
        return x * 3, (rng.random(shape) > 0.5).astype(np.float16)
    if name == "kl_div":
        logp = torch.log_softmax(torch.tensor(x.astype(np.float32)), -1).numpy().astype(np.float16)
        q = torch.softmax(torch.tensor(f16_randn(rng, shape).astype(np.float32)), -1).numpy().astype(np.float16)
        q[..., 0] = 0  # target 0 contributes 0
        return logp, q
    return x, f16_randn(rng, shape)


FUNCTIONS = {
    "l1_loss": {}, "mse_loss": {}, "smooth_l1_loss": {"beta": 0.5}, "huber_loss": {"delta": 0.7},
    "binary_cross_entropy": {}, "binary_cross_entropy_with_logits": {}, "kl_div": {},
}


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_loss_function_matches_torch(device, rng, name, reduction):
    x, y = _inputs(rng, name, (6, 5))
    kwargs = dict(FUNCTIONS[name], reduction=reduction)
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    lx = tl.tensor(x, device=device, requires_grad=True)
    want = getattr(TF, name)(tx, torch.tensor(y.astype(np.float32)), **kwargs)
    got = getattr(F, name)(lx, tl.tensor(y, device=device), **kwargs)
    assert_matches_torch(got, want, lx, tx, rng, device, (1e-2, 2e-3), (2e-2, 2e-3))


def test_weights_pos_weight_batchmean_and_log_target(device, rng):
    x, y = _inputs(rng, "binary_cross_entropy_with_logits", (4, 3))
    pw, w = f16_uniform(rng, (3,), 0.5, 3.0), f16_uniform(rng, (4, 3), 0.1, 1.0)
    t = [torch.tensor(a.astype(np.float32)) for a in (x, y, pw, w)]
    l_ = [tl.tensor(a, device=device) for a in (x, y, pw, w)]
    np.testing.assert_allclose(host(nn.BCEWithLogitsLoss(weight=l_[3], pos_weight=l_[2])(l_[0], l_[1])),
                               torch.nn.BCEWithLogitsLoss(weight=t[3], pos_weight=t[2])(t[0], t[1]).item(), rtol=1e-2)
    p, q = _inputs(rng, "kl_div", (4, 6))
    for log_target in (False, True):
        target = np.log(q.astype(np.float32) + 1e-3).astype(np.float16) if log_target else q
        want = TF.kl_div(torch.tensor(p.astype(np.float32)), torch.tensor(target.astype(np.float32)),
                         reduction="batchmean", log_target=log_target)
        got = F.kl_div(tl.tensor(p, device=device), tl.tensor(target, device=device), reduction="batchmean",
                       log_target=log_target)
        np.testing.assert_allclose(float(got.item()), want.item(), rtol=1e-2, atol=1e-3)


MODULES = {
    "L1Loss": ("l1_loss", {}), "MSELoss": ("mse_loss", {}), "SmoothL1Loss": ("smooth_l1_loss", {"beta": 2.0}),
    "HuberLoss": ("huber_loss", {"delta": 0.5}), "BCELoss": ("binary_cross_entropy", {}),
    "BCEWithLogitsLoss": ("binary_cross_entropy_with_logits", {}), "KLDivLoss": ("kl_div", {}),
}


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("name", sorted(MODULES))
def test_loss_module_matches_torch(device, rng, name):
    fn, kwargs = MODULES[name]
    x, y = _inputs(rng, fn, (3, 4))
    for reduction in ("mean", "sum", "none"):
        want = getattr(torch.nn, name)(reduction=reduction, **kwargs)(torch.tensor(x.astype(np.float32)),
                                                                      torch.tensor(y.astype(np.float32)))
        got = getattr(nn, name)(reduction=reduction, **kwargs)(tl.tensor(x, device=device), tl.tensor(y, device=device))
        np.testing.assert_allclose(host(got).astype(np.float64), want.numpy(), rtol=1e-2, atol=2e-3)
    legacy = getattr(nn, name)(size_average=False) if name != "HuberLoss" else None
    assert legacy is None or legacy.reduction == "sum"


def test_class_losses_as_modules(device, rng):
    logits, target = f16_randn(rng, (5, 4)), rng.integers(0, 4, 5)
    weight = f16_uniform(rng, (4,), 0.2, 2.0)
    tw, lw = torch.tensor(weight.astype(np.float32)), tl.tensor(weight, device=device)
    tt, lt = torch.tensor(target), tl.tensor(target.astype(np.int32), device=device)
    tx, lx = torch.tensor(logits.astype(np.float32)), tl.tensor(logits, device=device)
    pairs = [(torch.nn.CrossEntropyLoss(weight=tw, label_smoothing=0.1), nn.CrossEntropyLoss(weight=lw, label_smoothing=0.1)),
             (torch.nn.CrossEntropyLoss(ignore_index=1, reduction="sum"), nn.CrossEntropyLoss(ignore_index=1, reduction="sum")),
             (torch.nn.NLLLoss(weight=tw), nn.NLLLoss(weight=lw))]
    for tmod, lmod in pairs:
        np.testing.assert_allclose(float(lmod(lx, lt).item()), tmod(tx, tt).item(), rtol=1e-2, atol=1e-3)
    assert set(nn.CrossEntropyLoss(weight=lw).state_dict()) == set(torch.nn.CrossEntropyLoss(weight=tw).state_dict())
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="avg")(lx, lx)


def test_binary_cross_entropy_gradient_at_saturated_probabilities(rng):
    """A sigmoid output rounded to exactly 0 or 1 in f16 gives a finite gradient (the composed form gave NaN and
    stopped a VAE's training); elsewhere the gradient is PyTorch's."""
    p = np.concatenate([[0.0, 1.0, 1.0], rng.uniform(0.01, 0.99, 29)]).astype(np.float16)
    t = rng.uniform(0, 1, 32).astype(np.float16)
    ours = tl.tensor(p, requires_grad=True)
    tl.nn.functional.binary_cross_entropy(ours, tl.tensor(t), reduction="sum").backward()
    assert np.isfinite(ours.grad.numpy()).all()
    theirs = torch.tensor(p[3:].astype(np.float64), requires_grad=True)
    torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(t[3:].astype(np.float64)), reduction="sum").backward()
    np.testing.assert_allclose(ours.grad.numpy()[3:].astype(np.float64), theirs.grad.numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.filterwarnings("ignore:size_average")
@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy"])
def test_the_legacy_reduction_pair_decides(device, rng, name, legacy):
    """The deprecated size_average/reduce pair of the functional losses, which older programs pass (the spatial
    transformer tutorial's test loss is F.nll_loss(output, target, size_average=False)): nll_loss and cross_entropy
    took the mean whatever it said."""
    if name in ("nll_loss", "cross_entropy"):
        x, y = f16_randn(rng, (5, 4)), rng.integers(0, 4, 5)
        if name == "nll_loss":
            x = torch.log_softmax(torch.tensor(x.astype(np.float32)), 1).numpy().astype(np.float16)
        tx, ty = torch.tensor(x.astype(np.float32)), torch.tensor(y)
        lx, ly = tl.tensor(x, device=device), tl.tensor(y, device=device)
    else:
        x, y = _inputs(rng, name, (3, 4))
        tx, ty, lx, ly = (torch.tensor(x.astype(np.float32)), torch.tensor(y.astype(np.float32)),
                          tl.tensor(x, device=device), tl.tensor(y, device=device))
    want = getattr(TF, name)(tx, ty, **legacy)
    got = getattr(F, name)(lx, ly, **legacy)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(host(got).astype(np.float64), want.numpy(), rtol=1e-2, atol=2e-3)
