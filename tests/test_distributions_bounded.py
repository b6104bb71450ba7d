"""ContinuousBernoulli (on [0, 1]) and VonMises (on the circle) against torch.distributions in float64 on the same
f16 parameters, including ContinuousBernoulli near p = 1/2 where PyTorch's own forms need a Taylor series and VonMises
at large concentrations: values, gradients, KL; draws by the DKW bound (stat_checks: a false failure 1e-7 each)."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, host
from stat_checks import assert_cdf

D, TD = tl.distributions, torch.distributions


def _f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_continuous_bernoulli_against_torch(device, rng, given):
    # probs spread over (0, 1) and within a few f16 steps of 1/2
    p = np.concatenate([rng.uniform(0.02, 0.98, 6), 0.5 + rng.integers(-4, 5, 2) * 2.0 ** -11])
    param = _f16(p if given == "probs" else np.log(p / (1 - p)))
    ours_p = tl.tensor(param, device=device, requires_grad=True)
    theirs_p = torch.tensor(param.astype(np.float64), requires_grad=True)
    ours, theirs = D.ContinuousBernoulli(**{given: ours_p}), TD.ContinuousBernoulli(**{given: theirs_p})
    value = _f16(rng.uniform(0.02, 0.98, (3, 8)))
    v64 = torch.tensor(value.astype(np.float64))
    lp, ref = ours.log_prob(tl.tensor(value, device=device)), theirs.log_prob(v64)
    atol = 8 * 2 ** -11 * (1 + float(theirs.logits.detach().abs().max()))  # the logits' terms round to this
    assert_close_f16(lp, ref.detach().numpy(), atol=atol)
    assert_close_f16(ours.entropy(), theirs.entropy().detach().numpy(), atol=atol)
    for name in ("mean", "variance"):  # differences of terms of about 1/4: a few f16 steps of it
        assert_close_f16(getattr(ours, name), getattr(theirs, name).detach().numpy(), rtol=4e-3, atol=1e-3)
    assert_close_f16(ours.cdf(tl.tensor(value, device=device)), theirs.cdf(v64).detach().numpy(), rtol=4e-3,
                     atol=1e-3)
    assert_close_f16(ours.icdf(tl.tensor(value, device=device)), theirs.icdf(v64).detach().numpy(), rtol=4e-3,
                     atol=1e-3)
    (lp.sum() + ours.entropy().sum() + ours.mean.sum()).backward()
    (ref.sum() + theirs.entropy().sum() + theirs.mean.sum()).backward()
    assert_close_f16(ours_p.grad, theirs_p.grad.numpy(), rtol=3e-2, atol=16 * atol)
    draw = ours.rsample((4,))
    assert draw.shape == (4, 8) and draw.requires_grad and bool(((draw >= 0) & (draw <= 1)).all())
    other = D.ContinuousBernoulli(tl.tensor(_f16(rng.uniform(0.1, 0.9, 8)), device=device))
    theirs_other = TD.ContinuousBernoulli(torch.tensor(host(other.probs).astype(np.float64)))
    assert_close_f16(D.kl_divergence(ours, other), TD.kl_divergence(theirs, theirs_other).detach().numpy(),
                     atol=2 * atol)


def test_continuous_bernoulli_draws():
    for p in (0.2, 0.5, 0.9):
        theirs = TD.ContinuousBernoulli(torch.tensor(float(np.float16(p)), dtype=torch.float64))
        draws = host(D.ContinuousBernoulli(p).sample((3000,)))
        assert_cdf(draws, lambda x: theirs.cdf(torch.tensor(x)).numpy(), f"ContinuousBernoulli({p})")


def test_von_mises_against_torch(device, rng):
    k = _f16(np.concatenate([rng.uniform(0.1, 3.5, 3), rng.uniform(4, 100, 3), [3.7, 3.8]]))
    loc = _f16(rng.uniform(-3, 3, 8))
    ours_k = tl.tensor(k, device=device, requires_grad=True)
    theirs_k = torch.tensor(k.astype(np.float64), requires_grad=True)
    ours = D.VonMises(tl.tensor(loc, device=device), ours_k)
    theirs = TD.VonMises(torch.tensor(loc.astype(np.float64)), theirs_k)
    value = _f16(loc + rng.uniform(-1, 1, (3, 8)))
    lp, ref = ours.log_prob(tl.tensor(value, device=device)), theirs.log_prob(torch.tensor(value.astype(np.float64)))
    # k (cos(d) - 1) rounds to 2^-11 of k (1 - cos d) and the angle d carries f16's rounding of value and loc
    with torch.no_grad():
        d = torch.tensor(value.astype(np.float64)) - torch.tensor(loc.astype(np.float64))
        atol = 8 * 2 ** -11 * (1 + theirs_k * (1 - d.cos()) + theirs_k * (d.sin() * d).abs()).numpy()
    err = np.abs(host(lp).astype(np.float64) - ref.detach().numpy())
    assert (err <= atol).all(), f"worst {np.max(err - atol)}"
    # below k = 3.75 the variance is 1 - I1/I0 with the ratio rounded: a few f16 steps of 1 - variance; above, the
    # polynomials' difference keeps it relative
    expected = theirs.variance.detach().numpy()
    bound = np.where(k < 3.75, 8 * 2 ** -11 * (1 - expected), 4e-3 * expected) + 2 ** -10 * expected  # and its rounding
    assert (np.abs(host(ours.variance).astype(np.float64) - expected) <= bound).all()
    lp.sum().backward()
    ref.sum().backward()
    assert_close_f16(ours_k.grad, theirs_k.grad.numpy(), rtol=1e-2, atol=1e-2)


def test_von_mises_draws():
    """Draws against the CDF integrated numerically from PyTorch's density (Simpson's rule on 20001 points, error far
    below the bound) for a wide and a concentrated distribution."""
    for loc, k in ((0.5, 0.8), (-2.0, 12.0)):
        theirs = TD.VonMises(torch.tensor(float(np.float16(loc)), dtype=torch.float64),
                             torch.tensor(float(np.float16(k)), dtype=torch.float64))
        grid = np.linspace(-math.pi, math.pi, 20001)
        density = theirs.log_prob(torch.tensor(grid)).exp().numpy()
        cumulative = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
        draws = host(D.VonMises(loc, k).sample((3000,)))
        assert ((draws >= -math.pi - 1e-3) & (draws <= math.pi + 1e-3)).all()
        assert_cdf(draws, lambda x: np.interp(x, grid, cumulative), f"VonMises({loc}, {k})")


def test_argument_errors():
    with pytest.raises(ValueError, match="concentration"):
        D.VonMises(0.0, tl.tensor([-1.0]), validate_args=True)
    with pytest.raises(ValueError, match="probs"):
        D.ContinuousBernoulli(tl.tensor([1.5]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        D.ContinuousBernoulli(0.3, validate_args=True).log_prob(tl.tensor([1.5]))
    assert np.isnan(host(D.VonMises(0.0, tl.tensor([-1.0]), validate_args=False).sample())).all()


def test_lkj_cholesky_log_prob_against_torch(device, rng):
    eta = _f16(rng.uniform(0.5, 3, 2))
    ours_eta = tl.tensor(eta, device=device, requires_grad=True)
    theirs_eta = torch.tensor(eta.astype(np.float64), requires_grad=True)
    ours, theirs = D.LKJCholesky(4, ours_eta), TD.LKJCholesky(4, theirs_eta, validate_args=False)
    assert ours.batch_shape == (2,) and ours.event_shape == (4, 4)
    value = ours.sample((3,))
    assert value.shape == (3, 2, 4, 4) and bool(D.constraints.corr_cholesky.check(value).all())
    lp, ref = ours.log_prob(value), theirs.log_prob(torch.tensor(host(value).astype(np.float64)))
    with torch.no_grad():  # the normaliser's lgamma terms and the diagonal's logs times their orders
        scale = float(torch.lgamma(theirs_eta + 2).abs().max()) * 8 + float(ref.abs().max()) + 4
    assert_close_f16(lp, ref.detach().numpy(), atol=8 * 2 ** -11 * scale)
    lp.sum().backward()
    ref.sum().backward()
    assert_close_f16(ours_eta.grad, theirs_eta.grad.numpy(), rtol=2e-2, atol=32 * 2 ** -11 * scale)


def test_lkj_cholesky_draws_follow_the_lkj_marginals():
    """Every correlation of an LKJ(eta) matrix of size d is 2 Beta(a, a) - 1 with a = eta - 1 + d / 2 (Lewandowski et
    al., 2009): the first pair's and the last pair's against that CDF, for d = 4 (PyTorch 2.13's sampler draws the last
    with a KS distance of ~0.05, beyond this bound of 0.031)."""
    n, d, eta = 10000, 4, 1.5
    factor = host(D.LKJCholesky(d, eta).sample((n,))).astype(np.float64)
    corr = factor @ np.swapaxes(factor, -1, -2)
    a = eta - 1 + d / 2
    marginal = TD.Beta(torch.tensor(a, dtype=torch.float64), torch.tensor(a, dtype=torch.float64))
    grid = np.linspace(1e-6, 1 - 1e-6, 20001)
    cumulative = np.concatenate([[0], np.cumsum(np.diff(grid) * marginal.log_prob(torch.tensor(
        (grid[1:] + grid[:-1]) / 2)).exp().numpy())])
    for i, j in ((1, 0), (3, 2)):
        assert_cdf((corr[:, i, j] + 1) / 2, lambda x: np.interp(x, grid, cumulative), f"LKJ r_{i}{j}")


def test_lkj_cholesky_argument_errors():
    with pytest.raises(ValueError, match="dim"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="dim"):
        D.LKJCholesky(2.5)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, tl.tensor([-1.0]), validate_args=True)
    assert D.LKJCholesky(3, tl.ones(2)).expand((4, 2)).sample().shape == (4, 2, 3, 3)
