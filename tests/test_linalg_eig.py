"""tl.linalg.eig and eigvals against torch.linalg.eig (float64 on the same f16 matrices, fresh seeds, every device):
eigenvalues, eigenvectors (unit norm, largest component real: LAPACK's normalisation, up to each real vector's sign),
gradients through the real and imaginary parts and the phase-invariant magnitudes, and the errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_grad_close, f16_randn, t64, to_tl


def _separated(rng, batch, n=4):
    """f16 real matrices S D S^-1 whose eigenvalues lie apart: a complex pair a +- bi (|b| >= 0.5) and n - 2 real
    ones at least 0.5 from each other and from a, with S an orthogonal matrix scaled by columns in [1, 2] (so the
    eigenvectors are well conditioned and f16's rounding of A moves the eigenvalues by ~1e-3 only)."""
    out = np.empty((batch, n, n))
    for k in range(batch):
        a, b = rng.uniform(-2, 2), rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
        reals = a + np.cumsum(rng.uniform(0.5, 1.0, n - 2)) * rng.choice([-1, 1])
        d = np.diag(np.concatenate([[a, a], reals]))
        d[0, 1], d[1, 0] = b, -b
        s = np.linalg.qr(rng.standard_normal((n, n)))[0] * rng.uniform(1, 2, n)
        out[k] = s @ d @ np.linalg.inv(s)
    return out.astype(np.float16)


def _parts(z):
    return np.stack([z.real, z.imag], axis=-1)


def _order(values):
    """An order of eigenvalues by real part then imaginary part (the gaps are far above f16's rounding)."""
    return np.lexsort((np.round(values.imag, 2), np.round(values.real, 2)), axis=-1)


def test_eig_matches_torch(device, rng):
    a = _separated(rng, 3)
    L, V = tl.linalg.eig(to_tl(a, device))
    assert L.dtype == V.dtype == tl.complex32 and L.shape == (3, 4) and V.shape == (3, 4, 4)
    tL, tV = (x.numpy() for x in torch.linalg.eig(t64(a)))
    ours_L, ours_V = L.cpu().numpy().astype(np.complex128), V.cpu().numpy().astype(np.complex128)
    for k in range(3):
        o, t = _order(ours_L[k]), _order(tL[k])
        assert_close_f16(_parts(ours_L[k][o]), _parts(tL[k][t]), rtol=4e-3, atol=4e-3)
        vo, vt = ours_V[k][:, o], tV[k][:, t]
        # geev's normalisation (OpenBLAS's here, MKL's in PyTorch) leaves each vector's sign free
        phases = (vo.conj() * vt).sum(0)
        assert_close_f16(_parts(vo * phases / np.abs(phases)), _parts(vt), rtol=1e-2, atol=4e-3)
        np.testing.assert_allclose(np.linalg.norm(vo, axis=0), 1, atol=3e-3)
        largest = np.abs(vo).argmax(0)
        assert np.abs(vo[largest, np.arange(4)].imag).max() < 1e-3  # the largest component real
    residual = a.astype(np.float64) @ ours_V - ours_V * ours_L[:, None, :]
    assert np.abs(residual).max() < 2e-2
    eigenvalues = tl.linalg.eigvals(to_tl(a, device))
    np.testing.assert_array_equal(eigenvalues.cpu().numpy(), L.cpu().numpy())


def test_eig_gradients_are_torchs(device, rng):
    a = _separated(rng, 2)
    weights = [f16_randn(rng, shape) for shape in ((2, 4), (2, 4), (2, 4, 4))]

    def loss(lib, L, V, w):
        return (L.real * w[0]).sum() + (L.imag * w[1]).sum() + (V.abs() * w[2]).sum()

    x = to_tl(a, device).requires_grad_()
    t = t64(a).requires_grad_()
    loss(tl, *tl.linalg.eig(x), [tl.tensor(w, device=device) for w in weights]).backward()
    loss(torch, *torch.linalg.eig(t), [t64(w) for w in weights]).backward()
    assert_grad_close(x.grad, t.grad, 3e-2, "eig")
    # eigvals alone: PyTorch's V^-H diag(gL) V^H
    x.grad, t.grad = None, None
    (tl.linalg.eigvals(x).real * tl.tensor(weights[0], device=device)).sum().backward()
    (torch.linalg.eigvals(t).real * t64(weights[0])).sum().backward()
    assert_grad_close(x.grad, t.grad, 3e-2, "eigvals")


def test_eig_errors_as_torch(device, rng):
    a = _separated(rng, 1)[0]
    x = to_tl(a, device).requires_grad_()
    t = t64(a).requires_grad_()
    _, tV = torch.linalg.eig(t)
    with pytest.raises(RuntimeError, match="depends on this quantity"):
        tV.real.sum().backward()
    _, V = tl.linalg.eig(x)
    with pytest.raises(RuntimeError, match="depends on this quantity"):
        V.real.sum().backward()
    L, _ = tl.linalg.eig(x)
    (g,) = tl.autograd.grad(L.real.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    bad = a.copy()
    bad[int(rng.integers(4)), int(rng.integers(4))] = np.nan
    for fn in (tl.linalg.eig, tl.linalg.eigvals):
        with pytest.raises(RuntimeError, match="should not contain infs or NaNs"):
            fn(to_tl(bad, device))
    with pytest.raises(RuntimeError, match="should not contain infs or NaNs"):
        torch.linalg.eig(t64(bad))
    with pytest.raises(tl.ShapeMismatchError, match="square"):
        tl.linalg.eig(to_tl(f16_randn(rng, (2, 3)), device))
    with pytest.raises(TypeError, match="floating point"):
        tl.linalg.eigvals(tl.tensor([[1, 2], [3, 4]], device=device))
    with pytest.raises(TypeError, match="complex input"):
        tl.linalg.eig(tl.view_as_complex(to_tl(f16_randn(rng, (2, 2, 2)), device)))
    empty = tl.linalg.eig(tl.zeros(2, 0, 0, device=device))
    assert empty.eigenvalues.shape == (2, 0) and empty.eigenvectors.shape == (2, 0, 0)
