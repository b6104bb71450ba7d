"""nn.utils.prune against torch.nn.utils.prune on the same f16 weights (distinct magnitudes, so ties do not decide):
masks of single and repeated (container) pruning, global pruning, state_dict keys, forward values, gradients into
weight_orig, remove and is_pruned; the random methods prune the amounts asked for."""
import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import tensorlogic as tl
from oracle import assert_close_f16, host
from tensorlogic.nn.utils import prune


def _distinct(rng, shape, offset=0):
    """f16 values whose magnitudes all differ (and differ from another call's with another offset), and whose
    channels' L1 and L2 norms along every dim differ too: sums of eighths tie often (seed 1320256176 tied two
    columns' L1 norms, and which of them is kept is then up to topk's order)."""
    n = int(np.prod(shape))
    while True:
        mags = (rng.permutation(n) + 1 + offset) / 8.0
        values = (mags * rng.choice([-1.0, 1.0], n)).reshape(shape).astype(np.float16)
        channels = [np.moveaxis(values.astype(np.float64), d, 0).reshape(shape[d], -1) for d in range(len(shape))]
        norms = [np.linalg.norm(c, ord=p, axis=1) for c in channels for p in (1, 2)]
        if all(len(np.unique(v)) == len(v) for v in norms):
            return values


def _pair(rng, device, cls=(tl.nn.Linear, torch.nn.Linear), args=(6, 5), offset=0):
    ours, theirs = cls[0](*args), cls[1](*args).double()
    weights = {k: _distinct(rng, v.shape, offset + 100 * i) for i, (k, v) in enumerate(theirs.state_dict().items())}
    ours.load_state_dict({k: tl.tensor(v) for k, v in weights.items()})
    theirs.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in weights.items()})
    return ours.to(device), theirs


def _same_masks(ours, theirs, name="weight"):
    assert host(getattr(ours, name + "_mask")).tolist() == getattr(theirs, name + "_mask").tolist()


STEPS = [
    [("l1_unstructured", dict(amount=0.3))],
    [("l1_unstructured", dict(amount=7))],
    [("ln_structured", dict(amount=2, n=2, dim=0))],
    [("ln_structured", dict(amount=0.5, n=1, dim=1))],
    [("ln_structured", dict(amount=1, n=float("inf"), dim=-1))],
    [("l1_unstructured", dict(amount=0.2)), ("l1_unstructured", dict(amount=0.5))],
    [("l1_unstructured", dict(amount=6)), ("ln_structured", dict(amount=1, n=2, dim=0)),
     ("l1_unstructured", dict(amount=3))],
    [("ln_structured", dict(amount=1, n=2, dim=1)), ("ln_structured", dict(amount=2, n=1, dim=1))],
]


@pytest.mark.parametrize("steps", STEPS, ids=lambda s: "+".join(f"{n}{sorted(k.items())}" for n, k in s))
def test_pruning_masks_values_and_gradients_match_pytorch(device, rng, steps):
    ours, theirs = _pair(rng, device)
    for name, kwargs in steps:
        getattr(prune, name)(ours, "weight", **kwargs)
        getattr(tprune, name)(theirs, "weight", **kwargs)
        _same_masks(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert len(ours._forward_pre_hooks) == 1 and prune.is_pruned(ours)
    x = rng.standard_normal((3, 6)).astype(np.float16)
    out, want = ours(tl.tensor(x, device=device)), theirs(torch.from_numpy(x).double())
    assert_close_f16(out, want.detach().numpy())
    out.sum().backward()
    want.sum().backward()
    assert_close_f16(ours.weight_orig.grad, theirs.weight_orig.grad.numpy())
    prune.remove(ours, "weight")
    tprune.remove(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict()) and not prune.is_pruned(ours)
    assert isinstance(ours.weight, tl.nn.Parameter) and not ours._forward_pre_hooks
    assert_close_f16(ours.weight, theirs.weight.detach().numpy())


def test_importance_scores_custom_masks_and_global_pruning(device, rng):
    ours, theirs = _pair(rng, device)
    scores = _distinct(rng, (5, 6))
    prune.l1_unstructured(ours, "bias", amount=2, importance_scores=tl.tensor(scores[0, :5], device=device))
    tprune.l1_unstructured(theirs, "bias", amount=2, importance_scores=torch.from_numpy(scores[0, :5]).double())
    _same_masks(ours, theirs, "bias")
    mask = (rng.random((5, 6)) < 0.7).astype(np.float16)
    prune.custom_from_mask(ours, "weight", tl.tensor(mask, device=device))
    tprune.custom_from_mask(theirs, "weight", torch.from_numpy(mask).double())
    _same_masks(ours, theirs)
    conv_ours, conv_theirs = _pair(rng, device, (tl.nn.Conv2d, torch.nn.Conv2d), (2, 3, 3), offset=200)
    groups = [(ours, "weight"), (conv_ours, "weight"), (conv_ours, "bias")]
    theirs_groups = [(theirs, "weight"), (conv_theirs, "weight"), (conv_theirs, "bias")]
    prune.global_unstructured(groups, prune.L1Unstructured, amount=0.4)
    tprune.global_unstructured(theirs_groups, tprune.L1Unstructured, amount=0.4)
    for (m, name), (t, _) in zip(groups, theirs_groups):
        _same_masks(m, t, name)
    with pytest.raises(TypeError):
        prune.global_unstructured(groups, prune.LnStructured, amount=1, n=2, dim=0)


def test_random_methods_prune_what_they_are_asked(device):
    m = tl.nn.Conv2d(4, 6, 3).to(device)
    prune.random_unstructured(m, "weight", amount=0.25)
    assert int((m.weight_mask == 0).sum().item()) == round(0.25 * m.weight_orig.numel())
    prune.random_structured(m, "weight", amount=2, dim=0)
    dead = (m.weight_mask.reshape(6, -1).sum(1) == 0).sum().item()
    assert dead >= 2 and len(m._forward_pre_hooks[0].fn) == 2
    prune.identity(m, "bias")
    assert host(m.bias_mask).tolist() == [1.0] * 6
    assert tl.equal(m.weight, m.weight_orig * m.weight_mask)


def test_bad_pruning_arguments():
    m = tl.nn.Linear(3, 2)
    for amount, error in ((-1, ValueError), (1.5, ValueError), ("half", TypeError), (7, ValueError)):
        with pytest.raises(error):
            prune.l1_unstructured(m, "weight", amount=amount)
    assert "weight" in m._parameters and not prune.is_pruned(m)  # a refused pruning leaves the module as it was
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(m, "weight")
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ValueError):
        prune.l1_unstructured(m, "weight", amount=1, importance_scores=tl.ones(3))
