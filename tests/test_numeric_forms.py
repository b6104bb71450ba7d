"""gcd and lcm, trapezoid / trapz / cumulative_trapezoid, cov and corrcoef, and the window functions (hann, hamming,
blackman, bartlett, kaiser) against PyTorch CPU on the same f16-rounded inputs: values, broadcasting, Tensor methods
and in-place forms, gradients (against PyTorch's in float64) and PyTorch's errors."""
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_to_scale, assert_equal, assert_grad_close, f16_randn, f16_uniform, host


# ---- gcd, lcm ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int32"), ("int32", "int64")])
def test_gcd_and_lcm_match_torch(device, rng, dtypes):
    a = rng.integers(-60, 60, (4, 5))
    b = rng.integers(-60, 60, (5,))
    a[0, :2], b[:2] = 0, 0  # gcd(0, 0) = 0, lcm(0, x) = 0
    la, lb = (tl.tensor(v, device=device).to(d) for v, d in zip((a, b), dtypes))
    ta, tb = (torch.tensor(v).to(getattr(torch, d)) for v, d in zip((a, b), dtypes))
    for name in ("gcd", "lcm"):
        want = getattr(torch, name)(ta, tb)
        got = getattr(tl, name)(la, lb)
        assert got.dtype.name == str(want.dtype).split(".")[1]
        assert_equal(got, want.numpy())
        assert_equal(getattr(la, name)(lb), want.numpy())
        inplace = la.clone()
        assert getattr(inplace, name + "_")(lb) is inplace and inplace.dtype == la.dtype
        assert_equal(inplace, getattr(ta.clone(), name + "_")(tb).numpy())
        assert_equal(getattr(tl, name + "_")(la.clone(), lb), want.to(ta.dtype).numpy())


def test_gcd_and_lcm_errors_and_edges(device):
    a = tl.tensor([4, 6], device=device)
    assert_equal(tl.lcm(tl.tensor([2**40], device=device), tl.tensor([2**40 + 1], device=device)),
                 torch.lcm(torch.tensor([2**40]), torch.tensor([2**40 + 1])).numpy())  # wraps as PyTorch's
    for lib, x in ((torch, torch.tensor([4, 6])), (tl, a)):
        with pytest.raises(TypeError):
            lib.gcd(x, 3)
        with pytest.raises(NotImplementedError):
            lib.gcd(x.float(), x.float())
        with pytest.raises(NotImplementedError):
            lib.lcm(x.bool(), x.bool())
        with pytest.raises((RuntimeError, ValueError)):
            lib.gcd(x, x[:1].expand(1).repeat(3))


# ---- trapezoid, trapz, cumulative_trapezoid ------------------------------------------------------------------------
def _pair(x, device, grad=True):
    return tl.tensor(x, device=device, requires_grad=grad), torch.tensor(x.astype(np.float64), requires_grad=grad)


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("form", ["plain", "dx", "x1d", "xfull", "xfewer", "dim0"])
def test_trapezoid_family_matches_torch_with_gradients(device, rng, name, form):
    y = f16_randn(rng, (3, 6))
    steps = f16_uniform(rng, (6,), 0.1, 1.0)
    x1d = np.cumsum(steps).astype(np.float16)
    xfull = np.cumsum(f16_uniform(rng, (3, 6), 0.1, 1.0), 1).astype(np.float16)
    args = {"plain": lambda t: ((), {}), "dx": lambda t: ((), {"dx": 0.75}), "x1d": lambda t: ((t(x1d),), {}),
            "xfull": lambda t: ((t(xfull),), {}), "xfewer": lambda t: ((t(x1d.reshape(1, 6)),), {}),
            "dim0": lambda t: ((t(x1d[:3]),), {"dim": 0})}[form]
    ours, theirs = _pair(y, device)
    a, kw = args(lambda v: tl.tensor(v, device=device))
    ta, tkw = args(lambda v: torch.tensor(v.astype(np.float64)))
    got, want = getattr(tl, name)(ours, *a, **kw), getattr(torch, name)(theirs, *ta, **tkw)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    g = f16_randn(rng, tuple(want.shape))
    got.backward(tl.tensor(g, device=device))
    want.backward(torch.tensor(g.astype(np.float64)))
    assert_grad_close(ours.grad, theirs.grad, 4e-3, f"{name} {form}", atol=4e-3)


def test_trapezoid_edges_and_errors(device):
    y = tl.randn(3, 5, device=device)
    assert_equal(tl.trapezoid(tl.zeros(3, 0, device=device)), np.zeros(3, np.float16))
    assert tl.cumulative_trapezoid(tl.zeros(3, 1, device=device)).shape == (3, 0)
    assert tl.trapezoid(tl.arange(5, device=device)).item() == torch.trapezoid(torch.arange(5)).item() == 8.0
    assert tl.trapezoid(tl.arange(5, device=device), dx=2).item() == 16.0
    assert_equal(tl.cumulative_trapezoid(tl.arange(5, device=device)),
                 torch.cumulative_trapezoid(torch.arange(5)).numpy().astype(np.float16))
    for lib, t in ((torch, torch.randn(3, 5)), (tl, y)):
        with pytest.raises(RuntimeError, match="one `x` value for each sample point"):
            lib.trapezoid(t, lib.randn(4))
        with pytest.raises(RuntimeError, match="bool"):
            lib.trapezoid(t > 0)
        with pytest.raises(IndexError):
            lib.trapezoid(t, dim=2)
        with pytest.raises(IndexError):
            lib.trapezoid(t.sum())
        with pytest.raises(TypeError):
            lib.trapezoid(t, 2.0)
        with pytest.raises(TypeError):
            lib.trapezoid(t, lib.randn(5), dx=2.0)


# ---- cov, corrcoef ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"correction": 0}, {"correction": 2}, {"fweights": True}, {"aweights": True},
                                {"fweights": True, "aweights": True, "correction": 3}])
def test_cov_matches_torch_with_gradients(device, rng, kw):
    x = f16_randn(rng, (3, 7))
    fw, aw = rng.integers(0, 4, 7), f16_uniform(rng, (7,), 0.5, 1.0)
    # more degrees of freedom than the largest correction (3): with fw[0] = 1 alone and weights from 0.1, about 1% of
    # seeds (49, 482, 486, ...) left none, and the covariances were infinities whose signs followed rounding
    fw[:4] = np.maximum(fw[:4], 1)
    ours, theirs = _pair(x, device)
    our_kw = {"correction": kw.get("correction", 1)}
    their_kw = dict(our_kw)
    if kw.get("fweights"):
        our_kw["fweights"], their_kw["fweights"] = tl.tensor(fw, device=device), torch.tensor(fw)
    if kw.get("aweights"):
        our_kw["aweights"], their_kw["aweights"] = tl.tensor(aw, device=device), torch.tensor(aw.astype(np.float64))
    got, want = tl.cov(ours, **our_kw), torch.cov(theirs, **their_kw)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    g = f16_randn(rng, (3, 3))
    got.backward(tl.tensor(g, device=device))
    want.backward(torch.tensor(g.astype(np.float64)))
    assert_grad_close(ours.grad, theirs.grad, 4e-3, f"cov {kw}", atol=4e-3)


def test_corrcoef_matches_torch_with_gradients(device, rng):
    x = f16_randn(rng, (4, 9))
    ours, theirs = _pair(x, device)
    got, want = ours.corrcoef(), torch.corrcoef(theirs)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    g = f16_randn(rng, (4, 4))
    got.backward(tl.tensor(g, device=device))
    want.backward(torch.tensor(g.astype(np.float64)))
    assert_grad_close(ours.grad, theirs.grad, 1e-2, "corrcoef", atol=1e-2)
    v = f16_randn(rng, (9,))
    assert_close_to_scale(tl.tensor(v, device=device).cov(), torch.cov(torch.tensor(v.astype(np.float64))).numpy())
    assert tl.corrcoef(tl.tensor(v, device=device)).item() == 1.0
    assert np.isnan(host(tl.corrcoef(tl.ones(2, 3, device=device)))).all()
    assert_equal(tl.cov(tl.arange(6, device=device).reshape(2, 3)), np.ones((2, 2), np.float16))


def test_cov_errors_and_warnings(device):
    x = tl.randn(3, 6, device=device)
    fw = [1, 2, 0, 3, 1, 1]
    for lib, t in ((torch, torch.randn(3, 6)), (tl, x)):
        def dev(values, dtype=None):
            return lib.tensor(values, dtype=dtype, device="cpu" if lib is torch else device)
        for call, match in ((lambda: lib.cov(lib.randn(2, 3, 4)), "two or fewer dimensions"),
                            (lambda: lib.cov(t > 0), "bool"),
                            (lambda: lib.cov(t, fweights=dev(fw).float()), "integral dtype"),
                            (lambda: lib.cov(t, fweights=-dev(fw)), "cannot be negative"),
                            (lambda: lib.cov(t, aweights=dev(fw)), "floating point dtype"),
                            (lambda: lib.cov(t, aweights=-dev(fw).float()), "cannot be negative"),
                            (lambda: lib.cov(t, fweights=dev(fw[:3])), "same numel"),
                            (lambda: lib.cov(t, fweights=dev([fw])), "one or fewer dimensions"),
                            (lambda: lib.cov(t, fweights=dev([0] * 6)), "weights sum to zero")):
            with pytest.raises(RuntimeError, match=match):
                call()
        with pytest.raises(TypeError):
            lib.cov(t, correction=2.5)
        with pytest.warns(UserWarning, match="degrees of freedom"):
            single = lib.cov(t[:, :1])
        assert np.isnan(np.asarray(single.tolist())).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tl.cov(x)  # enough observations: no warning


# ---- window functions ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,extra", [("hann_window", ()), ("hamming_window", ()), ("hamming_window", (0.5, 0.4)),
                                        ("blackman_window", ()), ("bartlett_window", ()), ("kaiser_window", ()),
                                        ("kaiser_window", (5.0,))])
def test_windows_match_torch(device, name, extra):
    for n in (0, 1, 2, 5, 16, 101):
        for periodic in (True, False):
            want = getattr(torch, name)(n, periodic, *extra, dtype=torch.float64).numpy()
            got = getattr(tl, name)(n, periodic, *extra, device=device)
            assert got.dtype == tl.float16 and got.device == tl.device(device)
            assert_equal(got, want.astype(np.float16))  # float64 values rounded once
    assert getattr(tl, name)(8, requires_grad=True, dtype=tl.float32).requires_grad


def test_window_errors_as_torch():
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="non-negative window_length"):
            lib.hann_window(-1)
        with pytest.raises(RuntimeError, match="floating point dtypes"):
            lib.blackman_window(5, dtype=lib.int64)
        for bad in (5.0, True):
            with pytest.raises(TypeError):
                lib.bartlett_window(bad)
        with pytest.raises(TypeError):
            lib.hann_window(5, 1)
        assert lib.kaiser_window(lib.tensor(5)).shape == (5,)
