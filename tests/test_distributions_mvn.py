"""tl.distributions.MultivariateNormal against torch.distributions in float64 on the same f16-rounded parameters,
for each of its three parametrisations: log_prob, entropy, the matrices and moments, gradients of log_prob (the
covariance's and precision's symmetric, as PyTorch's), KL between two, rsample's gradient, sample moments on
every device, and argument errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest, host
from stat_checks import Z, assert_mean_within

D, TD = tl.distributions, torch.distributions
KINDS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _spd(rng, *shape):
    m = rng.standard_normal(shape + (shape[-1],))
    return m @ np.swapaxes(m, -1, -2) / shape[-1] + 0.5 * np.eye(shape[-1])


def _pair(rng, device, kind, batch=(3,), d=4, grad=True):
    """The same distribution (f16 parameters: loc [*batch, d], one matrix [d, d] broadcast over the batch) in
    TensorLogic on device and in torch in float64, with their parameter tensors."""
    loc = rng.standard_normal(batch + (d,)).astype(np.float16)
    matrix = _spd(rng, d)
    if kind == "scale_tril":
        matrix = np.linalg.cholesky(matrix)
    matrix = matrix.astype(np.float16)
    ours_p = [tl.tensor(a, device=device, requires_grad=grad) for a in (loc, matrix)]
    theirs_p = [torch.tensor(a.astype(np.float64), requires_grad=grad) for a in (loc, matrix)]
    return (D.MultivariateNormal(ours_p[0], **{kind: ours_p[1]}),
            TD.MultivariateNormal(theirs_p[0], **{kind: theirs_p[1]}), ours_p, theirs_p)


@pytest.mark.parametrize("kind", KINDS)
def test_against_torch(device, rng, kind):
    ours, theirs, ours_p, theirs_p = _pair(rng, device, kind)
    assert ours.batch_shape == (3,) and ours.event_shape == (4,) and ours.has_rsample
    value = rng.standard_normal((5, 3, 4)).astype(np.float16)
    lp, ref = ours.log_prob(tl.tensor(value, device=device)), theirs.log_prob(torch.tensor(value.astype(np.float64)))
    assert lp.shape == (5, 3)
    # the Mahalanobis term is a sum of squares of substitution results, each a few f16 roundings deep
    assert_close_to_largest(lp, ref.detach().numpy(), ulps=16)
    assert_close_to_largest(ours.entropy(), theirs.entropy().detach().numpy(), ulps=8)
    for name in ("mean", "mode", "variance", "covariance_matrix", "precision_matrix", "scale_tril"):
        got, want = getattr(ours, name), getattr(theirs, name).detach().numpy()
        assert tuple(got.shape) == want.shape, name
        assert_close_to_largest(got, want, ulps=16)
    lp.sum().backward()
    ref.sum().backward()
    for o, t in zip(ours_p, theirs_p):
        assert_close_to_largest(o.grad, t.grad.numpy(), ulps=32)


def test_kl_divergence(device, rng):
    p, theirs_p, p_params, theirs_params = _pair(rng, device, "covariance_matrix")
    q, theirs_q, _, _ = _pair(rng, device, "scale_tril", grad=False)
    ours, ref = D.kl_divergence(p, q), TD.kl_divergence(theirs_p, theirs_q)
    assert ours.shape == (3,)
    assert_close_to_largest(ours, ref.detach().numpy(), ulps=16)
    ours.sum().backward()
    ref.sum().backward()
    for o, t in zip(p_params, theirs_params):
        assert_close_to_largest(o.grad, t.grad.numpy(), ulps=32)


def test_rsample_gradient(device, rng):
    """x = loc + L eps: d(sum x)/d loc is the number of draws, d(sum x)/dL[i, j] the sum of eps_j (the
    whole of L: L @ eps reads both triangles, as in PyTorch)."""
    loc = tl.tensor(rng.standard_normal(3).astype(np.float16), device=device, requires_grad=True)
    tril = tl.tensor(np.linalg.cholesky(_spd(rng, 3)).astype(np.float16), device=device, requires_grad=True)
    dist = D.MultivariateNormal(loc, scale_tril=tril)
    x = dist.rsample((6,))
    assert x.shape == (6, 3) and x.requires_grad
    x.sum().backward()
    eps = np.linalg.solve(host(tril).astype(np.float64), (host(x.detach()) - host(loc.detach())).astype(np.float64).T)
    assert_close_f16(loc.grad, np.full(3, 6.0))
    assert_close_to_largest(tril.grad, np.broadcast_to(eps.sum(1), (3, 3)), ulps=16)


def test_sample_moments(device, rng):
    """20000 draws: the mean and each entry of the covariance within Z standard errors (stat_checks: a false
    failure with probability 1e-7 each), plus f16's rounding of the parameters and the draws."""
    n = 20000
    cov = _spd(rng, 3).astype(np.float16)
    loc = np.array([1.0, -2.0, 0.5], np.float16)
    draws = D.MultivariateNormal(tl.tensor(loc, device=device), tl.tensor(cov, device=device)).sample((n,))
    assert draws.shape == (n, 3) and not draws.requires_grad
    x = host(draws).astype(np.float64)
    cov = cov.astype(np.float64)
    assert_mean_within(x, loc, np.sqrt(np.diag(cov)), atol=1e-3)
    variances = np.diag(cov)
    standard_errors = np.sqrt((np.outer(variances, variances) + cov**2) / n)  # of a Gaussian sample covariance
    gap = np.abs(np.cov(x.T) - cov) - (Z * standard_errors + 2e-3 * np.abs(cov).max())
    assert gap.max() <= 0, (np.cov(x.T), cov)


def test_argument_errors():
    loc, eye = tl.zeros(2), tl.eye(2)
    for make, error in ((lambda: D.MultivariateNormal(loc), ValueError),
                        (lambda: D.MultivariateNormal(loc, eye, scale_tril=eye), ValueError),
                        (lambda: D.MultivariateNormal(tl.tensor(0.0), eye), ValueError),
                        (lambda: D.MultivariateNormal(loc, tl.ones(2)), ValueError),
                        (lambda: D.MultivariateNormal(loc, tl.eye(3)), tl.ShapeMismatchError),
                        (lambda: D.MultivariateNormal(tl.zeros(3, 2), tl.eye(2).expand(2, 2, 2)), ValueError),
                        (lambda: D.MultivariateNormal(loc, tl.tensor([[1.0, 2.0], [2.0, 1.0]])),
                         tl.linalg.LinAlgError),
                        (lambda: D.MultivariateNormal(loc, scale_tril=-eye, validate_args=True), ValueError),
                        (lambda: D.MultivariateNormal([0.0, 0.0], eye), TypeError),
                        (lambda: D.MultivariateNormal(loc, [[1.0, 0.0], [0.0, 1.0]]), TypeError)):
        with pytest.raises(error):
            make()
    batched = D.MultivariateNormal(tl.zeros(4, 1, 2), tl.eye(2).expand(3, 2, 2))
    assert batched.batch_shape == (4, 3) and batched.sample((5,)).shape == (5, 4, 3, 2)
