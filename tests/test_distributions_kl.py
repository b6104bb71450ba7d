"""kl_divergence's pairs added with the new families (one family and two), against torch.distributions.kl_divergence
in float64 on the same f16 parameters: values (finite and infinite in the same places) and the gradients with
respect to p's parameters."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, host

D, TD = tl.distributions, torch.distributions


def _f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


def _u(lo, hi):
    return lambda r: r.uniform(lo, hi, 4)


def _across(lo, edge, hi):
    """Uniform on [lo, hi] but 0.01 away from edge, so that no f16 value lands on it (PyTorch counts a Uniform whose
    bound equals the support's as infinitely far in some pairs and not in others)."""
    return lambda r: np.where(r.uniform(size=4) < 0.5, r.uniform(lo, edge - 0.01, 4), r.uniform(edge + 0.01, hi, 4))


# a distribution: (class name, {parameter: sampler}); parameters of shape (4,)
_DISTS = {
    "Normal": ("Normal", {"loc": _u(-1, 1), "scale": _u(0.5, 2)}),
    "Laplace": ("Laplace", {"loc": _u(-1, 1), "scale": _u(0.5, 2)}),
    "Exponential": ("Exponential", {"rate": _u(0.5, 3)}),
    "Gamma": ("Gamma", {"concentration": _u(0.5, 4), "rate": _u(0.5, 3)}),
    "Beta": ("Beta", {"concentration1": _u(0.5, 4), "concentration0": _u(0.5, 4)}),
    "Uniform01": ("Uniform", {"low": _u(0.05, 0.3), "high": _u(0.5, 0.95)}),
    "UniformWide": ("Uniform", {"low": _across(-0.5, 0.0, 0.3), "high": _across(0.5, 1.0, 1.5)}),
    # (away from 0 and 1 themselves: PyTorch's ContinuousBernoulli-Uniform pair counts a Uniform on [0, 1) as missing
    # part of [0, 1], where its Beta-Uniform pair and ours do not)
    "UniformQ": ("Uniform", {"low": _u(-0.2, -0.01), "high": _u(1.01, 2.0)}),
    "Cauchy": ("Cauchy", {"loc": _u(-1, 1), "scale": _u(0.5, 2)}),
    "Gumbel": ("Gumbel", {"loc": _u(-1, 1), "scale": _u(0.5, 2)}),
    "HalfNormal": ("HalfNormal", {"scale": _u(0.5, 2)}),
    "Pareto": ("Pareto", {"scale": _u(0.5, 1.5), "alpha": _u(1, 4)}),
    "Poisson": ("Poisson", {"rate": _u(0.5, 6)}),
    "Geometric": ("Geometric", {"probs": _u(0.1, 0.9)}),
    "Binomial": ("Binomial", {"total_count": lambda r: np.full(4, 7.0), "probs": _u(0.1, 0.9)}),
    "OneHotCategorical": ("OneHotCategorical", {"logits": lambda r: r.standard_normal((4, 3))}),
    "LogNormal": ("LogNormal", {"loc": _u(-1, 1), "scale": _u(0.5, 2)}),
    "ContinuousBernoulli": ("ContinuousBernoulli", {"probs": _u(0.1, 0.9)}),
    "Bernoulli": ("Bernoulli", {"probs": _u(0.1, 0.9)}),
    "UniformHigh": ("Uniform", {"low": _u(0.5, 1.5), "high": _u(1.6, 3)}),
    "ParetoHeavy": ("Pareto", {"scale": _u(0.5, 1.5), "alpha": _u(0.5, 3)}),
}
_PAIRS = [("Cauchy", "Cauchy"), ("Gumbel", "Gumbel"), ("HalfNormal", "HalfNormal"), ("Pareto", "Pareto"),
          ("Poisson", "Poisson"), ("Geometric", "Geometric"), ("Binomial", "Binomial"),
          ("OneHotCategorical", "OneHotCategorical"), ("LogNormal", "LogNormal"),
          ("Exponential", "Normal"), ("Gamma", "Normal"), ("Laplace", "Normal"), ("UniformWide", "Normal"),
          ("Normal", "Laplace"), ("Exponential", "Gamma"), ("Gamma", "Exponential"), ("Beta", "UniformQ"),
          ("UniformWide", "Exponential"), ("UniformWide", "Gamma"), ("Uniform01", "Beta"), ("UniformWide", "Beta"),
          ("Normal", "Gamma"), ("Gumbel", "Uniform01"), ("Exponential", "Beta"), ("Pareto", "UniformQ"),
          ("Beta", "Normal"), ("Gumbel", "Normal"), ("ContinuousBernoulli", "Normal"), ("ParetoHeavy", "Normal"),
          ("Beta", "Exponential"), ("ContinuousBernoulli", "Exponential"), ("ParetoHeavy", "Exponential"),
          ("Beta", "Gamma"), ("ParetoHeavy", "Gamma"), ("Normal", "Gumbel"), ("Exponential", "Gumbel"),
          ("Gamma", "Gumbel"), ("UniformWide", "Gumbel"), ("UniformHigh", "Pareto"), ("Beta", "ContinuousBernoulli"),
          ("Uniform01", "ContinuousBernoulli"), ("UniformWide", "ContinuousBernoulli"),
          ("ContinuousBernoulli", "UniformQ"), ("Bernoulli", "Poisson"), ("Poisson", "Bernoulli"),
          ("Poisson", "Binomial"), ("Laplace", "ContinuousBernoulli"), ("Beta", "Pareto")]
_NO_GRAD = {"total_count"}


def _make(key, rng, device):
    name, samplers = _DISTS[key]
    p = {k: _f16(s(rng)) for k, s in samplers.items()}
    ours_p = {k: tl.tensor(v, device=device, requires_grad=k not in _NO_GRAD) for k, v in p.items()}
    theirs_p = {k: torch.tensor(v.astype(np.float64), requires_grad=k not in _NO_GRAD) for k, v in p.items()}
    return getattr(D, name)(**ours_p), getattr(TD, name)(**theirs_p, validate_args=False), ours_p, theirs_p


@pytest.mark.parametrize("pair", _PAIRS, ids=["-".join(p) for p in _PAIRS])
def test_kl_against_torch(device, rng, pair):
    p, theirs_p, p_params, theirs_params = _make(pair[0], rng, device)
    q, theirs_q, _, _ = _make(pair[1], rng, device)
    ours, ref = D.kl_divergence(p, q), TD.kl_divergence(theirs_p, theirs_q)
    expected = ref.detach().numpy()
    finite = np.isfinite(expected)
    assert ours.shape == expected.shape
    np.testing.assert_array_equal(np.isfinite(host(ours)), finite)
    if not finite.any():
        return
    with torch.no_grad():  # the closed forms add terms (logs, lgammas, ratios) of about the parameters' sizes
        scale = 1 + max(float(t.abs().max()) for t in list(theirs_params.values()) + [ref[torch.tensor(finite)]])
        scale += max(float(torch.lgamma(t.abs() + 1).max()) for t in theirs_params.values())
    assert_close_f16(host(ours)[finite], expected[finite], atol=16 * 2 ** -11 * scale)
    mask = tl.tensor(finite, device=device)
    ours.masked_fill(~mask, 0.0).sum().backward()
    ref.masked_fill(~torch.tensor(finite), 0.0).sum().backward()
    for key, value in p_params.items():
        if key not in _NO_GRAD:  # where the divergence is infinite, PyTorch's gradient may be NaN (0 times inf)
            assert_close_f16(host(value.grad)[finite], theirs_params[key].grad.numpy()[finite], rtol=2e-2,
                             atol=64 * 2 ** -11 * scale)


def test_lowrank_and_multivariate_normal_kl(device, rng):
    d, r = 4, 2

    def lowrank():
        loc, w = _f16(rng.standard_normal(d)), _f16(rng.standard_normal((d, r)) * 0.6)
        diag = _f16(rng.uniform(0.5, 1.5, d))
        return (D.LowRankMultivariateNormal(*(tl.tensor(v, device=device) for v in (loc, w, diag))),
                TD.LowRankMultivariateNormal(*(torch.tensor(v.astype(np.float64)) for v in (loc, w, diag))))

    def full():
        loc, a = _f16(rng.standard_normal(d)), rng.standard_normal((d, d))
        tril = _f16(np.tril(a * 0.3, -1) + np.diag(rng.uniform(0.7, 1.3, d)))
        return (D.MultivariateNormal(tl.tensor(loc, device=device), scale_tril=tl.tensor(tril, device=device)),
                TD.MultivariateNormal(torch.tensor(loc.astype(np.float64)),
                                      scale_tril=torch.tensor(tril.astype(np.float64))))

    for make_p, make_q in ((lowrank, lowrank), (full, lowrank), (lowrank, full)):
        (p, tp), (q, tq) = make_p(), make_q()
        expected = float(TD.kl_divergence(tp, tq))
        assert abs(float(host(D.kl_divergence(p, q))) - expected) <= 32 * 2 ** -11 * (1 + abs(expected)) + 0.02


def test_kl_argument_errors():
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(3.0, probs=0.5), D.Binomial(5.0, probs=0.5))
    with pytest.raises(NotImplementedError, match="same transforms"):
        D.kl_divergence(D.LogNormal(0.0, 1.0), D.TransformedDistribution(D.Normal(0.0, 1.0), D.SigmoidTransform()))
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Poisson(1.0), D.Normal(0.0, 1.0))
    inf = D.kl_divergence(D.Binomial(tl.tensor([5.0, 3.0]), probs=0.5), D.Binomial(3.0, probs=0.5))
    assert host(inf)[0] == np.inf and host(inf)[1] == 0
