"""rsample of Gamma, Beta and Dirichlet (implicit reparameterisation) and the Dirichlet and Chi2 families: the
gradient of each draw against PyTorch's (_standard_gamma_grad, _dirichlet_grad at our draws) and against an
independent float64 derivative of the Gamma CDF (torch.special.gammainc), the mean gradient against the derivative of
the mean (a statistical bound), the draws by the DKW inequality, values against torch.distributions.

Statistical bounds (stat_checks): DKW's P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) holds for every n, and means of
gradients stay within Z standard errors; each fails by chance with probability at most 1e-7."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest, host
from stat_checks import assert_cdf, assert_mean_within

D, TD = tl.distributions, torch.distributions
def _gamma_grad_by_cdf(alpha, x):
    """dx/dalpha = -(dP/dalpha) / pdf in float64, P by torch.special.gammainc, dP/dalpha by a central difference
    (step 1e-5 alpha: truncation and rounding both far below f16's 2^-11)."""
    a, v = torch.tensor(alpha, dtype=torch.float64), torch.tensor(x, dtype=torch.float64)
    h = 1e-5 * a
    dp = (torch.special.gammainc(a + h, v) - torch.special.gammainc(a - h, v)) / (2 * h)
    log_pdf = (a - 1) * v.log() - v - torch.lgamma(a)
    return (-dp / log_pdf.exp()).numpy()


def test_gamma_rsample_gradient_per_draw(device, rng):
    alpha = np.exp(rng.uniform(np.log(0.05), np.log(50), 300)).astype(np.float16)
    a = tl.tensor(alpha, device=device, requires_grad=True)
    x = D.Gamma(a, 1.0).rsample()
    assert x.shape == (300,) and x.requires_grad
    x.sum().backward()
    drawn, grad = host(x.detach()).astype(np.float64), host(a.grad).astype(np.float64)
    a64 = alpha.astype(np.float64)
    # ours is the derivative at the float64 draw, the oracles' at its f16 rounding (2^-11 away: the derivative moves
    # by about as much, relatively) and f16 rounds ours once more. Draws clamped up to 2^-14 fell below it: theirs is
    # the derivative at 2^-14, ours that at the draw, smaller (the derivative grows with x there)
    clamped = drawn == 2.0 ** -14
    expected = _gamma_grad_by_cdf(a64, drawn)
    assert (np.abs(grad[clamped]) <= np.abs(expected[clamped]) + 1e-4).all()
    assert_close_f16(grad[~clamped], expected[~clamped], rtol=2e-3, atol=1e-4)
    # PyTorch's own approximation is within ~1e-3 of the exact derivative
    theirs = torch._standard_gamma_grad(torch.tensor(a64), torch.tensor(drawn)).numpy()
    assert_close_f16(grad[~clamped], theirs[~clamped], rtol=4e-3, atol=1e-4)


def test_gamma_rsample_rate_and_broadcast(device, rng):
    alpha = rng.uniform(0.5, 4, (3, 1)).astype(np.float16)
    rate = rng.uniform(0.5, 2, 4).astype(np.float16)
    a = tl.tensor(alpha, device=device, requires_grad=True)
    r = tl.tensor(rate, device=device, requires_grad=True)
    x = D.Gamma(a, r).rsample((5,))
    assert x.shape == (5, 3, 4)
    x.sum().backward()
    drawn = host(x.detach()).astype(np.float64)
    r64 = rate.astype(np.float64)
    assert_close_to_largest(r.grad, (-drawn / r64).sum((0, 1)), ulps=8)  # x = g / rate
    standard = drawn * r64  # the standard draw g (within f16's rounding of x)
    expected = _gamma_grad_by_cdf(np.broadcast_to(alpha.astype(np.float64), standard.shape), standard) / r64
    assert_close_to_largest(a.grad, expected.sum((0, 2))[:, None], ulps=8)


@pytest.mark.parametrize("k", [2, 4])
def test_dirichlet_rsample_gradient_per_draw(device, rng, k):
    alpha = np.exp(rng.uniform(np.log(0.1), np.log(20), (50, k))).astype(np.float16)
    w = rng.standard_normal((50, k)).astype(np.float16)
    a = tl.tensor(alpha, device=device, requires_grad=True)
    x = D.Dirichlet(a).rsample()
    assert x.shape == (50, k)
    (x * tl.tensor(w, device=device)).sum().backward()
    drawn, a64, w64 = host(x.detach()).astype(np.float64), alpha.astype(np.float64), w.astype(np.float64)
    # PyTorch's field: dL/dalpha_j = D_j (w_j - sum_i x_i w_i), D = _dirichlet_grad (its approximation: ~3e-3).
    # Ours is taken at the float64 draw: rows with a coordinate clamped to [2^-14, 1 - 2^-11] are left out
    grad = torch._dirichlet_grad(torch.tensor(drawn), torch.tensor(a64), torch.tensor(a64.sum(-1, keepdims=True)))
    expected = grad.numpy() * (w64 - (drawn * w64).sum(-1, keepdims=True))
    scale = np.abs(grad.numpy()) * (np.abs(w64) + np.abs(drawn * w64).sum(-1, keepdims=True))
    err = np.abs(host(a.grad).astype(np.float64) - expected)
    inside = ((drawn > 2.0 ** -14) & (drawn < 1 - 2.0 ** -11)).all(-1)
    assert inside.sum() >= 10
    bad = (err > 8e-3 * scale + 1e-4) & inside[:, None]
    assert not bad.any(), f"worst {np.max(err - 8e-3 * scale)}"


def test_beta_rsample_gradients_per_draw(device, rng):
    c1, c0 = (np.exp(rng.uniform(np.log(0.1), np.log(20), 200)).astype(np.float16) for _ in range(2))
    a, b = (tl.tensor(c, device=device, requires_grad=True) for c in (c1, c0))
    x = D.Beta(a, b).rsample()
    x.sum().backward()
    drawn = host(x.detach()).astype(np.float64)
    pair = torch.tensor(np.stack([c1, c0], -1).astype(np.float64))
    values = torch.tensor(np.stack([drawn, 1 - drawn], -1))
    d = torch._dirichlet_grad(values, pair, pair.sum(-1, keepdim=True)).numpy()
    # x = x_0 of Dirichlet(a, b): dx/da = D_0 (1 - x), dx/db = -D_1 x. Ours are at the float64 draw, which 1 - x
    # (x rounded to f16) matches only where x is not near 1, and x itself where it was not clamped up to 2^-14:
    # compared where 2^-14 < x <= 3/4
    near = (drawn <= 0.75) & (drawn > 2.0 ** -14)
    assert near.sum() > 20
    assert_close_f16(host(a.grad)[near], (d[:, 0] * (1 - drawn))[near], rtol=4e-3, atol=1e-4)
    assert_close_f16(host(b.grad)[near], (-d[:, 1] * drawn)[near], rtol=4e-3, atol=1e-4)


def _mean_within(samples, expected, what):
    """The mean of per-draw gradients within stat_checks' Z standard errors (estimated from the draws; the gradients
    of these parameters are bounded), plus 2e-3 of it for f16's rounding of each gradient."""
    assert_mean_within(samples, expected, samples.std(0, ddof=1), atol=2e-3 * np.abs(expected) + 1e-4)


def _per_draw(make, params, n, coordinate=None):
    """The gradients of n draws, each with respect to its own copy of the parameters (rows): the parameters are
    a leaf of n identical rows, so row i of its gradient is draw i's."""
    p = tl.tensor(np.tile(np.float16(params), (n, 1)), requires_grad=True)
    draws = make(p).rsample()
    (draws if coordinate is None else draws[:, coordinate]).sum().backward()
    return host(p.grad).astype(np.float64)


def test_rsample_gradients_in_distribution():
    """E[dx/dtheta] = dE[x]/dtheta over 4000 draws: Gamma (E x = a / r), Beta (E x = a / (a + b)) and Dirichlet
    (E x_0 = a_0 / a0, a0 the sum): the field is right on average, not only PyTorch's at each draw."""
    n = 4000
    a = np.float16([0.7, 3.0]).astype(np.float64)
    _mean_within(_per_draw(lambda p: D.Gamma(p, 2.0), a, n), np.full(2, 0.5), "Gamma")
    _mean_within(_per_draw(lambda p: D.Beta(p, 2.5), [0.6, 4.0], n),
                 2.5 / (np.float16([0.6, 4.0]).astype(np.float64) + 2.5) ** 2, "Beta")
    alpha = np.float16([0.5, 2.0, 3.5]).astype(np.float64)
    a0 = alpha.sum()
    _mean_within(_per_draw(lambda p: D.Dirichlet(p), alpha, n, coordinate=0),
                 (np.eye(3)[0] * a0 - alpha[0]) / a0 ** 2, "Dirichlet")


def test_second_derivative_raises_as_torch():
    a = tl.tensor([0.5, 2.0], requires_grad=True)
    (g,) = tl.autograd.grad(D.Gamma(a, 1.0).rsample().sum(), a, create_graph=True)
    with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
        g.sum().backward()
    c = tl.tensor([[0.5, 2.0, 1.0]], requires_grad=True)
    (g,) = tl.autograd.grad(D.Dirichlet(c).rsample()[..., 0].sum(), c, create_graph=True)
    with pytest.raises(NotImplementedError, match="_dirichlet_grad"):
        g.sum().backward()


def test_draws_follow_their_cdfs(rng):
    """Gamma draws (rsample and sample) against torch.special.gammainc; Beta(2, 3) against its CDF, the polynomial
    I_x(2, 3) = 6x^2 - 8x^3 + 3x^4; Dirichlet's marginals are Betas (x_0 of Dirichlet(2, 1, 2) is Beta(2, 3))."""
    n = 3000
    alpha = np.float16([0.3, 4.0])
    for draws in (D.Gamma(tl.tensor(alpha), 1.0).sample((n,)), D.Gamma(tl.tensor(alpha), 1.0).rsample((n,))):
        for j in range(2):
            assert_cdf(host(draws.detach())[:, j], lambda x: torch.special.gammainc(
                torch.tensor(float(alpha[j]), dtype=torch.float64), torch.tensor(x)).numpy(), f"Gamma({alpha[j]})",
                low=2.0 ** -14)
    beta_cdf = lambda x: 6 * x ** 2 - 8 * x ** 3 + 3 * x ** 4  # noqa: E731
    assert_cdf(host(D.Beta(2.0, 3.0).rsample((n,))), beta_cdf, "Beta(2, 3)", low=2.0 ** -14)
    assert_cdf(host(D.Dirichlet(tl.tensor([2.0, 1.0, 2.0])).sample((n,)))[:, 0], beta_cdf, "Dirichlet",
                     low=2.0 ** -14)


def test_small_concentrations_draw_finite_simplex_points():
    """Gamma draws of concentration 0.01 mostly underflow float64: they normalise in log space (0 / 0 before)."""
    x = host(D.Dirichlet(tl.full((3,), 0.01)).sample((200,)))
    assert np.isfinite(x).all() and (np.abs(x.sum(-1) - 1) <= 2e-3).all()
    assert np.isfinite(host(D.Beta(0.01, 0.01).rsample((200,)))).all()


@pytest.mark.parametrize("k", [1, 3])
def test_dirichlet_against_torch(device, rng, k):
    alpha = rng.uniform(0.3, 5, (4, k)).astype(np.float16)
    ours_a = tl.tensor(alpha, device=device, requires_grad=True)
    theirs_a = torch.tensor(alpha.astype(np.float64), requires_grad=True)
    ours, theirs = D.Dirichlet(ours_a), TD.Dirichlet(theirs_a, validate_args=False)  # (f16 sums are not 1 +- 1e-6)
    assert ours.batch_shape == (4,) and ours.event_shape == (k,)
    value = rng.dirichlet(np.ones(k), (2, 4)).astype(np.float16)
    lp = ours.log_prob(tl.tensor(value, device=device))
    ref = theirs.log_prob(torch.tensor(value.astype(np.float64)))
    # sums of lgamma and x log terms: within 8 ulps of the largest term
    with torch.no_grad():
        scale = float((torch.lgamma(theirs_a).abs().sum(-1) + torch.lgamma(theirs_a.sum(-1)).abs()).max()) + 10
    assert_close_f16(lp, ref.detach().numpy(), atol=8 * 2 ** -11 * scale)
    assert_close_f16(ours.entropy(), theirs.entropy().detach().numpy(), atol=8 * 2 ** -11 * scale)
    for name in ("mean", "variance", "mode"):
        assert_close_f16(getattr(ours, name), getattr(theirs, name).detach().numpy())
    (lp.sum() + ours.entropy().sum()).backward()
    (ref.sum() + theirs.entropy().sum()).backward()
    with torch.no_grad():  # the gradient's terms: digamma and trigamma products, of which it is a difference
        a0 = theirs_a.sum(-1, keepdim=True)
        terms = (theirs_a.digamma().abs() + a0.digamma().abs() + ((theirs_a - 1) * theirs_a.polygamma(1)).abs()
                 + ((a0 - k) * a0.polygamma(1)).abs() + 2 * torch.tensor(value.astype(np.float64)).log().abs().sum(0))
    assert_close_f16(ours_a.grad, theirs_a.grad.numpy(), atol=8 * 2 ** -11 * float(terms.max()))
    other = rng.uniform(0.3, 5, (4, k)).astype(np.float16)
    kl = D.kl_divergence(ours, D.Dirichlet(tl.tensor(other, device=device)))
    other64 = torch.tensor(other.astype(np.float64))
    kl_scale = scale + float((torch.lgamma(other64).abs().sum(-1) + torch.lgamma(other64.sum(-1)).abs()).max())
    assert_close_f16(kl, TD.kl_divergence(theirs, TD.Dirichlet(other64)).detach().numpy(),
                     atol=8 * 2 ** -11 * kl_scale)
    assert ours.sample((3,)).shape == (3, 4, k) and ours.expand((2, 4)).sample().shape == (2, 4, k)


def test_dirichlet_mode_where_every_concentration_is_below_one():
    alpha = [[0.5, 0.3, 0.9], [0.5, 2.0, 5.0], [0.5, 0.5, 0.2]]
    np.testing.assert_allclose(host(D.Dirichlet(tl.tensor(alpha)).mode),
                               TD.Dirichlet(torch.tensor(alpha)).mode.numpy(), atol=1e-3)


def test_chi2_against_torch(device, rng):
    df = rng.uniform(0.5, 10, 5).astype(np.float16)
    ours, theirs = D.Chi2(tl.tensor(df, device=device)), TD.Chi2(torch.tensor(df.astype(np.float64)))
    value = rng.uniform(0.1, 10, 5).astype(np.float16)
    assert_close_to_largest(ours.log_prob(tl.tensor(value, device=device)),
                            theirs.log_prob(torch.tensor(value.astype(np.float64))).numpy(), ulps=8)
    assert_close_f16(ours.mean, theirs.mean.numpy())
    assert_close_f16(ours.variance, theirs.variance.numpy())
    assert isinstance(ours, D.Gamma) and ours.expand((2, 5)).df.shape == (2, 5)
    assert ours.rsample((2,)).shape == (2, 5)


def test_argument_errors():
    with pytest.raises(ValueError, match="concentration"):
        D.Dirichlet(tl.tensor([1.0, -1.0]), validate_args=True)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Dirichlet(tl.tensor(1.0))
    with pytest.raises(TypeError, match="Dirichlet: concentration must be a tensor"):
        D.Dirichlet([1.0, 2.0])
    with pytest.raises(ValueError, match="support"):
        D.Dirichlet(tl.ones(3), validate_args=True).log_prob(tl.tensor([0.5, 0.6, 0.1]))
    with pytest.raises(tl.ShapeMismatchError):
        D.Dirichlet(tl.ones(3), validate_args=True).log_prob(tl.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="df"):
        D.Chi2(tl.tensor([-1.0]), validate_args=True)


def test_gamma_cdf_against_torch(device, rng):
    """P(a, rate x) computed in float64 against torch.special.gammainc, its gradient in rate (the density) against
    PyTorch's; in the concentration it raises, as gammainc's. InverseGamma's cdf goes through it."""
    a = _f16_array(np.exp(rng.uniform(np.log(0.1), np.log(30), 6)))
    rate, value = _f16_array(rng.uniform(0.3, 3, 6)), _f16_array(rng.uniform(0.05, 3, (2, 6)) * a)
    ours_r = tl.tensor(rate, device=device, requires_grad=True)
    theirs_r = torch.tensor(rate.astype(np.float64), requires_grad=True)
    cdf = D.Gamma(tl.tensor(a, device=device), ours_r).cdf(tl.tensor(value, device=device))
    ref = TD.Gamma(torch.tensor(a.astype(np.float64)), theirs_r).cdf(torch.tensor(value.astype(np.float64)))
    assert_close_f16(cdf, ref.detach().numpy(), rtol=4e-3, atol=1e-3)  # (rate value rounds once in f16)
    cdf.sum().backward()
    ref.sum().backward()
    # each term value pdf(rate value): f16's rounding of x = rate value moves the density by (a - 1 - x) of 2^-11
    with torch.no_grad():
        x = theirs_r * torch.tensor(value.astype(np.float64))
        a64 = torch.tensor(a.astype(np.float64))
        terms = torch.tensor(value.astype(np.float64)) * ((a64 - 1) * x.log() - x - a64.lgamma()).exp()
        bound = (terms.abs() * 2.0 ** -10 * ((a64 - 1 - x).abs() + 4)).sum(0).numpy() + 1e-3
    assert (np.abs(host(ours_r.grad).astype(np.float64) - theirs_r.grad.numpy()) <= bound).all()
    inverse = D.InverseGamma(tl.tensor(a, device=device), tl.tensor(rate, device=device))
    theirs_inverse = TD.InverseGamma(torch.tensor(a.astype(np.float64)), torch.tensor(rate.astype(np.float64)))
    assert_close_f16(inverse.cdf(tl.tensor(value, device=device)),
                     theirs_inverse.cdf(torch.tensor(value.astype(np.float64))).numpy(), rtol=4e-3, atol=2e-3)
    concentration = tl.tensor(a, device=device, requires_grad=True)
    with pytest.raises(NotImplementedError, match="first argument"):
        D.Gamma(concentration, 1.0).cdf(tl.tensor(value, device=device)).sum().backward()


def _f16_array(x):
    return np.asarray(x, np.float64).astype(np.float16)
