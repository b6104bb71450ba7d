"""tl.linalg's multi_dot, vander, tensorinv and tensorsolve, and tl.special's incomplete gamma functions (with
tl.igamma / igammac) and orthogonal polynomials, against PyTorch (float64 on the same f16 inputs): values, the
gradients PyTorch has, its edge values and errors."""
from functools import partial

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_scale, assert_grads_like_torch, f16_randn, f16_uniform, twin


_pair = partial(twin, grad=True)
_check_grads = partial(assert_grads_like_torch, rtol=1e-2, atol=1e-2)


# ---- linalg -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [[(3,), (3, 4), (4,)], [(2, 5), (5, 3)], [(6, 2), (2, 7), (7, 3), (3, 1)],
                                    [(4,), (4, 3), (3, 5), (5, 2)]])
def test_multi_dot_matches_torch_with_gradients(device, rng, shapes):
    pairs = [_pair(f16_randn(rng, s, scale=0.5), device) for s in shapes]
    got = tl.linalg.multi_dot([p[0] for p in pairs])
    want = torch.linalg.multi_dot([p[1] for p in pairs])
    assert tuple(got.shape) == tuple(want.shape)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    _check_grads(got, want, pairs, rng, device)


def test_multi_dot_errors_match_torch():
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="at least 2"):
            lib.linalg.multi_dot([lib.ones(3)])
        with pytest.raises(RuntimeError, match="cannot be multiplied"):
            lib.linalg.multi_dot([lib.ones(2, 3), lib.ones(2, 2)])
        with pytest.raises(RuntimeError, match="1D or 2D"):
            lib.linalg.multi_dot([lib.ones(2, 3), lib.ones(3, 2, 1)])
        with pytest.raises(RuntimeError, match="same dtype"):
            lib.linalg.multi_dot([lib.ones(2, 3), lib.ones(3, 2, dtype=lib.int64)])


def test_vander_matches_torch(device, rng):
    (x, tx) = _pair(f16_uniform(rng, (2, 4), -1.5, 1.5), device)
    for n in (None, 2, 5):
        got, want = tl.linalg.vander(x, N=n), torch.linalg.vander(tx, N=n)
        assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    got, want = tl.linalg.vander(x, N=3), torch.linalg.vander(tx, N=3)
    _check_grads(got, want, [(x, tx)], rng, device)
    ints = tl.linalg.vander(tl.tensor([[1, 2], [3, 4]], device=device))
    assert ints.dtype == tl.int64 and ints.tolist() == torch.linalg.vander(torch.tensor([[1, 2], [3, 4]])).tolist()
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="greater than 1"):
            lib.linalg.vander(lib.tensor([1.0, 2.0]), N=1)
        with pytest.raises(RuntimeError):
            lib.linalg.vander(lib.tensor([True, False]))


def test_tensorinv_and_tensorsolve_match_torch(device, rng):
    a = (np.eye(6) * 2 + f16_randn(rng, (6, 6), scale=0.2)).astype(np.float16)
    (x, tx) = _pair(a.reshape(6, 2, 3), device)
    got, want = tl.linalg.tensorinv(x, ind=1), torch.linalg.tensorinv(tx, ind=1)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    _check_grads(got, want, [(x, tx)], rng, device)
    (y, ty), (b, tb) = _pair(a.reshape(2, 3, 6), device), _pair(f16_randn(rng, (2, 3)), device)
    got, want = tl.linalg.tensorsolve(y, b), torch.linalg.tensorsolve(ty, tb)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    _check_grads(got, want, [(y, ty), (b, tb)], rng, device)
    (z, tz) = _pair(a.reshape(6, 2, 3), device)  # dims=(0,) moves the 6 to the end
    got, want = tl.linalg.tensorsolve(z, b.detach(), dims=(0,)), torch.linalg.tensorsolve(tz, tb.detach(), dims=(0,))
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="strictly positive"):
            lib.linalg.tensorinv(lib.eye(4).reshape(4, 2, 2), ind=0)
        with pytest.raises(RuntimeError, match="prod"):
            lib.linalg.tensorinv(lib.ones(4, 3), ind=1)
        with pytest.raises(RuntimeError, match="prod"):
            lib.linalg.tensorsolve(lib.eye(6).reshape(6, 2, 3), lib.ones(5))
        with pytest.raises(lib.linalg.LinAlgError):
            lib.linalg.tensorinv(lib.zeros(2, 2), ind=1)


# ---- incomplete gamma ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,torch_name", [("gammainc", "gammainc"), ("gammaincc", "gammaincc")])
def test_incomplete_gamma_matches_torch(device, rng, name, torch_name):
    a = np.exp(rng.uniform(-3, 7, 3000)).astype(np.float16)
    x = np.exp(rng.uniform(-4, 7, 3000)).astype(np.float16)
    got = getattr(tl.special, name)(tl.tensor(a, device=device), tl.tensor(x, device=device))
    want = getattr(torch.special, torch_name)(torch.tensor(a.astype(np.float64)), torch.tensor(x.astype(np.float64)))
    assert_close_f16(got, want.numpy())
    edges_a = torch.tensor([0.0, 0.0, 1.0, -1.0, 1.0, np.inf, 2.0, np.inf, 2.0])
    edges_x = torch.tensor([0.0, 1.0, 0.0, 1.0, -1.0, 3.0, np.inf, np.inf, np.nan])
    got = getattr(tl.special, name)(tl.tensor(edges_a.numpy(), device=device), tl.tensor(edges_x.numpy(),
                                                                                         device=device))
    assert_close_f16(got, getattr(torch.special, torch_name)(edges_a, edges_x).numpy())


def test_incomplete_gamma_gradients_and_forms(device, rng):
    a = f16_uniform(rng, (5,), 0.5, 4.0)
    x = f16_uniform(rng, (3, 5), 0.1, 5.0)
    (ta, tta) = _pair(a, device, grad=False)
    for ours_fn, theirs_fn in ((tl.igamma, torch.igamma), (tl.igammac, torch.igammac)):
        (tx, ttx) = _pair(x, device)
        got, want = ours_fn(ta, tx), theirs_fn(tta, ttx)
        assert_close_f16(got, want.detach().numpy())
        _check_grads(got, want, [(tx, ttx)], rng, device, rtol=4e-3, atol=2e-3)
    assert tl.special.gammainc is tl.igamma and tl.special.gammaincc is tl.igammac
    assert_close_f16(ta.igamma(tx.detach()), torch.igamma(tta, ttx.detach()).numpy())
    inplace = tl.tensor(np.broadcast_to(a, (3, 5)).copy(), device=device)
    assert inplace.igammac_(tx.detach()) is inplace
    assert_close_f16(inplace, torch.igammac(tta, ttx.detach()).numpy())
    needs_a = tl.tensor(a, device=device, requires_grad=True)
    with pytest.raises(NotImplementedError, match="igamma: input"):
        tl.igamma(needs_a, tx.detach()).sum().backward()
    for lib in (torch, tl):
        with pytest.raises(NotImplementedError):
            lib.igamma(lib.tensor([2]), lib.tensor([3]))
        with pytest.raises(TypeError):
            lib.special.gammainc(lib.tensor([2.0]), 3.0)


# ---- orthogonal polynomials -------------------------------------------------------------------------------------------
_POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
                "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", _POLYNOMIALS)
def test_orthogonal_polynomials_match_torch(device, rng, name):
    x = np.concatenate([f16_uniform(rng, (40,), -1.2, 1.2), [1.0, -1.0, 0.0, 0.5]]).astype(np.float16)
    n = rng.integers(-2, 14, x.shape)
    ours, theirs = getattr(tl.special, name), getattr(torch.special, name)
    tx, tn = torch.tensor(x.astype(np.float64)), torch.tensor(n)
    assert_close_to_scale(ours(tl.tensor(x, device=device), tl.tensor(n, device=device)), theirs(tx, tn).numpy())
    for degree in (0, 3, 2.7, 11):  # a number n (truncated, as PyTorch's)
        assert_close_to_scale(ours(tl.tensor(x, device=device), degree), theirs(tx, degree).numpy())
    assert_close_to_scale(ours(0.25, tl.tensor(n, device=device)), theirs(0.25, tn).numpy())
    ints = ours(tl.tensor([1, 2], device=device), 3)
    assert ints.dtype == tl.float16
    assert_close_f16(ints, theirs(torch.tensor([1, 2]), 3).numpy())
    assert not ours(tl.tensor(x, device=device, requires_grad=True), 3).requires_grad  # no derivative, as PyTorch's
    with pytest.raises(TypeError):
        ours(0.5, 3)
    with pytest.raises(TypeError):
        ours(tl.tensor(x, device=device), "3")
