"""The count distributions (Poisson, Binomial, Geometric, NegativeBinomial, Multinomial) and the one-hot categorical
ones against torch.distributions in float64 on the same f16 parameters: log_prob, entropy, mean, mode, variance and
gradients; draws against the CDF summed from PyTorch's pmf by the DKW bound (it holds for discrete distributions
too: stat_checks, a false failure 1e-7 per comparison)."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, host
from stat_checks import assert_pmf

D, TD = tl.distributions, torch.distributions


def _f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


_CASES = {  # name: (parameters(rng), values(rng) in the support)
    "Poisson": (lambda r: {"rate": r.uniform(0.5, 8, 4)}, lambda r: r.integers(0, 12, (3, 4))),
    "Binomial": (lambda r: {"total_count": r.integers(1, 20, 4), "probs": r.uniform(0.05, 0.95, 4)},
                 lambda r: r.integers(0, 1000, (3, 4))),  # reduced modulo total_count + 1 below
    "Binomial_logits": (lambda r: {"total_count": np.full(4, 12), "logits": r.uniform(-3, 3, 4)},
                        lambda r: r.integers(0, 13, (3, 4))),
    "Geometric": (lambda r: {"probs": r.uniform(0.1, 0.9, 4)}, lambda r: r.integers(0, 10, (3, 4))),
    "NegativeBinomial": (lambda r: {"total_count": r.uniform(0.5, 6, 4), "logits": r.uniform(-2, 1.5, 4)},
                         lambda r: r.integers(0, 15, (3, 4))),
}


@pytest.mark.parametrize("case", list(_CASES))
def test_values_and_gradients_against_torch(device, rng, case):
    name = case.split("_")[0]
    params, values = _CASES[case]
    p = {k: _f16(v) for k, v in params(rng).items()}
    value = values(rng).astype(np.float64)
    if name == "Binomial":
        value = value % (p["total_count"].astype(np.int64) + 1)
    grads = [k for k in p if k != "total_count" or name == "NegativeBinomial"]
    ours_p = {k: tl.tensor(v, device=device, requires_grad=k in grads) for k, v in p.items()}
    theirs_p = {k: torch.tensor(v.astype(np.float64), requires_grad=k in grads) for k, v in p.items()}
    ours, theirs = getattr(D, name)(**ours_p), getattr(TD, name)(**theirs_p)
    v = _f16(value)
    lp, ref = ours.log_prob(tl.tensor(v, device=device)), theirs.log_prob(torch.tensor(v.astype(np.float64)))
    with torch.no_grad():  # the lgamma terms of the normalisers cancel: f16 rounds each to 2^-11 of its size
        n = theirs_p.get("total_count", torch.zeros(()))
        scale = float((torch.lgamma(n + torch.tensor(value) + 1).abs() + ref.abs()).max()) + 1
    assert_close_f16(lp, ref.detach().numpy(), atol=16 * 2 ** -11 * scale)
    for stat in ("mean", "variance"):
        assert_close_f16(getattr(ours, stat), getattr(theirs, stat).detach().numpy(), rtol=4e-3, atol=4e-3)
    # modes are floors: equal, or one apart where f16's rounding of the floored value crosses an integer
    mode, expected = host(ours.mode).astype(np.float64), theirs.mode.detach().numpy()
    with torch.no_grad():
        floored = {"Poisson": lambda: theirs.rate, "Geometric": lambda: torch.zeros(4, dtype=torch.float64),
                   "Binomial": lambda: (theirs.total_count + 1) * theirs.probs,
                   "NegativeBinomial": lambda: (theirs.total_count - 1) * theirs.logits.exp()}[name]().numpy()
    near = np.abs(floored - np.round(floored)) <= 4e-3 * np.abs(floored) + 1e-3
    assert ((mode == expected) | (near & (np.abs(mode - expected) == 1))).all(), (mode, expected)
    total = lp.sum()
    if case in ("Binomial_logits", "Geometric"):  # (Binomial's entropy needs one total_count across the batch)
        ent, ref_ent = ours.entropy(), theirs.entropy()
        assert_close_f16(ent, ref_ent.detach().numpy(), atol=16 * 2 ** -11 * scale)
        total = total + ent.sum()
        ref = ref.sum() + ref_ent.sum()
    total.backward()
    ref.sum().backward()
    for key in grads:
        assert_close_f16(ours_p[key].grad, theirs_p[key].grad.numpy(), rtol=2e-2, atol=64 * 2 ** -11 * scale)


@pytest.mark.parametrize("name,params", [("Poisson", {"rate": 3.5}), ("Poisson", {"rate": 40.0}),
                                         ("Binomial", {"total_count": 30.0, "probs": 0.3}),
                                         ("Geometric", {"probs": 0.25}),
                                         ("NegativeBinomial", {"total_count": 2.5, "probs": 0.6})])
def test_draws_follow_their_pmf(device, name, params):
    n = 3000
    ours = getattr(D, name)(**{k: tl.tensor(v, device=device) for k, v in params.items()})
    theirs = getattr(TD, name)(**{k: torch.tensor(np.float16(v).astype(np.float64)) for k, v in params.items()},
                               validate_args=False)  # (its pmf is read over 0..199, beyond a Binomial's support)
    draws = host(ours.sample((n, 1)))
    assert draws.shape == (n, 1) and (draws >= 0).all() and (draws % 1 == 0).all()
    support = torch.arange(0, 200, dtype=torch.float64)
    assert_pmf(draws, theirs.log_prob(support).exp().numpy(), name)


def test_multinomial_against_torch(device, rng):
    # probs of at least 0.02: f16's clamp of probs to [2^-10, 1 - 2^-10] (PyTorch's clamp_probs in f16) moves the
    # log of smaller ones by more than rounding
    probs = rng.dirichlet(np.ones(4) * 3, 3) + 0.02
    probs = _f16(probs / probs.sum(-1, keepdims=True))
    ours_p = tl.tensor(probs, device=device, requires_grad=True)
    theirs_p = torch.tensor(probs.astype(np.float64), requires_grad=True)
    ours, theirs = D.Multinomial(6, probs=ours_p), TD.Multinomial(6, probs=theirs_p)
    assert ours.batch_shape == (3,) and ours.event_shape == (4,)
    value = _f16(rng.multinomial(6, np.ones(4) / 4, 3))
    lp, ref = ours.log_prob(tl.tensor(value, device=device)), theirs.log_prob(torch.tensor(value.astype(np.float64)))
    with torch.no_grad():  # terms: the counts' lgammas and count * log(probs)
        v64 = torch.tensor(value.astype(np.float64))
        scale = float((torch.lgamma(v64 + 1).sum(-1) + (v64 * theirs.logits.abs()).sum(-1)).max()) + 8
    assert_close_f16(lp, ref.detach().numpy(), atol=16 * 2 ** -11 * scale)
    assert_close_f16(ours.entropy(), theirs.entropy().detach().numpy(), atol=16 * 2 ** -11 * scale)
    assert_close_f16(ours.mean, theirs.mean.detach().numpy())
    assert_close_f16(ours.variance, theirs.variance.detach().numpy())
    lp.sum().backward()
    ref.sum().backward()
    assert_close_f16(ours_p.grad, theirs_p.grad.numpy(), rtol=2e-2, atol=0.05)
    draws = host(D.Multinomial(10, probs=tl.tensor([0.2, 0.3, 0.5], device=device)).sample((3000,)))
    assert draws.shape == (3000, 3) and (draws.sum(-1) == 10).all()
    marginal = TD.Binomial(10, torch.tensor(np.float16(0.2).astype(np.float64)))
    assert_pmf(draws[:, 0], marginal.log_prob(torch.arange(0, 11.0, dtype=torch.float64)).exp().numpy(),
                  "Multinomial's first count")


def test_one_hot_categorical_against_torch(device, rng):
    logits = _f16(rng.standard_normal((2, 5)))
    ours_l = tl.tensor(logits, device=device, requires_grad=True)
    theirs_l = torch.tensor(logits.astype(np.float64), requires_grad=True)
    ours, theirs = D.OneHotCategorical(logits=ours_l), TD.OneHotCategorical(logits=theirs_l)
    assert ours.batch_shape == (2,) and ours.event_shape == (5,)
    value = np.eye(5, dtype=np.float16)[rng.integers(0, 5, (3, 2))]
    lp = ours.log_prob(tl.tensor(value, device=device))
    ref = theirs.log_prob(torch.tensor(value.astype(np.float64)))
    # logits - logsumexp(logits): within 4 ulps of the logits' size
    atol = 4 * 2 ** -11 * (np.abs(logits).max() + 2)
    assert_close_f16(lp, ref.detach().numpy(), atol=atol)
    assert_close_f16(ours.entropy(), theirs.entropy().detach().numpy(), atol=atol)
    for stat in ("mean", "variance"):
        assert_close_f16(getattr(ours, stat), getattr(theirs, stat).detach().numpy())
    # the mode marks a most probable category (f16's probabilities may tie where PyTorch's differ)
    mode, probs = host(ours.mode), host(ours.probs)
    assert (mode.sum(-1) == 1).all() and ((mode * probs).sum(-1) == probs.max(-1)).all()
    np.testing.assert_array_equal(host(ours.enumerate_support()), theirs.enumerate_support().numpy())
    lp.sum().backward()
    ref.sum().backward()
    assert_close_f16(ours_l.grad, theirs_l.grad.numpy(), atol=atol)
    draws = host(ours.sample((3000,)))
    assert draws.shape == (3000, 2, 5) and (draws.sum(-1) == 1).all()
    assert_pmf(draws[:, 0].argmax(-1), theirs.probs[0].detach().numpy(), "OneHotCategorical")


def test_straight_through_gradient(device):
    """The straight-through draw is one-hot, and its gradient is probs' (PyTorch's)."""
    logits = tl.tensor([0.5, -1.0, 2.0], device=device, requires_grad=True)
    theirs_logits = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    draw = D.OneHotCategoricalStraightThrough(logits=logits).rsample((4,))
    assert draw.shape == (4, 3) and (host(draw.detach()).sum(-1) == 1).all()
    weights = [1.0, 2.0, 3.0]
    (draw * tl.tensor(weights, device=device)).sum().backward()
    probs = torch.softmax(theirs_logits, -1)
    (4 * probs * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    assert_close_f16(logits.grad, theirs_logits.grad.numpy())


def test_argument_errors():
    with pytest.raises(ValueError, match="rate"):
        D.Poisson(tl.tensor([-1.0]), validate_args=True)
    with pytest.raises(ValueError, match="total_count"):
        D.Binomial(tl.tensor([2.5]), probs=0.5, validate_args=True)
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Geometric()
    with pytest.raises(ValueError, match="support"):
        D.Poisson(2.0, validate_args=True).log_prob(tl.tensor([1.5]))
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        D.Multinomial(tl.tensor(3.0), probs=tl.ones(3))
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(tl.tensor([2.0, 3.0]), probs=0.5).enumerate_support()
    # without validate_args, parameters numpy's samplers refuse draw NaN (not an error from numpy)
    assert np.isnan(host(D.Poisson(tl.tensor([-1.0]), validate_args=False).sample())).all()
    assert np.isnan(host(D.Binomial(tl.tensor([2.5]), probs=0.5, validate_args=False).sample())).all()
