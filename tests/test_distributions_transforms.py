"""tl.distributions.transforms, TransformedDistribution, constraints, biject_to/transform_to and expand against
torch.distributions in float64 on the same f16 inputs: forward maps, inverses, log-Jacobians and their gradients,
the one-entry cache (a tanh-squashed draw keeps its log-density where tanh rounds to 1), shapes, argument errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest, host

D, TD = tl.distributions, torch.distributions
T, TT = D.transforms, torch.distributions.transforms


def _both(make_ours, make_theirs, values):
    """Our transform (parameters as f16 tensors), PyTorch's (float64) and the input as both."""
    return make_ours(), make_theirs(), values


def _t(x, device, grad=False):
    return tl.tensor(np.asarray(x, np.float16), device=device, requires_grad=grad)


def _p(x, grad=False):
    return torch.tensor(np.asarray(x, np.float16).astype(np.float64), requires_grad=grad)


# name: (ours(device, params), theirs(params), params (f16 arrays), input sampler over the domain)
def _cases(rng):
    u = rng.uniform
    scale = u(0.5, 2, 4) * np.where(u(size=4) < 0.5, -1, 1)
    return {
        "exp": (lambda d, p: T.ExpTransform(), lambda p: TT.ExpTransform(), {}, u(-3, 3, (3, 4))),
        "sigmoid": (lambda d, p: T.SigmoidTransform(), lambda p: TT.SigmoidTransform(), {}, u(-5, 5, (3, 4))),
        "softplus": (lambda d, p: T.SoftplusTransform(), lambda p: TT.SoftplusTransform(), {}, u(-4, 4, (3, 4))),
        "tanh": (lambda d, p: T.TanhTransform(), lambda p: TT.TanhTransform(), {}, u(-2.5, 2.5, (3, 4))),
        "affine": (lambda d, p: T.AffineTransform(_t(p["loc"], d), _t(p["scale"], d)),
                   lambda p: TT.AffineTransform(_p(p["loc"]), _p(p["scale"])),
                   {"loc": u(-1, 1, 4), "scale": scale}, u(-2, 2, (3, 4))),
        "affine_event": (lambda d, p: T.AffineTransform(_t(p["loc"], d), _t(p["scale"], d), event_dim=1),
                         lambda p: TT.AffineTransform(_p(p["loc"]), _p(p["scale"]), event_dim=1),
                         {"loc": u(-1, 1, 4), "scale": scale}, u(-2, 2, (3, 4))),
        "power": (lambda d, p: T.PowerTransform(_t(p["exponent"], d)),
                  lambda p: TT.PowerTransform(_p(p["exponent"])), {"exponent": u(0.5, 2, 4)}, u(0.2, 3, (3, 4))),
        "stick_breaking": (lambda d, p: T.StickBreakingTransform(), lambda p: TT.StickBreakingTransform(), {},
                           u(-2, 2, (3, 4))),
        "corr_cholesky": (lambda d, p: T.CorrCholeskyTransform(), lambda p: TT.CorrCholeskyTransform(), {},
                          u(-1.5, 1.5, (3, 6))),
        "compose": (lambda d, p: T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform()]),
                    lambda p: TT.ComposeTransform([TT.AffineTransform(0.5, 2.0), TT.ExpTransform()]), {},
                    u(-1, 1, (3, 4))),
        "independent": (lambda d, p: T.IndependentTransform(T.SigmoidTransform(), 2),
                        lambda p: TT.IndependentTransform(TT.SigmoidTransform(), 2), {}, u(-3, 3, (3, 4))),
        "cat": (lambda d, p: T.CatTransform([T.ExpTransform(), T.TanhTransform()], dim=1, lengths=[3, 1]),
                lambda p: TT.CatTransform([TT.ExpTransform(), TT.TanhTransform()], dim=1, lengths=[3, 1]), {},
                u(-2, 2, (3, 4))),
        "stack": (lambda d, p: T.StackTransform([T.ExpTransform(), T.SoftplusTransform(), T.SigmoidTransform()], 0),
                  lambda p: TT.StackTransform([TT.ExpTransform(), TT.SoftplusTransform(), TT.SigmoidTransform()], 0),
                  {}, u(-2, 2, (3, 4))),
    }


@pytest.mark.parametrize("name", ["exp", "sigmoid", "softplus", "tanh", "affine", "affine_event", "power",
                                  "stick_breaking", "corr_cholesky", "compose", "independent", "cat", "stack"])
def test_transform_against_torch(device, rng, name):
    make_ours, make_theirs, params, x = _cases(rng)[name]
    ours, theirs = make_ours(device, params), make_theirs(params)
    xo, xt = _t(x, device, grad=True), _p(x, grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape) == ours.forward_shape(xo.shape)
    assert ours.inverse_shape(yo.shape) == xo.shape
    assert_close_f16(yo, yt.detach().numpy(), rtol=4e-3, atol=2e-3)
    assert ours.domain.event_dim == theirs.domain.event_dim and ours.codomain.event_dim == theirs.codomain.event_dim
    assert ours.bijective == theirs.bijective
    # the inverse of our own output (f16) against PyTorch's inverse of the same values; for stick breaking against
    # x itself: f16's y is off the simplex by its rounding, and PyTorch's inverse (1 - cumsum(y)) cancels that to
    # nothing near the stick's end, ours (the sum of the pieces left) does not
    back = ours.inv(yo.detach())
    theirs_back = theirs.inv(torch.tensor(host(yo.detach()).astype(np.float64))).numpy()
    assert_close_to_largest(back, x if name == "stick_breaking" else theirs_back, ulps=16)
    ladj, ref = ours.log_abs_det_jacobian(xo, yo), theirs.log_abs_det_jacobian(xt, yt)
    assert ladj.shape == tuple(ref.shape)
    assert_close_to_largest(ladj, ref.detach().numpy(), ulps=16)
    (ladj.sum() + yo.sum()).backward()
    (ref.sum() + yt.sum()).backward()
    assert_close_to_largest(xo.grad, xt.grad.numpy(), ulps=16)


def test_structured_transforms_against_torch(device, rng):
    # diagonals of exp(-1/2)..exp(1/2) and small off-diagonals: L L^T well conditioned, so that the inverse of its
    # f16 rounding (a Cholesky factorisation) stays within f16's rounding of L
    x = (np.tril(rng.uniform(-0.5, 0.5, (2, 3, 3)), -1) + np.triu(rng.standard_normal((2, 3, 3)), 1)
         + np.eye(3) * rng.uniform(-0.5, 0.5, (2, 1, 3))).astype(np.float16)
    for ours, theirs in ((T.LowerCholeskyTransform(), TT.LowerCholeskyTransform()),
                         (T.PositiveDefiniteTransform(), TT.PositiveDefiniteTransform())):
        y = ours(_t(x, device))
        assert_close_to_largest(y, theirs(_p(x)).numpy(), ulps=8)
        assert_close_to_largest(ours.inv(y), theirs.inv(torch.tensor(host(y).astype(np.float64))).numpy(), ulps=32)
    logits = rng.standard_normal((3, 5)).astype(np.float16)
    assert_close_f16(T.SoftmaxTransform()(_t(logits, device)), TT.SoftmaxTransform()(_p(logits)).numpy())
    cdf = T.CumulativeDistributionTransform(D.Normal(0.0, 2.0))
    theirs = TT.CumulativeDistributionTransform(TD.Normal(0.0, 2.0))
    v = rng.uniform(-3, 3, 5).astype(np.float16)
    assert_close_f16(cdf(_t(v, device)), theirs(_p(v)).numpy())
    assert_close_f16(cdf.log_abs_det_jacobian(_t(v, device), cdf(_t(v, device))),
                     theirs.log_abs_det_jacobian(_p(v), None).numpy())
    reshape = T.ReshapeTransform((2, 3), (6,))
    assert reshape(_t(x[:, :2], device)).shape == (2, 6) and reshape.forward_shape((4, 2, 3)) == (4, 6)


def test_tanh_cache_keeps_the_log_density_of_saturated_draws(device):
    """tanh(5) rounds to 1 in f16, whose atanh is infinite: with cache_size=1 the inverse of the last output is its
    input, as in PyTorch (SAC's squashed Gaussian policies rely on it)."""
    loc = tl.tensor([5.0, -6.0, 0.5], device=device, requires_grad=True)
    dist = D.TransformedDistribution(D.Normal(loc, 0.01), [T.TanhTransform(cache_size=1)])
    theirs = TD.TransformedDistribution(TD.Normal(torch.tensor([5.0, -6.0, 0.5], dtype=torch.float64), 0.01),
                                        [TT.TanhTransform(cache_size=1)])
    action = dist.rsample()
    assert host(action.detach())[:2].tolist() == [1.0, -1.0]
    lp = dist.log_prob(action)
    assert np.isfinite(host(lp.detach())).all()
    pre = dist.transforms[0].inv(action)
    assert pre is dist.transforms[0]._cached_x_y[0]
    # the same pre-tanh values through PyTorch's (float64 tanh does not saturate)
    x = torch.tensor(host(pre.detach()).astype(np.float64))
    assert_close_to_largest(lp, theirs.log_prob(torch.tanh(x)).numpy(), ulps=16)
    lp.sum().backward()
    assert np.isfinite(host(loc.grad)).all()
    uncached = D.TransformedDistribution(D.Normal(loc, 0.01), [T.TanhTransform()])
    assert not np.isfinite(host(uncached.log_prob(action.detach())))[:2].any()


def test_transformed_distribution_against_torch(device, rng):
    loc = rng.standard_normal((2, 3)).astype(np.float16)
    scale = rng.uniform(0.5, 1.5, (2, 3)).astype(np.float16)
    ours_loc = _t(loc, device, grad=True)
    theirs_loc = _p(loc, grad=True)
    ours = D.TransformedDistribution(D.Normal(ours_loc, _t(scale, device)),
                                     [T.AffineTransform(1.0, -2.0), T.ExpTransform()])
    theirs = TD.TransformedDistribution(TD.Normal(theirs_loc, _p(scale)), [TT.AffineTransform(1.0, -2.0),
                                                                            TT.ExpTransform()])
    assert ours.batch_shape == (2, 3) and ours.event_shape == () and ours.has_rsample
    value = rng.uniform(0.2, 3, (4, 2, 3)).astype(np.float16)
    lp, ref = ours.log_prob(_t(value, device)), theirs.log_prob(_p(value))
    assert_close_to_largest(lp, ref.detach().numpy(), ulps=16)
    lp.sum().backward()
    ref.sum().backward()
    assert_close_to_largest(ours_loc.grad, theirs_loc.grad.numpy(), ulps=16)
    # a decreasing map overall: the cdf is flipped
    assert_close_f16(ours.cdf(_t(value, device)), theirs.cdf(_p(value)).detach().numpy(), rtol=4e-3, atol=2e-3)
    q = rng.uniform(0.1, 0.9, (2, 3)).astype(np.float16)
    assert_close_to_largest(ours.icdf(_t(q, device)), theirs.icdf(_p(q)).detach().numpy(), ulps=16)
    assert ours.rsample((5,)).shape == (5, 2, 3) and ours.expand((4, 2, 3)).sample().shape == (4, 2, 3)
    assert isinstance(ours.support, type(D.constraints.positive))


def test_transformed_distribution_event_dims(device, rng):
    """A flow over vectors: the base's batch dimension becomes an event dimension (Independent) where the transforms
    act on vectors, and a reshape changes the event shape."""
    x = rng.standard_normal((5, 2, 6)).astype(np.float16)
    ours = D.TransformedDistribution(D.Normal(tl.zeros(2, 6, device=device), 1.0),
                                     [T.ReshapeTransform((6,), (2, 3)), T.IndependentTransform(T.ExpTransform(), 2)])
    theirs = TD.TransformedDistribution(TD.Normal(torch.zeros(2, 6, dtype=torch.float64), 1.0),
                                        [TT.ReshapeTransform((6,), (2, 3)),
                                         TT.IndependentTransform(TT.ExpTransform(), 2)])
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(theirs.event_shape)
    value = np.exp(x.reshape(5, 2, 2, 3)).astype(np.float16)
    assert_close_to_largest(ours.log_prob(_t(value, device)), theirs.log_prob(_p(value)).numpy(), ulps=16)
    simplex = D.TransformedDistribution(D.Normal(tl.zeros(3, device=device), 1.0), T.StickBreakingTransform())
    assert simplex.event_shape == (4,) and simplex.sample((2,)).shape == (2, 4)


def test_biject_to_and_transform_to(device, rng):
    cases = [D.constraints.real, D.constraints.positive, D.constraints.greater_than(2.0),
             D.constraints.less_than(-1.0), D.constraints.interval(-1.0, 3.0), D.constraints.unit_interval,
             D.constraints.simplex, D.constraints.corr_cholesky, D.constraints.independent(D.constraints.positive, 1)]
    x = rng.uniform(-2, 2, (3, 6)).astype(np.float16)
    for constraint in cases:
        for registry in (D.biject_to, D.transform_to):
            t = registry(constraint)
            y = t(_t(x, device))
            assert bool(constraint.check(y).all()), (constraint, registry)
            if registry is D.biject_to and constraint is not D.constraints.corr_cholesky:
                assert_close_to_largest(t.inv(y), x, ulps=32)
    # (a factor with a diagonal near 1: its f16 product L L^T stays positive definite)
    square = np.tril(rng.uniform(-0.5, 0.5, (3, 3)), -1) + np.diag(rng.uniform(-0.3, 0.3, 3))
    assert bool(D.constraints.positive_definite.check(D.transform_to(D.constraints.positive_definite)(
        _t(square, device))))
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        D.biject_to(D.constraints.lower_cholesky)
    with pytest.raises(TypeError):
        D.biject_to.register(3, lambda c: None)


def test_constraints_check_as_torch(device, rng):
    x = rng.uniform(-1, 2, (4, 3)).astype(np.float16)
    simplex = rng.dirichlet(np.ones(3), 4).astype(np.float16)
    C, TC = D.constraints, torch.distributions.constraints
    for ours, theirs, v in ((C.positive, TC.positive, x), (C.unit_interval, TC.unit_interval, x),
                            (C.interval(0.0, 1.5), TC.interval(0.0, 1.5), x), (C.real_vector, TC.real_vector, x),
                            (C.nonnegative_integer, TC.nonnegative_integer, np.round(x)),
                            (C.boolean, TC.boolean, np.round(x)), (C.greater_than_eq(0.5), TC.greater_than_eq(0.5), x),
                            (C.half_open_interval(0, 1), TC.half_open_interval(0, 1), x)):
        np.testing.assert_array_equal(host(ours.check(_t(v, device))), theirs.check(_p(v)).numpy())
    assert bool(C.simplex.check(_t(simplex, device)).all())  # f16 sums within f16 slack
    assert not bool(C.simplex.check(_t(x, device)).any())
    assert C.simplex.event_dim == 1 and C.positive_definite.event_dim == 2 and C.boolean.is_discrete
    assert D.Normal.arg_constraints["scale"] is C.positive and D.Dirichlet.support is C.simplex

    class Box(D.Distribution):  # a user's distribution with a support that depends on its parameters
        @C.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return C.interval(0.0, 2.0)

    assert C.is_dependent(Box.support) and Box.support.event_dim == 0 and not Box.support.is_discrete
    assert bool(Box().support.check(_t([1.0], device)).all()) and not C.is_dependent(C.positive)


def test_expand_as_torch(device, rng):
    loc = _t(rng.standard_normal(3), device)
    for ours, shape in ((D.Normal(loc, 1.0), (2, 3)), (D.Categorical(logits=tl.zeros(3, 4, device=device)), (2, 3)),
                        (D.Dirichlet(tl.ones(3, device=device)), (5,)), (D.Gamma(loc.abs() + 1, 2.0), (4, 3)),
                        (D.MultivariateNormal(tl.zeros(2, device=device), tl.eye(2, device=device)), (3,)),
                        (D.Independent(D.Normal(loc, 1.0), 1), (2,)), (D.LogNormal(loc, 1.0), (2, 3)),
                        (D.Beta(loc.abs() + 1, 1.0), (2, 3))):
        wide = ours.expand(shape)
        assert wide.batch_shape == shape and wide.event_shape == ours.event_shape, type(ours).__name__
        assert wide.sample().shape == shape + ours.event_shape
        assert wide.log_prob(wide.sample()).shape == shape
    with pytest.raises(tl.ShapeMismatchError):
        D.Normal(loc, 1.0).expand((2, 4))


@pytest.mark.parametrize("family", ["RelaxedBernoulli", "RelaxedOneHotCategorical"])
def test_relaxed_expand_keeps_the_given_parameter(device, rng, family):
    """A relaxed distribution built from logits expands from its logits even after probs was read (computed then
    and kept, as torch's lazy_property), as one built from probs expands from its probs."""
    logits = _t(rng.standard_normal((3, 4)), device)
    for given in ("logits", "probs"):
        value = logits.softmax(-1) if given == "probs" else logits
        ours = getattr(D, family)(0.5, **{given: value})
        ours.probs, ours.logits  # noqa: B018 (both read, so both are kept)
        wide = ours.expand((2,) + tuple(ours.batch_shape))
        assert wide.base_dist._params._given == given
        assert wide.batch_shape == (2,) + tuple(ours.batch_shape)
        np.testing.assert_allclose(host(getattr(wide, given))[1], host(getattr(ours, given)), rtol=1e-3, atol=1e-3)


def test_argument_errors():
    with pytest.raises(ValueError, match="cache_size"):
        T.ExpTransform(cache_size=2)
    with pytest.raises(ValueError, match="transforms must be"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [T.ExpTransform(), "exp"])
    with pytest.raises(TypeError, match="base_distribution"):
        D.TransformedDistribution(tl.zeros(3), T.ExpTransform())
    with pytest.raises(tl.ShapeMismatchError):
        T.ReshapeTransform((2, 3), (5,))
    with pytest.raises(tl.ShapeMismatchError):
        T.CorrCholeskyTransform()(tl.zeros(4))
    with pytest.raises(TypeError, match="AffineTransform: loc"):
        T.AffineTransform("a", 1.0)
    with pytest.raises(ValueError, match="support"):
        D.LogNormal(0.0, 1.0, validate_args=True).log_prob(tl.tensor([-1.0]))
    with pytest.raises(ValueError, match="scale"):
        D.HalfNormal(tl.tensor([-1.0]), validate_args=True)
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform().inv.inv == T.ExpTransform()


@pytest.mark.parametrize("call, error, match", [
    # found by tests/fuzz_ops.py: hostile arguments met "truth value ... ambiguous" or an untyped AttributeError
    (lambda: T.ExpTransform(cache_size=np.zeros((2, 3))), ValueError, "cache_size must be 0 or 1"),
    (lambda: T.SigmoidTransform().log_abs_det_jacobian(1.0, None), TypeError, "log_abs_det_jacobian: x must be a"),
    (lambda: T.ExpTransform()(2.0), TypeError, r"ExpTransform.__call__: x must be a tensor"),
    (lambda: T.ExpTransform().inv(2.0), TypeError, "inverse: y must be a tensor"),
    (lambda: T.CumulativeDistributionTransform(tl.ones(2)), TypeError, "distribution must be a Distribution"),
    (lambda: T.ReshapeTransform(tl.ones(2), (2,)), TypeError, "in_shape must be an int or a sequence of ints"),
    (lambda: T.SoftplusTransform().inverse_shape(tl.ones(2)), TypeError, "inverse_shape: shape must be"),
    (lambda: T.ComposeTransform(3), TypeError, "expected a sequence of Transforms"),
    (lambda: T.CatTransform([T.ExpTransform()], dim=0.5), TypeError, "dim must be an int"),
    (lambda: D.Normal(0.0, 1.0).expand((2,), _instance=(1, 2)), TypeError, "_instance must be a Normal"),
    (lambda: D.ContinuousBernoulli(0.3, validate_args=tl.ones(3)), TypeError, "validate_args must be a bool"),
    (lambda: D.ContinuousBernoulli(0.3, lims=1), TypeError, "lims must be a pair of numbers"),
])
def test_hostile_arguments_raise_typed_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
