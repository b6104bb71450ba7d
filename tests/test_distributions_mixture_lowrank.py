"""MixtureSameFamily and LowRankMultivariateNormal against torch.distributions in float64 on the same f16
parameters: log_prob, cdf, mean, variance, entropy, the matrices and gradients; mixture draws by the DKW bound (false
failure 1e-8), low-rank draws by their sample covariance."""

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest, host
from stat_checks import Z, assert_cdf

D, TD = tl.distributions, torch.distributions


def _f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


def test_mixture_of_normals_against_torch(device, rng):
    logits, loc, scale = _f16(rng.standard_normal((2, 3))), _f16(rng.standard_normal((2, 3))), _f16(
        rng.uniform(0.5, 1.5, (2, 3)))
    ours_p = [tl.tensor(v, device=device, requires_grad=True) for v in (logits, loc, scale)]
    theirs_p = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in (logits, loc, scale)]
    ours = D.MixtureSameFamily(D.Categorical(logits=ours_p[0]), D.Normal(ours_p[1], ours_p[2]))
    theirs = TD.MixtureSameFamily(TD.Categorical(logits=theirs_p[0]), TD.Normal(theirs_p[1], theirs_p[2]))
    assert ours.batch_shape == (2,) and ours.event_shape == ()
    x = _f16(rng.uniform(-3, 3, (4, 2)))
    lp, ref = ours.log_prob(tl.tensor(x, device=device)), theirs.log_prob(torch.tensor(x.astype(np.float64)))
    assert_close_to_largest(lp, ref.detach().numpy(), ulps=8)
    assert_close_f16(ours.cdf(tl.tensor(x, device=device)), theirs.cdf(torch.tensor(x.astype(np.float64)))
                     .detach().numpy())
    assert_close_to_largest(ours.mean, theirs.mean.detach().numpy(), ulps=8)
    assert_close_to_largest(ours.variance, theirs.variance.detach().numpy(), ulps=8)
    lp.sum().backward()
    ref.sum().backward()
    for o, t in zip(ours_p, theirs_p):
        assert_close_to_largest(o.grad, t.grad.numpy(), ulps=16)
    assert ours.expand((3, 2)).sample().shape == (3, 2)


def test_mixture_draws_follow_the_mixture_cdf():
    """A mixture of two well separated Normals (weights 0.3, 0.7): its draws against the mixture's CDF."""
    n = 3000
    weights, locs, scales = [0.3, 0.7], [-2.0, 3.0], [0.5, 1.0]
    ours = D.MixtureSameFamily(D.Categorical(tl.tensor(weights)), D.Normal(tl.tensor(locs), tl.tensor(scales)))
    theirs = TD.MixtureSameFamily(TD.Categorical(torch.tensor(_f16(weights).astype(np.float64))),
                                  TD.Normal(torch.tensor(locs, dtype=torch.float64),
                                            torch.tensor(scales, dtype=torch.float64)))
    assert_cdf(host(ours.sample((n,))), lambda x: theirs.cdf(torch.tensor(x)).numpy(), "mixture")


def test_mixture_of_multivariate_components(device, rng):
    """Components with an event dimension (Independent Normals over 3 coordinates): shapes, log_prob, sample."""
    loc = _f16(rng.standard_normal((4, 3)))
    ours = D.MixtureSameFamily(D.Categorical(tl.ones(4, device=device)),
                               D.Independent(D.Normal(tl.tensor(loc, device=device), 1.0), 1))
    theirs = TD.MixtureSameFamily(TD.Categorical(torch.ones(4, dtype=torch.float64)),
                                  TD.Independent(TD.Normal(torch.tensor(loc.astype(np.float64)), 1.0), 1))
    assert ours.batch_shape == () and ours.event_shape == (3,)
    x = _f16(rng.standard_normal((5, 3)))
    assert_close_to_largest(ours.log_prob(tl.tensor(x, device=device)),
                            theirs.log_prob(torch.tensor(x.astype(np.float64))).numpy(), ulps=8)
    assert ours.sample((6,)).shape == (6, 3)
    assert_close_to_largest(ours.variance, theirs.variance.numpy(), ulps=8)


def test_mixture_argument_errors():
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(tl.zeros(3), 1.0))
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(tl.ones(2)), D.Normal(tl.zeros(3), 1.0))
    with pytest.raises(ValueError, match="not compatible"):
        D.MixtureSameFamily(D.Categorical(tl.ones(4, 3)), D.Normal(tl.zeros(2, 3), 1.0))


def _lowrank(rng, device, batch=(2,), d=4, r=2):
    loc, factor = _f16(rng.standard_normal(batch + (d,))), _f16(rng.standard_normal(batch + (d, r)) * 0.7)
    diag = _f16(rng.uniform(0.3, 1.5, batch + (d,)))
    ours_p = [tl.tensor(v, device=device, requires_grad=True) for v in (loc, factor, diag)]
    theirs_p = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in (loc, factor, diag)]
    return D.LowRankMultivariateNormal(*ours_p), TD.LowRankMultivariateNormal(*theirs_p), ours_p, theirs_p


def test_lowrank_against_torch(device, rng):
    ours, theirs, ours_p, theirs_p = _lowrank(rng, device)
    assert ours.batch_shape == (2,) and ours.event_shape == (4,)
    x = _f16(rng.standard_normal((3, 2, 4)))
    lp, ref = ours.log_prob(tl.tensor(x, device=device)), theirs.log_prob(torch.tensor(x.astype(np.float64)))
    assert_close_to_largest(lp, ref.detach().numpy(), ulps=16)
    assert_close_to_largest(ours.entropy(), theirs.entropy().detach().numpy(), ulps=16)
    for name in ("variance", "covariance_matrix", "precision_matrix", "scale_tril"):
        assert_close_to_largest(getattr(ours, name), getattr(theirs, name).detach().numpy(), ulps=32)
    (lp.sum() + ours.entropy().sum()).backward()
    (ref.sum() + theirs.entropy().sum()).backward()
    # the gradients are differences of terms of size (x - loc)^2 / D^2 (Woodbury's two parts), summed over the draws:
    # f16 rounds each to 2^-11 of that size
    with torch.no_grad():
        r = (torch.tensor(x.astype(np.float64)) - theirs_p[0]) / theirs_p[2]
        scale = float((r.square() + r.abs()).sum(0).max() + (1 / theirs_p[2]).max())
    for o, t in zip(ours_p, theirs_p):
        assert_close_f16(o.grad, t.grad.numpy(), rtol=4e-3, atol=16 * 2 ** -11 * scale)
    draw = ours.rsample((5,))
    assert draw.shape == (5, 2, 4) and draw.requires_grad
    assert ours.expand((3, 2)).sample().shape == (3, 2, 4)


def test_lowrank_draws_have_its_covariance():
    """The sample covariance of 20000 draws within Z standard errors (stat_checks) of W W^T + D (the entries'
    standard errors from Gaussian fourth moments: var(x_i x_j) = S_ii S_jj + S_ij^2)."""
    n = 20000
    w, diag = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]), np.array([0.5, 0.25, 1.0])
    draws = host(D.LowRankMultivariateNormal(tl.zeros(3), tl.tensor(w), tl.tensor(diag)).sample((n,)))
    cov = w @ w.T + np.diag(diag)
    sample = np.cov(draws.astype(np.float64).T)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / n)
    assert (np.abs(sample - cov) <= Z * se + 2e-3).all()


def test_lowrank_argument_errors():
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.LowRankMultivariateNormal(tl.tensor(0.0), tl.zeros(1, 1), tl.ones(1))
    with pytest.raises(tl.ShapeMismatchError, match="cov_factor"):
        D.LowRankMultivariateNormal(tl.zeros(3), tl.zeros(4, 2), tl.ones(3))
    with pytest.raises(tl.ShapeMismatchError, match="cov_diag"):
        D.LowRankMultivariateNormal(tl.zeros(3), tl.zeros(3, 2), tl.ones(4))
    with pytest.raises(ValueError, match="cov_diag"):
        D.LowRankMultivariateNormal(tl.zeros(3), tl.zeros(3, 2), -tl.ones(3), validate_args=True)
    with pytest.raises(TypeError, match="cov_factor must be a tensor"):
        D.LowRankMultivariateNormal(tl.zeros(3), [[1.0]], tl.ones(3))
