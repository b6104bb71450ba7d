"""ops/special.py and ops/inplace.py beyond the op database (tests/opinfo.py covers each function's values,
kernel on every f16 value, strided views and gradients): special values against PyTorch, the in-place forms
as Tensor methods and torch-level functions, and typed errors."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn, host

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 65504, 6e-8, 2.5], dtype=np.float16)


@pytest.mark.parametrize("name", ["atan2", "hypot", "copysign", "logaddexp", "logaddexp2", "xlogy", "fmax", "fmin"])
def test_binary_special_values_match_torch(device, name):
    a = np.repeat(SPECIAL, SPECIAL.size)
    b = np.tile(SPECIAL, SPECIAL.size)
    want = getattr(torch, name)(torch.tensor(a.astype(np.float64)), torch.tensor(b.astype(np.float64))).numpy()
    got = host(getattr(tl, name)(tl.tensor(a, device=device), tl.tensor(b, device=device)))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    with np.errstate(over="ignore"):  # beyond f16's range the rounded oracle is inf, as ours
        rounded = want[finite].astype(np.float16)
    np.testing.assert_allclose(got[finite].astype(np.float64), rounded, rtol=2e-3, atol=1e-3)


def test_sign_and_infinity_predicates(device):
    x = tl.tensor(SPECIAL, device=device)
    t = torch.tensor(SPECIAL.astype(np.float32))
    for name in ("signbit", "isposinf", "isneginf"):
        out = getattr(tl, name)(x)
        assert out.dtype == tl.bool
        np.testing.assert_array_equal(host(out), getattr(torch, name)(t).numpy())
    np.testing.assert_array_equal(host(tl.signbit(tl.tensor([-3, 0, 2], device=device))), [True, False, False])


def test_heaviside_and_float_power(device, rng):
    x = np.array([-1.5, 0.0, 2.0, 0.0], np.float16)
    values = np.array([0.5, 0.25, 0.5, 0.75], np.float16)
    want = torch.heaviside(torch.tensor(x), torch.tensor(values)).numpy()
    np.testing.assert_array_equal(host(tl.heaviside(tl.tensor(x, device=device), tl.tensor(values, device=device))), want)
    with pytest.raises(TypeError):
        tl.heaviside(tl.tensor(x, device=device), 0.5)
    ints = tl.tensor([1, 2, 3], device=device)
    out = tl.float_power(ints, 2)
    assert out.dtype == tl.float16 and host(out).tolist() == [1.0, 4.0, 9.0]


def test_logit_eps_and_exp2(device, rng):
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0], np.float16)
    tp = torch.tensor(p.astype(np.float64))
    assert_close_f16(tl.logit(tl.tensor(p, device=device), eps=0.05), torch.logit(tp, eps=0.05).numpy())
    got = host(tl.tensor(p, device=device).logit())
    assert got[0] == -np.inf and got[-1] == np.inf
    x = f16_randn(rng, (6,), 3.0)
    assert_close_f16(tl.tensor(x, device=device).exp2(), torch.exp2(torch.tensor(x.astype(np.float64))).numpy())


INPLACE_UNARY = ["tan", "sinh", "cosh", "atan", "asinh", "expm1", "sinc", "reciprocal", "sign", "erf", "erfc", "round",
                 "trunc", "frac", "exp2", "deg2rad", "rad2deg", "sgn", "sigmoid", "tanh", "neg", "arctan", "negative",
                 "fix", "nan_to_num"]


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_inplace_methods_match_torch(device, rng, name):
    x = f16_randn(rng, (3, 4))
    t, ref = tl.tensor(x, device=device), torch.tensor(x.astype(np.float64))
    version = t._version
    assert getattr(t, name + "_")() is t
    assert t._version == version + 1
    assert_close_f16(t, getattr(ref, name + "_")().numpy())


@pytest.mark.parametrize("name,domain", [("asin", 0.9), ("acos", 0.9), ("atanh", 0.9), ("acosh", None),
                                         ("rsqrt", None), ("log1p", None), ("log2", None), ("log10", None),
                                         ("logit", 0.9), ("erfinv", 0.9)])
def test_inplace_methods_on_their_domains(device, rng, name, domain):
    x = rng.uniform(-domain, domain, (5,)) if domain else rng.uniform(1.1, 3.0, (5,))
    x = (np.abs(x) if name == "logit" else x).astype(np.float16)
    t = tl.tensor(x, device=device)
    getattr(t, name + "_")()
    assert_close_f16(t, getattr(torch.tensor(x.astype(np.float64)), name + "_")().numpy())


@pytest.mark.parametrize("name,args", [("clamp_min", (0.2,)), ("clamp_max", (-0.1,)), ("pow", (2.0,)),
                                       ("atan2", (0.5,)), ("hypot", (1.5,)), ("copysign", (-1.0,)),
                                       ("remainder", (0.75,)), ("fmod", (0.75,)), ("xlogy", (2.0,)),
                                       ("lt", (0.0,)), ("eq", (0.0,))])
def test_inplace_binary_methods_match_torch(device, rng, name, args):
    x = f16_randn(rng, (4, 3))
    # remainder rounds a / b first: float32 like the kernel (float64 splits its near-integer quotients otherwise)
    t, ref = tl.tensor(x, device=device), torch.tensor(x.astype(np.float32 if name == "remainder" else np.float64))
    targs = [torch.tensor(a) if name in ("atan2", "hypot", "copysign", "xlogy") else a for a in args]
    assert getattr(t, name + "_")(*args) is t
    assert t.dtype == tl.float16
    assert_close_f16(t, getattr(ref, name + "_")(*targs).numpy())


def test_torch_level_inplace_functions(device, rng):
    x = f16_randn(rng, (5,))
    for name in ("sigmoid_", "tanh_", "sqrt_", "neg_", "reciprocal_", "round_", "exp_", "clamp_", "relu_"):
        assert callable(getattr(tl, name)), name
    t = tl.tensor(np.abs(x) + np.float16(0.5), device=device)
    tl.sqrt_(t)
    assert_close_f16(t, np.sqrt(np.abs(x).astype(np.float64) + 0.5))
    u = tl.tensor(x, device=device)
    tl.clamp_(u, -0.5, 0.5)
    assert_close_f16(u, np.clip(x.astype(np.float64), -0.5, 0.5))


def test_inplace_under_autograd(device, rng):
    x = f16_randn(rng, (6,))
    leaf = tl.tensor(x, device=device, requires_grad=True)
    with pytest.raises(RuntimeError):
        leaf.tan_()
    y = leaf * 1.0
    y.atan_()
    y.hypot_(tl.tensor(np.float16(0.5), device=device))
    y.sum().backward()
    ref = torch.tensor(x.astype(np.float64), requires_grad=True)
    torch.hypot(torch.atan(ref * 1.0), torch.tensor(0.5, dtype=torch.float64)).sum().backward()
    assert_close_f16(leaf.grad, ref.grad.numpy())


def test_inplace_shape_must_not_grow(device):
    t = tl.tensor(np.ones(3, np.float16), device=device)
    with pytest.raises(tl.ShapeMismatchError):
        t.atan2_(tl.tensor(np.ones((2, 3), np.float16), device=device))
    assert math.isclose(float(t.sum().item()), 3.0)


def test_gamma_family_against_float32_and_float64(device, rng):
    """lgamma, digamma and polygamma on both sides of zero (the poles excluded) against PyTorch in float32 and
    float64, the Tensor methods and the in-place forms; polygamma's gradient is polygamma(n + 1) (gradcheck)."""
    x = (rng.uniform(0.05, 6.0, 200) * rng.choice([-1, 1], 200)).astype(np.float16)
    x = x[np.abs(x - np.round(x)) > 0.05]  # away from the negative poles, where a float32 oracle is coarse
    t = tl.tensor(x, device=device)
    for dtype in (torch.float32, torch.float64):
        ref = torch.tensor(x, dtype=dtype)
        for ours, theirs in ((t.lgamma(), torch.lgamma(ref)), (t.digamma(), torch.digamma(ref)),
                             (t.polygamma(1), torch.polygamma(1, ref)), (tl.polygamma(2, t), torch.polygamma(2, ref))):
            assert_close_f16(ours, theirs.double().numpy(), rtol=4e-3 if dtype == torch.float32 else 2e-3)
    for name, args in (("lgamma_", ()), ("digamma_", ()), ("polygamma_", (3,))):
        inplace = tl.tensor(x, device=device)
        assert getattr(inplace, name)(*args) is inplace
        want = getattr(torch.tensor(x, dtype=torch.float64), name)(*args).numpy()
        assert_close_f16(inplace, want, rtol=2e-3)
    positive = tl.tensor(rng.uniform(0.5, 3.0, 5).astype(np.float16), device=device, requires_grad=True)
    assert tl.autograd.gradcheck(lambda a: tl.polygamma(1, a), (positive,),
                                 reference=lambda a: torch.polygamma(1, torch.from_numpy(a)).numpy())


def test_gamma_family_errors(device):
    x = tl.ones(3, device=device)
    with pytest.raises(ValueError):
        tl.polygamma(-1, x)
    with pytest.raises(ValueError):
        x.polygamma(1.5)
    with pytest.raises(TypeError):
        tl.polygamma(1, [1.0, 2.0])


def test_xlogy_gradient_at_zero_as_torch(device):
    """d xlogy(a, b) / da is log(b) also where a == 0 (it was 0 there, so Gamma, Beta and Dirichlet log-densities
    had a wrong gradient at concentration 1), and 0 where a == 0 and b <= 0, as PyTorch 2's."""
    a = np.array([0.0, 0.0, 0.0, 1.5, 0.0], np.float16)
    b = np.array([2.0, 0.5, 0.0, 3.0, -1.0], np.float16)
    ours_a, ours_b = (tl.tensor(v, device=device, requires_grad=True) for v in (a, b))
    theirs_a, theirs_b = (torch.tensor(v.astype(np.float64), requires_grad=True) for v in (a, b))
    tl.xlogy(ours_a, ours_b).sum().backward()
    torch.xlogy(theirs_a, theirs_b).sum().backward()
    assert_close_f16(ours_a.grad, theirs_a.grad.numpy())
    assert_close_f16(ours_b.grad, theirs_b.grad.numpy())
    x = tl.tensor(a, device=device, requires_grad=True)
    tl.xlogy(x, 2.0).sum().backward()
    assert_close_f16(x.grad, np.full(5, np.log(2.0)))
