"""The continuous families added over transforms and Gamma draws (Cauchy, HalfCauchy, HalfNormal, LogNormal, Gumbel,
Weibull, Pareto, Kumaraswamy, LogisticNormal, InverseGamma, StudentT, FisherSnedecor, RelaxedBernoulli,
RelaxedOneHotCategorical) against torch.distributions in float64 on the same f16 parameters: log_prob, entropy,
mean, mode, variance, cdf, icdf and the gradients of log_prob + entropy; draws against their CDFs by the DKW bound
(stat_checks: a false failure 1e-7 per comparison) and rsample's gradients reaching the parameters."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, host
from stat_checks import Z, assert_cdf

D, TD = tl.distributions, torch.distributions


def _f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


# name: (class name, parameters(rng) -> {name: f16 array}, value(rng, shape) -> f16 values in the support)
_CASES = {
    "Cauchy": (lambda r: {"loc": r.uniform(-1, 1, 4), "scale": r.uniform(0.5, 2, 4)},
               lambda r: r.uniform(-4, 4, (3, 4))),
    "HalfCauchy": (lambda r: {"scale": r.uniform(0.5, 2, 4)}, lambda r: r.uniform(0.05, 4, (3, 4))),
    "HalfNormal": (lambda r: {"scale": r.uniform(0.5, 2, 4)}, lambda r: r.uniform(0.05, 3, (3, 4))),
    "LogNormal": (lambda r: {"loc": r.uniform(-0.5, 0.5, 4), "scale": r.uniform(0.5, 1.5, 4)},
                  lambda r: r.uniform(0.1, 4, (3, 4))),
    "Gumbel": (lambda r: {"loc": r.uniform(-1, 1, 4), "scale": r.uniform(0.5, 2, 4)},
               lambda r: r.uniform(-2, 4, (3, 4))),
    "Weibull": (lambda r: {"scale": r.uniform(0.5, 2, 4), "concentration": r.uniform(0.7, 3, 4)},
                lambda r: r.uniform(0.1, 3, (3, 4))),
    "Pareto": (lambda r: {"scale": r.uniform(0.5, 1, 4), "alpha": r.uniform(1, 4, 4)},
               lambda r: r.uniform(1.05, 4, (3, 4))),
    "Kumaraswamy": (lambda r: {"concentration1": r.uniform(0.7, 3, 4), "concentration0": r.uniform(0.7, 3, 4)},
                    lambda r: r.uniform(0.05, 0.95, (3, 4))),
    "InverseGamma": (lambda r: {"concentration": r.uniform(2.5, 5, 4), "rate": r.uniform(0.5, 2, 4)},
                     lambda r: r.uniform(0.1, 2, (3, 4))),
    "StudentT": (lambda r: {"df": r.uniform(2.5, 8, 4), "loc": r.uniform(-1, 1, 4), "scale": r.uniform(0.5, 2, 4)},
                 lambda r: r.uniform(-3, 3, (3, 4))),
    "FisherSnedecor": (lambda r: {"df1": r.uniform(3, 8, 4), "df2": r.uniform(5, 10, 4)},
                       lambda r: r.uniform(0.1, 3, (3, 4))),
}
# PyTorch's mode is wrong for these (Weibull's is scale where concentration <= 1, where the density peaks at 0;
# Kumaraswamy's takes log1p(-concentration0), NaN for every valid parameter): compared with the formulas instead


def _weibull_mode(p):
    k = p["concentration"]
    return np.where(k > 1, p["scale"] * (np.maximum(k - 1, 0) / k) ** (1 / k), 0.0)


def _kumaraswamy_mode(p):
    a, b = p["concentration1"], p["concentration0"]
    with np.errstate(invalid="ignore"):  # (a negative base where a < 1: NaN, as the mode there)
        return np.where((a < 1) | (b < 1), np.nan, ((a - 1) / (a * b - 1)) ** (1 / a))


_MODES = {"Weibull": _weibull_mode, "Kumaraswamy": _kumaraswamy_mode}


def _pair(name, device, rng):
    params, value = _CASES[name]
    p = {k: _f16(v) for k, v in params(rng).items()}
    ours_p = {k: tl.tensor(v, device=device, requires_grad=True) for k, v in p.items()}
    theirs_p = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in p.items()}
    return (getattr(D, name)(**ours_p), getattr(TD, name)(**theirs_p), ours_p, theirs_p, p, _f16(value(rng)))


def _scale(*tensors):
    """The largest magnitude among float64 terms: f16 rounds each to 2^-11 of it, and sums cancel them."""
    return max(float(t.detach().abs().max()) for t in tensors)


@pytest.mark.parametrize("name", list(_CASES))
def test_values_and_gradients_against_torch(device, rng, name):
    ours, theirs, ours_p, theirs_p, p, value = _pair(name, device, rng)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    v64 = torch.tensor(value.astype(np.float64))
    lp, ref = ours.log_prob(tl.tensor(value, device=device)), theirs.log_prob(v64)
    if name == "FisherSnedecor":  # PyTorch has no entropy for it (nor has ours)
        with pytest.raises(NotImplementedError):
            ours.entropy()
        ent, ref_ent = lp.new_zeros(lp.shape[1:]), torch.zeros(ref.shape[1:], dtype=torch.float64)
    else:
        ent, ref_ent = ours.entropy(), theirs.entropy()
    with torch.no_grad():  # terms: the parameters' logs and lgammas, the values' logs, the results
        terms = [ref, ref_ent, v64.abs().log(), v64] + [t.log().abs() + t.lgamma().abs() + t.abs()
                                                        for t in theirs_p.values()]
    scale = _scale(*terms) + 1
    assert_close_f16(lp, ref.detach().numpy(), atol=16 * 2 ** -11 * scale)
    assert_close_f16(ent, ref_ent.detach().numpy(), atol=16 * 2 ** -11 * scale)
    for stat in ("mean", "variance"):
        expected = getattr(theirs, stat).detach().numpy()
        assert_close_f16(getattr(ours, stat), expected, rtol=8e-3, atol=8 * 2 ** -11 * (1 + np.nanmax(
            np.abs(np.where(np.isfinite(expected), expected, 0)))))
    mode = _MODES[name](p) if name in _MODES else theirs.mode.detach().numpy()
    assert_close_f16(ours.mode, mode, rtol=8e-3, atol=2e-3)
    if name in ("Cauchy", "HalfCauchy", "HalfNormal", "LogNormal", "Gumbel", "Weibull", "Pareto", "Kumaraswamy"):
        assert_close_f16(ours.cdf(tl.tensor(value, device=device)), theirs.cdf(v64).detach().numpy(), rtol=4e-3,
                         atol=2e-3)
        q = _f16(rng.uniform(0.05, 0.95, (3, 4)))
        if name == "Gumbel":  # (PyTorch's first Gumbel.icdf call takes a second: the formula in float64)
            expected = p["loc"].astype(np.float64) - p["scale"].astype(np.float64) * np.log(-np.log(q.astype(
                np.float64)))
        else:
            expected = theirs.icdf(torch.tensor(q.astype(np.float64))).detach().numpy()
        assert_close_f16(ours.icdf(tl.tensor(q, device=device)), expected, rtol=1e-2, atol=1e-2 * np.abs(
            expected).max())
    (lp.sum() + ent.sum()).backward()
    (ref.sum() + ref_ent.sum()).backward()
    for key in ours_p:  # sums over the value rows of terms of about the same scale
        assert_close_f16(ours_p[key].grad, theirs_p[key].grad.numpy(), rtol=2e-2, atol=64 * 2 ** -11 * scale)


_SAMPLED = [("Cauchy", {"loc": 0.5, "scale": 2.0}), ("HalfCauchy", {"scale": 1.5}), ("HalfNormal", {"scale": 0.7}),
            ("LogNormal", {"loc": 0.3, "scale": 0.8}), ("Gumbel", {"loc": -1.0, "scale": 2.0}),
            ("Weibull", {"scale": 1.5, "concentration": 2.5}), ("Pareto", {"scale": 1.0, "alpha": 3.0}),
            ("Kumaraswamy", {"concentration1": 2.0, "concentration0": 3.0}),
            ("InverseGamma", {"concentration": 3.0, "rate": 2.0})]


@pytest.mark.parametrize("name,params", _SAMPLED, ids=[n for n, _ in _SAMPLED])
def test_draws_follow_their_cdfs(name, params):
    """The f16 uniforms (multiples of 2^-11) that the inverse-CDF draws start from move the CDF of the draws by up to
    2^-11 against the exact one, well within the allowance."""
    n = 3000
    ours = getattr(D, name)(**{k: tl.tensor(v) for k, v in params.items()})
    theirs = getattr(TD, name)(**{k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()})
    draws = host(ours.rsample((n,)))
    assert draws.shape == (n,) and np.isfinite(draws).all()
    if name == "InverseGamma":  # P(1/X <= t) = Q(a, rate / t)
        cdf = lambda x: torch.special.gammaincc(torch.tensor(3.0, dtype=torch.float64),  # noqa: E731
                                                torch.tensor(2.0 / x)).numpy()
    else:
        cdf = lambda x: theirs.cdf(torch.tensor(x)).numpy()  # noqa: E731
    assert_cdf(draws, cdf, name)


def test_studentt_and_fisher_moments():
    """Means and variances of 20000 draws within stat_checks' Z standard errors (StudentT with df 9: a finite fourth
    moment; the sample variance's standard error from the kurtosis 6 / (df - 4) + 3; FisherSnedecor's mean)."""
    n = 20000
    t = host(D.StudentT(9.0, 1.0, 2.0).sample((n,))).astype(np.float64)
    var = 4 * 9 / 7
    assert abs(t.mean() - 1.0) < Z * math.sqrt(var / n)
    assert abs(t.var() - var) < Z * var * math.sqrt((6 / 5 + 2) / n)
    f = host(D.FisherSnedecor(6.0, 20.0).sample((n,))).astype(np.float64)
    theirs = TD.FisherSnedecor(6.0, 20.0)
    assert abs(f.mean() - float(theirs.mean)) < Z * math.sqrt(float(theirs.variance) / n)


def test_rsample_gradients_reach_parameters(device):
    """rsample through transforms and Gamma draws carries gradients to every parameter."""
    for name, params in _SAMPLED + [("StudentT", {"df": 5.0, "loc": 0.0, "scale": 1.0}),
                                    ("FisherSnedecor", {"df1": 4.0, "df2": 6.0})]:
        p = {k: tl.tensor([v, v], device=device, requires_grad=True) for k, v in params.items()}
        getattr(D, name)(**p).rsample((3,)).sum().backward()
        for key, value in p.items():
            assert value.grad is not None and np.isfinite(host(value.grad)).all(), (name, key)


def test_logistic_normal_against_torch(device, rng):
    loc, scale = _f16(rng.uniform(-1, 1, (2, 3))), _f16(rng.uniform(0.5, 1.5, (2, 3)))
    ours = D.LogisticNormal(tl.tensor(loc, device=device), tl.tensor(scale, device=device))
    theirs = TD.LogisticNormal(torch.tensor(loc.astype(np.float64)), torch.tensor(scale.astype(np.float64)),
                               validate_args=False)  # (f16 simplex points sum to 1 within 2^-10, not 1e-6)
    assert ours.batch_shape == (2,) and ours.event_shape == (4,)
    value = _f16(rng.dirichlet(np.ones(4) * 2, 2))
    v64 = torch.tensor(value.astype(np.float64), requires_grad=True)
    ref = theirs.log_prob(v64)
    ref.sum().backward()
    # the stick-breaking inverse divides by the stick left, 1 - cumsum(value): f16's rounding of each coordinate
    # (and of the sums) moves log_prob by about its sensitivity to the coordinate times half an ulp of it
    atol = 8 * 2 ** -11 * float((v64.grad * v64).detach().abs().sum(-1).max() + 1 + ref.detach().abs().max())
    assert_close_f16(ours.log_prob(tl.tensor(value, device=device)), ref.detach().numpy(), atol=atol)
    draws = host(ours.rsample((5,)))
    assert draws.shape == (5, 2, 4) and (np.abs(draws.sum(-1) - 1) < 4e-3).all()


def test_relaxed_against_torch(device, rng):
    t, logits = _f16(rng.uniform(0.3, 2, 1))[0], _f16(rng.standard_normal((3, 4)))
    for ours_cls, theirs_cls, value in (
            (D.RelaxedBernoulli, TD.RelaxedBernoulli, _f16(rng.uniform(0.05, 0.95, (3, 4)))),
            (D.RelaxedOneHotCategorical, TD.RelaxedOneHotCategorical, _f16(rng.dirichlet(np.ones(4), 3)))):
        ours_l = tl.tensor(logits, device=device, requires_grad=True)
        theirs_l = torch.tensor(logits.astype(np.float64), requires_grad=True)
        ours = ours_cls(tl.tensor(float(t), device=device), logits=ours_l)
        theirs = theirs_cls(torch.tensor(float(t), dtype=torch.float64), logits=theirs_l, validate_args=False)
        lp = ours.log_prob(tl.tensor(value, device=device))
        ref = theirs.log_prob(torch.tensor(value.astype(np.float64)))
        # terms: the logits over t, and the logs of the value's coordinates (the inverse of exp or sigmoid)
        scale = _scale(ref, theirs_l) / float(t) + 1 + float(np.abs(np.log(value.astype(np.float64))).sum(-1).max())
        assert_close_f16(lp, ref.detach().numpy(), atol=16 * 2 ** -11 * scale)
        lp.sum().backward()
        ref.sum().backward()
        assert_close_f16(ours_l.grad, theirs_l.grad.numpy(), rtol=2e-2, atol=32 * 2 ** -11 * scale)
        draw = ours.rsample((2,))
        assert draw.shape == (2,) + tuple(theirs.batch_shape) + tuple(theirs.event_shape) and draw.requires_grad
        assert bool(ours.support.check(draw.detach()).all())
        wide = (5,) + tuple(theirs.batch_shape)
        assert ours.expand(wide).sample().shape == wide + tuple(theirs.event_shape)


def test_relaxed_one_hot_draws_follow_the_gumbel_max(device):
    """At a low temperature the relaxed draw's argmax is the Gumbel-max categorical draw: frequencies within Z
    binomial standard errors of the probabilities (4000 draws)."""
    probs = np.array([0.1, 0.2, 0.7])
    draws = host(D.RelaxedOneHotCategorical(0.05, probs=tl.tensor(probs, device=device)).sample((4000,)))
    freq = np.bincount(draws.argmax(-1), minlength=3) / 4000
    p16 = _f16(probs).astype(np.float64)
    assert (np.abs(freq - p16) <= Z * np.sqrt(p16 * (1 - p16) / 4000) + 2e-3).all()
