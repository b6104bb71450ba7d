"""tl.distributions' Bernoulli, Uniform, Exponential, Laplace, Gamma, Beta and Independent against
torch.distributions in float64 on the same f16-rounded parameters: log_prob, entropy, mean, variance, cdf/icdf and
their gradients, KL divergences, rsample's gradients, sample moments on every device, argument errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest, host

D, TD = tl.distributions, torch.distributions


def _params(name, rng):
    """{parameter: f16 array} (broadcast against each other) and an f16 array of values in the support."""
    u = rng.uniform
    if name == "bernoulli_probs":
        return {"probs": u(0.05, 0.95, (3, 4))}, rng.integers(0, 2, (2, 3, 4)).astype(np.float64)
    if name == "bernoulli_logits":
        return {"logits": rng.standard_normal((3, 4)) * 2}, rng.integers(0, 2, (3, 4)).astype(np.float64)
    if name == "uniform":
        return {"low": u(-2, -1, (3, 1)), "high": u(0.5, 2, 4)}, u(-1, 0.5, (2, 3, 4))
    if name == "exponential":
        return {"rate": u(0.5, 3, (3, 4))}, u(0, 3, (3, 4))
    if name == "laplace":
        return {"loc": rng.standard_normal((3, 1)), "scale": u(0.5, 2, 4)}, rng.standard_normal((3, 4))
    if name == "gamma":
        return {"concentration": u(0.5, 5, (3, 4)), "rate": u(0.5, 3, 4)}, u(0.1, 4, (3, 4))
    return {"concentration1": u(0.5, 4, (3, 4)), "concentration0": u(0.5, 4, 4)}, u(0.05, 0.95, (3, 4))


_CLASSES = {"bernoulli_probs": "Bernoulli", "bernoulli_logits": "Bernoulli", "uniform": "Uniform",
            "exponential": "Exponential", "laplace": "Laplace", "gamma": "Gamma", "beta": "Beta"}


def _pair(name, device, rng):
    """The same distribution (f16-rounded parameters) in TensorLogic on device and in torch in float64, with the
    parameter tensors of both (requiring grad) and a value in the support of each."""
    params, value = _params(name, rng)
    params = {k: v.astype(np.float16) for k, v in params.items()}
    ours_p = {k: tl.tensor(v, device=device, requires_grad=True) for k, v in params.items()}
    theirs_p = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in params.items()}
    cls = _CLASSES[name]
    value = value.astype(np.float16)
    return (getattr(D, cls)(**ours_p), getattr(TD, cls)(**theirs_p), ours_p, theirs_p,
            tl.tensor(value, device=device), torch.tensor(value.astype(np.float64)))


def _term_scales(name, theirs, value):
    """The largest sums of |terms| of log_prob and of entropy (float64), which bound their rounding in f16 (the
    values themselves for the distributions whose terms are of their size)."""
    with torch.no_grad():
        if name == "gamma":
            a, r = theirs.concentration, theirs.rate
            lp = (a * r.log()).abs() + ((a - 1) * value.log()).abs() + (r * value).abs() + a.lgamma().abs()
            ent = a.abs() + r.log().abs() + a.lgamma().abs() + ((1 - a) * a.digamma()).abs()
        elif name == "beta":
            a, b = theirs.concentration1, theirs.concentration0
            norm = a.lgamma().abs() + b.lgamma().abs() + (a + b).lgamma().abs()
            lp = norm + ((a - 1) * value.log()).abs() + ((b - 1) * (1 - value).log()).abs()
            ent = (norm + ((a - 1) * a.digamma()).abs() + ((b - 1) * b.digamma()).abs()
                   + ((a + b - 2) * (a + b).digamma()).abs())
        elif name.startswith("bernoulli"):  # softplus(logits) - probs logits (and value logits - softplus(logits))
            lp = ent = 2 * theirs.logits.abs() + 1
        else:
            lp, ent = theirs.log_prob(value).abs(), theirs.entropy().abs()
        return float(lp.max()), float(ent.max())


@pytest.mark.parametrize("name", list(_CLASSES))
def test_values_and_gradients_against_torch(device, rng, name):
    ours, theirs, ours_p, theirs_p, value, theirs_value = _pair(name, device, rng)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == ()
    lp, ref = ours.log_prob(value), theirs.log_prob(theirs_value)
    assert lp.shape == tuple(ref.shape)
    # log_prob and entropy sum rounded terms that may cancel (Beta's entropy adds lgamma and digamma terms ~10 times
    # its value): compared within 4 f16 ulps of the largest sum of the terms' magnitudes
    lp_scale, entropy_scale = _term_scales(name, theirs, theirs_value)
    assert_close_f16(lp, ref.detach().numpy(), atol=1e-3 + 4 * 2 ** -11 * lp_scale)
    assert_close_f16(ours.entropy(), theirs.entropy().detach().numpy(), atol=1e-3 + 4 * 2 ** -11 * entropy_scale)
    ulps = 16 if name in ("gamma", "beta") else 4
    assert_close_f16(ours.mean, theirs.mean.detach().numpy())
    assert_close_f16(ours.variance, theirs.variance.detach().numpy())
    assert_close_f16(ours.stddev, theirs.stddev.detach().numpy())
    if name not in ("beta", "bernoulli_probs", "bernoulli_logits"):
        assert_close_f16(ours.mode, theirs.mode.detach().numpy())
    (lp.sum() + ours.entropy().sum()).backward()
    (ref.sum() + theirs.entropy().sum()).backward()
    for key in ours_p:  # gradients sum over broadcast dimensions, where terms may cancel
        assert_close_to_largest(ours_p[key].grad, theirs_p[key].grad.numpy(), ulps=2 * ulps)


@pytest.mark.parametrize("name", ["uniform", "exponential", "laplace"])
def test_cdf_icdf_against_torch(device, rng, name):
    ours, theirs, _, _, value, theirs_value = _pair(name, device, rng)
    assert_close_f16(ours.cdf(value), theirs.cdf(theirs_value).detach().numpy())
    q = rng.uniform(0.05, 0.95, (3, 4)).astype(np.float16)
    assert_close_to_largest(ours.icdf(tl.tensor(q, device=device)),
                            theirs.icdf(torch.tensor(q.astype(np.float64))).detach().numpy())


def test_bernoulli_probs_logits_and_support(device):
    probs = np.array([0.0, 0.25, 0.5, 1.0], np.float16)
    ours, theirs = D.Bernoulli(tl.tensor(probs, device=device)), TD.Bernoulli(torch.tensor(probs.astype(np.float64)))
    np.testing.assert_array_equal(host(ours.mode), theirs.mode.numpy())  # NaN at 1/2, as torch
    assert_close_f16(D.Bernoulli(logits=ours.logits).probs, np.clip(probs, 2 ** -14, 1 - 2 ** -11))
    support = ours.enumerate_support()
    assert support.shape == (2, 4) and host(support)[:, 0].tolist() == [0, 1]
    assert ours.enumerate_support(expand=False).shape == (2, 1)


@pytest.mark.parametrize("name", ["uniform", "exponential", "laplace"])
def test_rsample_gradients(device, rng, name):
    ours, _, ours_p, _, _, _ = _pair(name, device, rng)
    x = ours.rsample((5,))
    assert x.shape == (5, 3, 4) and x.requires_grad
    x.sum().backward()
    drawn = host(x.detach()).astype(np.float64)
    p = {k: host(v.detach()).astype(np.float64) for k, v in ours_p.items()}
    if name == "uniform":  # x = low + u (high - low): dx/dlow = 1 - u, dx/dhigh = u
        u = (drawn - p["low"]) / (p["high"] - p["low"])
        expected = {"low": (1 - u).sum((0, 2))[:, None], "high": u.sum((0, 1))}
    elif name == "exponential":  # x = e / rate: dx/drate = -x / rate
        expected = {"rate": (-drawn / p["rate"]).sum(0)}
    else:  # x = loc + scale e: dx/dloc = 1, dx/dscale = (x - loc) / scale
        expected = {"loc": np.full((3, 1), 20.0), "scale": ((drawn - p["loc"]) / p["scale"]).sum((0, 1))}
    for key, grad in expected.items():
        assert_close_to_largest(ours_p[key].grad, grad, ulps=8)


# distribution, parameters, its mean and variance (numbers, one distribution of batch shape (2,))
_MOMENTS = [
    ("Bernoulli", {"probs": [0.1, 0.7]}),
    ("Uniform", {"low": [-1.0, 2.0], "high": [1.0, 2.5]}),
    ("Exponential", {"rate": [0.5, 4.0]}),
    ("Laplace", {"loc": [0.0, -2.0], "scale": [1.0, 0.25]}),
    ("Gamma", {"concentration": [0.3, 4.0], "rate": [1.0, 2.0]}),
    ("Beta", {"concentration1": [0.4, 2.0], "concentration0": [0.4, 5.0]}),
]


@pytest.mark.parametrize("cls,params", _MOMENTS, ids=[c for c, _ in _MOMENTS])
@pytest.mark.usefixtures("rng")  # seeds tl's generator
def test_sample_moments(device, cls, params):
    n = 40000
    ours = getattr(D, cls)(**{k: tl.tensor(v, device=device) for k, v in params.items()})
    theirs = getattr(TD, cls)(**{k: torch.tensor(np.float16(v).astype(np.float64)) for k, v in params.items()})
    draws = ours.sample((n,))
    assert draws.shape == (n, 2) and draws.device == ours.mean.device and not draws.requires_grad
    x = host(draws).astype(np.float64)
    mean, var = theirs.mean.numpy(), theirs.variance.numpy()
    # within 6 standard errors (a normal tail of 2e-9 per comparison; it was 5, and the variance a fixed 15%, which
    # Gamma(0.3)'s kurtosis of 23 put at 4.6 of its standard errors), plus f16's rounding of each draw; the
    # variance's standard error from the sample's fourth moment, and 4% for the tails that the inverse-CDF draws of
    # f16 uniforms (multiples of 2^-11) cut off (Exponential's variance is 1.7% short of 1 / rate^2)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 6 * np.sqrt(var / n) + 1e-3 * np.abs(mean) + 1e-4)
    fourth = ((x - x.mean(0)) ** 4).mean(0)
    np.testing.assert_array_less(np.abs(x.var(0) - var), 6 * np.sqrt(np.maximum(fourth - x.var(0) ** 2, 0) / n)
                                 + 0.04 * var + 1e-6)
    assert ours.sample().shape == (2,) and ours.sample(3).shape == (3, 2)


def test_independent_against_torch(device, rng):
    loc, scale = rng.standard_normal((2, 3, 4)).astype(np.float16), rng.uniform(0.5, 2, (2, 3, 4)).astype(np.float16)
    value = rng.standard_normal((5, 2, 3, 4)).astype(np.float16)
    ours_loc = tl.tensor(loc, device=device, requires_grad=True)
    theirs_loc = torch.tensor(loc.astype(np.float64), requires_grad=True)
    ours = D.Independent(D.Normal(ours_loc, tl.tensor(scale, device=device)), 2)
    theirs = TD.Independent(TD.Normal(theirs_loc, torch.tensor(scale.astype(np.float64))), 2)
    assert ours.batch_shape == (2,) and ours.event_shape == (3, 4) and ours.has_rsample
    lp, ref = ours.log_prob(tl.tensor(value, device=device)), theirs.log_prob(torch.tensor(value.astype(np.float64)))
    assert lp.shape == (5, 2)
    assert_close_to_largest(lp, ref.detach().numpy(), ulps=8)
    assert_close_to_largest(ours.entropy(), theirs.entropy().numpy(), ulps=8)
    assert_close_f16(ours.mean, theirs.mean.detach().numpy())
    lp.sum().backward()
    ref.sum().backward()
    assert_close_to_largest(ours_loc.grad, theirs_loc.grad.numpy())
    assert ours.rsample((7,)).shape == (7, 2, 3, 4) and ours.sample().shape == (2, 3, 4)
    other = D.Independent(D.Normal(tl.zeros(2, 3, 4, device=device), tl.ones(2, 3, 4, device=device)), 2)
    theirs_other = TD.Independent(TD.Normal(torch.zeros(2, 3, 4), torch.ones(2, 3, 4)), 2)
    assert_close_to_largest(D.kl_divergence(ours, other), TD.kl_divergence(theirs, theirs_other).detach().numpy(),
                            ulps=8)
    assert not D.Independent(D.Bernoulli(tl.full((3,), 0.5)), 1).has_rsample


@pytest.mark.parametrize("name", list(_CLASSES))
def test_kl_divergence_against_torch(device, rng, name):
    p, theirs_p, p_params, theirs_params, _, _ = _pair(name, device, rng)
    q, theirs_q, _, _, _, _ = _pair(name, device, rng)
    if name == "uniform":  # q covers p (finite) in one half, not in the other (infinite)
        q = D.Uniform(p.low.detach() - 0.5, p.high.detach() + tl.tensor([0.5, -0.5, 0.5, -0.5], device=device))
        theirs_q = TD.Uniform(theirs_p.low.detach() - 0.5, theirs_p.high.detach()
                              + torch.tensor([0.5, -0.5, 0.5, -0.5], dtype=torch.float64))
    ours, ref = D.kl_divergence(p, q), TD.kl_divergence(theirs_p, theirs_q)
    finite = np.isfinite(ref.detach().numpy())
    np.testing.assert_array_equal(np.isfinite(host(ours)), finite)
    if name not in ("gamma", "beta"):
        assert_close_to_largest(host(ours)[finite], ref.detach().numpy()[finite], ulps=8)
    if name in ("gamma", "beta"):  # lgamma and digamma terms many times the divergence (seed 955544308: Beta's
        # KL 0.74 from terms of 6): within 8 ulps of the largest term
        with torch.no_grad():
            params = [t for d in (theirs_p, theirs_q) for t in (
                (d.concentration, d.rate) if name == "gamma" else (d.concentration1, d.concentration0))]
            terms = sum(t.lgamma().abs() + (t * t.digamma()).abs() + t.log().abs() + t.abs() for t in params)
            if name == "beta":
                pairs = [(d.concentration1, d.concentration0) for d in (theirs_p, theirs_q)]
                terms = terms + sum((a + b).lgamma().abs() + ((a + b) * (a + b).digamma()).abs() for a, b in pairs)
        assert_close_f16(ours, ref.detach().numpy(), atol=8 * 2 ** -11 * float(terms.max()))
    ours.masked_fill(~tl.tensor(finite, device=device), 0.0).sum().backward()
    ref.masked_fill(~torch.tensor(finite), 0.0).sum().backward()
    for key in p_params:
        assert_close_to_largest(p_params[key].grad, theirs_params[key].grad.numpy(), ulps=8)


def test_argument_errors():
    bad = tl.tensor([1.0, -1.0])
    for make in (lambda: D.Bernoulli(tl.tensor([0.5, 1.5]), validate_args=True),
                 lambda: D.Uniform(tl.tensor([0.0, 1.0]), 1.0, validate_args=True),
                 lambda: D.Exponential(bad, validate_args=True),
                 lambda: D.Laplace(0.0, bad, validate_args=True),
                 lambda: D.Gamma(bad, 1.0, validate_args=True),
                 lambda: D.Gamma(1.0, bad, validate_args=True),
                 lambda: D.Beta(bad, 1.0, validate_args=True),
                 lambda: D.Beta(1.0, bad, validate_args=True),
                 lambda: D.Bernoulli(),
                 lambda: D.Bernoulli(probs=0.5, logits=0.0),
                 lambda: D.Independent(D.Normal(tl.zeros(3), 1.0), 2),
                 lambda: D.Independent(D.Normal(tl.zeros(3), 1.0), -1),
                 lambda: D.Bernoulli(0.5, validate_args=True).log_prob(tl.tensor([0.5])),
                 lambda: D.Uniform(0.0, 1.0, validate_args=True).log_prob(tl.tensor([1.5])),
                 lambda: D.Exponential(1.0, validate_args=True).log_prob(tl.tensor([-1.0])),
                 lambda: D.Gamma(1.0, 1.0, validate_args=True).log_prob(tl.tensor([-0.5])),
                 lambda: D.Beta(1.0, 1.0, validate_args=True).log_prob(tl.tensor([1.5]))):
        with pytest.raises(ValueError):
            make()
    # the supports' closed ends, as PyTorch's (Gamma's is [0, inf), Beta's [0, 1])
    assert host(D.Gamma(1.0, 1.0, validate_args=True).log_prob(tl.tensor([0.0]))).tolist() == [0.0]
    assert host(D.Beta(1.0, 1.0, validate_args=True).log_prob(tl.tensor([1.0]))).tolist() == [0.0]
    for make in (lambda: D.Uniform([0.0], 1.0), lambda: D.Gamma(1.0, "2"), lambda: D.Bernoulli(True),
                 lambda: D.Independent(tl.zeros(3), 1), lambda: D.Bernoulli(0.5).log_prob(1)):
        with pytest.raises(TypeError):
            make()
    # with validate_args=False bad parameters give NaN or inf rather than an error
    assert D.Exponential(bad, validate_args=False).batch_shape == (2,)


@pytest.mark.parametrize("call, error, match", [
    # found by tests/fuzz_ops.py: a tensor as validate_args ("truth value ... ambiguous"), numbers as values
    # (AttributeError: 'float' object has no attribute 'log1p'), a str loc accepted, hostile sample shapes
    # (pybind11's "incompatible function arguments" of randn, int("x")'s ValueError)
    (lambda: D.Exponential(1.0, tl.ones(3)), TypeError, "validate_args must be a bool"),
    (lambda: D.Categorical(tl.ones(3), validate_args=np.zeros(2)), TypeError, "validate_args"),
    (lambda: D.Bernoulli(0.5).enumerate_support(np.zeros(2)), TypeError, "expand must be a bool"),
    (lambda: D.Categorical(tl.ones(3)).enumerate_support(tl.ones(2)), TypeError, "expand must be a bool"),
    (lambda: D.Normal("a", 1.0), TypeError, "Normal: loc must be a tensor or a number"),
    (lambda: D.Normal(None, 1.0), TypeError, "Normal: loc"),
    (lambda: D.Normal(tl.ones(3), tl.ones(2)), tl.ShapeMismatchError, r"Normal: .*loc \[3\], scale \[2\]"),
    (lambda: D.Laplace(0.0, 1.0).cdf("x"), TypeError, "Laplace.cdf: value must be a tensor or a number"),
    (lambda: D.Normal(0.0, 1.0).sample("x"), TypeError, "sample_shape"),
    (lambda: D.Normal(0.0, 1.0).rsample((2.5,)), TypeError, "sample_shape must hold ints"),
    (lambda: D.Categorical(tl.ones(3)).sample((-1,)), ValueError, "negative size"),
    (lambda: D.Normal(0.0, 1.0).rsample((10**30,)), MemoryError, "beyond any memory"),
    (lambda: D.Gamma(1.0, 1.0).sample((2**62, 2)), MemoryError, "beyond any memory"),  # numpy's "iterator is too large"
])
def test_hostile_arguments_raise_typed_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_register_kl_takes_only_distribution_classes():
    """A non-class key registered without a check made every later kl_divergence a raw isinstance() TypeError."""
    for types in ((1, 2), (int, D.Normal), (D.Normal, "Normal")):
        with pytest.raises(TypeError, match="register_kl"):
            D.register_kl(*types)
    assert host(D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(0.0, 1.0))) == 0


def test_numbers_as_values_and_parameters():
    """A number is a value as a 0-d tensor is (log_prob, cdf, icdf of the continuous distributions), and a number
    beside an integer tensor stays a float (it took the tensor's dtype: a rate of 0.5 became 0)."""
    for dist in (D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0), D.Uniform(0.0, 2.0), D.Exponential(2.0)):
        for method in ("log_prob", "cdf", "icdf"):
            expected = getattr(dist, method)(tl.tensor(0.5))
            assert host(getattr(dist, method)(0.5)) == host(expected), (dist, method)
    assert host(D.Gamma(1.0, 1.0).log_prob(2.0)) == host(D.Gamma(1.0, 1.0).log_prob(tl.tensor(2.0)))
    assert host(D.Gamma(tl.tensor([2, 3]), 0.5).rate).tolist() == [0.5, 0.5]
    assert np.isnan(host(D.Uniform(tl.tensor([0, 1]), 2.5).mode)).all()  # "cannot fill an int64 tensor with nan"
    # KL between Normals of zero scale: inf or NaN as PyTorch's, not ZeroDivisionError from float scales
    kl = D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(0.0, 0.0, validate_args=False))
    assert not np.isfinite(host(kl))


def test_gamma_and_beta_draws_of_invalid_parameters_are_as_torch():
    """Without validate_args, a concentration of 0, below 0 or NaN draws PyTorch's smallest positive value and inf
    draws inf (the rejection sampler gave up with a RuntimeError naming it)."""
    c = tl.tensor([0.0, -1.0, float("nan"), float("inf"), 1e-4])
    draws = host(D.Gamma(c, 1.0, validate_args=False).sample((3,)))
    assert (draws[:, :3] == 2.0 ** -14).all() and (draws[:, 3] == np.inf).all() and (draws[:, 4] > 0).all()
    assert np.isfinite(host(D.Beta(tl.tensor([float("nan"), -1.0]), 1.0, validate_args=False).sample())).all()


def test_logits_of_certain_and_impossible_probs_as_torch():
    """probs of 0 and 1 give the logits PyTorch's f16 gives: clamped to [eps, 1 - eps] (f16's eps, 2^-10), not to
    f16's smallest normal (whose log-probability's gradient, scaled by a large advantage, overflowed f16)."""
    probs = [[0.0, 0.25, 0.75], [1.0, 0.0, 0.0]]
    ours = D.Categorical(probs=tl.tensor(probs)).logits.numpy().astype(np.float32)
    theirs = torch.distributions.Categorical(probs=torch.tensor(probs, dtype=torch.float16)).logits
    np.testing.assert_array_equal(ours, theirs.float().numpy())
    for p in (0.0, 1.0, 0.5):
        ours = D.Bernoulli(probs=tl.tensor(p)).logits.numpy().astype(np.float32)
        theirs = torch.distributions.Bernoulli(probs=torch.tensor(p, dtype=torch.float16)).logits
        np.testing.assert_array_equal(ours, theirs.float().numpy())
