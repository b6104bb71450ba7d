"""Tensor.unfold (sliding windows as a strided view) against PyTorch: values, shapes and strides, aliasing,
gradients where windows overlap or skip elements, and PyTorch's edge cases and errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_equal, f16_randn, host, strided


@pytest.mark.parametrize("shape,dim,size,step", [
    ((7,), 0, 3, 1), ((7,), 0, 3, 2), ((7,), -1, 7, 3), ((2, 9, 4), 1, 4, 4), ((2, 9, 4), 1, 2, 3),
    ((3, 5), 0, 1, 5), ((4, 6), 1, 0, 2), ((0, 3), 0, 0, 1), ((5, 2), 0, 5, 1)])
def test_unfold_matches_torch(device, rng, shape, dim, size, step):
    x = f16_randn(rng, shape)
    for t in (tl.tensor(x, device=device), strided(x, device)):
        got, want = t.unfold(dim, size, step), torch.from_numpy(x).unfold(dim, size, step)
        assert got.shape == want.shape
        assert_equal(got, want.numpy())
    if all(shape):  # (PyTorch's strides of an empty view are not meaningful)
        assert tl.tensor(x, device=device).unfold(dim, size, step).stride() == want.stride()


def test_unfold_is_a_view(device, rng):
    x = f16_randn(rng, (3, 8))
    t = tl.tensor(x, device=device)
    windows = t.unfold(1, 4, 2)
    t[1, 3] = 100.0
    assert windows[1, 0, 3].item() == 100.0 and windows[1, 1, 1].item() == 100.0
    windows[2, 2, 2] = -5.0  # a position only the last window covers
    assert t[2, 6].item() == -5.0
    with pytest.raises(RuntimeError, match="single memory location"):  # as PyTorch: windows overlap
        windows.add_(1.0)
    t.unfold(1, 2, 2).mul_(2.0)  # disjoint windows can be written in place
    x[1, 3], x[2, 6] = 100.0, -5.0
    assert_equal(t, x * 2)


def test_unfold_patches_as_vision_transformers_cut_them(device, rng):
    """The images' p x p patches by two unfolds, then permuted and flattened to [B, patches, C p p]."""
    x = f16_randn(rng, (2, 3, 8, 12))
    p = 4

    def patches(lib, img):
        u = img.unfold(2, p, p).unfold(3, p, p)
        return u.permute(0, 2, 3, 1, 4, 5).reshape(2, -1, 3 * p * p)

    assert_equal(patches(tl, tl.tensor(x, device=device)), patches(torch, torch.from_numpy(x)).numpy())


@pytest.mark.parametrize("shape,dim,size,step", [((9,), 0, 4, 2), ((2, 7, 3), 1, 3, 1), ((3, 10), -1, 2, 3),
                                                 ((2, 5), 0, 2, 1)])
def test_unfold_gradient_matches_torch(device, rng, shape, dim, size, step):
    """Overlapping windows (step < size) add their gradients; elements no window covers get 0."""
    x = f16_randn(rng, shape)
    t = tl.tensor(x, device=device, requires_grad=True)
    out = t.unfold(dim, size, step)
    g = f16_randn(rng, tuple(out.shape))
    out.backward(tl.tensor(g, device=device))
    tt = torch.from_numpy(x.astype(np.float32)).requires_grad_()
    tt.unfold(dim, size, step).backward(torch.from_numpy(g.astype(np.float32)))
    np.testing.assert_allclose(host(t.grad).astype(np.float32), tt.grad.numpy(), rtol=2e-3, atol=2e-3)
    reference = lambda v: torch.tensor(v).unfold(dim, size, step).numpy()  # noqa: E731
    assert tl.autograd.gradcheck(lambda v: v.unfold(dim, size, step), (t,), reference=reference)


def test_unfold_of_a_0d_tensor(device):
    t = tl.tensor(3.0, device=device, requires_grad=True)
    assert t.unfold(0, 1, 1).shape == (1,) and t.unfold(-1, 0, 2).shape == (0,)
    t.unfold(0, 1, 5).sum().backward()
    assert t.grad.item() == 1.0


def test_unfold_errors(device):
    t = tl.zeros(5, 3, device=device)
    with pytest.raises(ValueError, match="step"):
        t.unfold(0, 2, 0)
    with pytest.raises(ValueError, match="size"):
        t.unfold(0, -1, 1)
    with pytest.raises(ValueError, match="maximum size"):
        t.unfold(1, 4, 1)
    with pytest.raises(IndexError):
        t.unfold(2, 1, 1)
    with pytest.raises(ValueError):
        tl.tensor(1.0, device=device).unfold(0, 2, 1)
