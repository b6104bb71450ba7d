"""tl.linalg.cond against torch.linalg.cond (float64 on the same f16 inputs, fresh seeds, every device): every order,
batches and non-square matrices for the spectral orders, gradients (PyTorch's and gradcheck's), singular and empty
matrices, non-finite ones, and the typed errors."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_grad_close, f16_randn, t64, to_tl

ORDERS = [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf]


def _conditioned(rng, shape):
    """f16 matrices with singular values well inside [0.5, 8]: a random orthogonal-ish mix of a chosen spectrum, so
    every condition number stays far below f16's 65504 and apart from ties."""
    *batch, m, n = shape
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal((*batch, m, m)))[0][..., :k]
    v = np.linalg.qr(rng.standard_normal((*batch, n, n)))[0][..., :k]
    s = np.sort(rng.uniform(0.5, 8.0, (*batch, k)))[..., ::-1]
    return ((u * s[..., None, :]) @ np.swapaxes(v, -1, -2)).astype(np.float16)


@pytest.mark.parametrize("p", ORDERS)
@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 5)])
def test_cond_matches_torch(device, rng, p, shape):
    a = _conditioned(rng, shape)
    want = torch.linalg.cond(t64(a), p)
    assert_close_f16(tl.linalg.cond(to_tl(a, device), p), want.numpy(), rtol=4e-3, atol=0)


@pytest.mark.parametrize("p", [None, -2, "fro", "nuc"])  # the 1 and inf orders have kinks at tied column sums
def test_cond_gradient_is_torchs(device, rng, p):
    a = _conditioned(rng, (2, 4, 4))
    t = t64(a).requires_grad_()
    x = to_tl(a, device).requires_grad_()
    g = f16_randn(rng, (2,))
    # PyTorch's own cond fails its backward for the norm orders (it writes inv_ex's output in place): its definition
    want = torch.linalg.cond(t, p) if p in (None, -2) else (torch.linalg.matrix_norm(t, p)
                                                            * torch.linalg.matrix_norm(torch.linalg.inv(t), p))
    (want * t64(g)).sum().backward()
    (tl.linalg.cond(x, p) * tl.tensor(g, device=device)).sum().backward()
    assert_grad_close(x.grad, t.grad, 2e-2, f"cond p={p}")
    assert tl.autograd.gradcheck(lambda m: tl.linalg.cond(m, p), (to_tl(a[0], device).requires_grad_(),))


@pytest.mark.parametrize("shape", [(3, 5), (2, 6, 4)])
def test_spectral_cond_of_non_square_matrices(device, rng, shape):
    a = _conditioned(rng, shape)
    for p in (None, -2):
        assert_close_f16(tl.linalg.cond(to_tl(a, device), p), torch.linalg.cond(t64(a), p).numpy(), rtol=4e-3, atol=0)


def test_singular_and_empty_matrices_as_torch(device):
    zero = np.zeros((2, 2), np.float16)
    rank_one = np.array([[1, 2], [2, 4]], np.float16)
    for a, p in [(zero, None), (zero, -2), (zero, "fro"), (zero, "nuc"), (rank_one, 1), (rank_one, math.inf),
                 (np.zeros((2, 0, 0), np.float16), None), (np.zeros((2, 0, 0), np.float16), 1),
                 (np.zeros((0, 3, 3), np.float16), "fro")]:
        got = tl.linalg.cond(to_tl(a, device), p)
        want = torch.linalg.cond(torch.from_numpy(a.astype(np.float32)), p)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy().astype(np.float16))


def test_non_finite_matrices_as_torch(device, rng):
    """A NaN in a matrix (one of a batch) makes its condition number inf under the norm orders (PyTorch turns the NaN
    of |A| |A^-1| into inf), and an infinity gives PyTorch's values; under the spectral orders and 'nuc' a NaN is
    svdvals' LinAlgError."""
    a = _conditioned(rng, (2, 3, 3))
    i, j = (int(k) for k in rng.integers(0, 3, 2))
    for bad in (math.nan, math.inf, -math.inf):
        b = a.copy()
        b[0, i, j] = bad
        for p in ("fro", 1, -1, math.inf, -math.inf):
            want = torch.linalg.cond(t64(b), p).numpy()
            assert math.isinf(want[0]) or not math.isnan(bad), p  # an inf may leave a finite norm and inverse
            assert_close_f16(tl.linalg.cond(to_tl(b, device), p), want, rtol=4e-3, atol=0)
        if math.isnan(bad):
            for p in (None, 2, -2, "nuc"):
                with pytest.raises(torch.linalg.LinAlgError, match="non-finite"):
                    torch.linalg.cond(t64(b), p)
                with pytest.raises(tl.linalg.LinAlgError, match="non-finite"):
                    tl.linalg.cond(to_tl(b, device), p)


def test_bad_arguments(device, rng):
    a = to_tl(f16_randn(rng, (3, 3)), device)
    for p in (3, "abc", True, 0.5):
        with pytest.raises(ValueError, match="not a norm order"):
            tl.linalg.cond(a, p)
    with pytest.raises(tl.ShapeMismatchError, match="square"):
        tl.linalg.cond(to_tl(f16_randn(rng, (2, 3)), device), "fro")
    with pytest.raises(tl.ShapeMismatchError, match="at least 2 dimensions"):
        tl.linalg.cond(to_tl(f16_randn(rng, (3,)), device))
    with pytest.raises(TypeError, match="floating point"):
        tl.linalg.cond(tl.tensor([[1, 2], [3, 4]], device=device))
