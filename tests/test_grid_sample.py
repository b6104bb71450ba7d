"""affine_grid and grid_sample (nn/grid_sample.py), 2-d and 3-d, against PyTorch CPU on the same f16 inputs (fresh
seeds): every mode (bicubic in 2-d only, as PyTorch's), padding mode and align_corners, with grid points inside, near
and outside the input; gradients of input, grid and theta against torch.autograd and by gradcheck; typed errors.
The pixel coordinates are exact, so the oracle's pixels are ours at any size, on pixel (and half-pixel) boundaries,
far outside and at non-finite grid points (PyTorch's values there)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_to_largest
from tensorlogic.autograd import gradcheck


def _grid(rng, out_shape, sizes, mode, align_corners):
    """[N, *out, dims] f16 grid points whose pixel coordinates keep 0.1 from the boundaries that matter (integers
    for bilinear, half-integers for nearest); some fall outside the input."""
    coords = []
    for size in reversed(sizes):  # x (the last spatial dim) first
        frac = rng.uniform(0.1, 0.9, out_shape) if mode != "nearest" else \
            rng.uniform(0.1, 0.4, out_shape) + 0.5 * rng.integers(0, 2, out_shape)
        pixel = rng.integers(-3, size + 2, out_shape) + frac
        coords.append(pixel / (size - 1) * 2 - 1 if align_corners else (2 * pixel + 1) / size - 1)
    return np.stack(coords, -1).astype(np.float16)


# Bicubic sums 16 products of f16 weights and values, each product and partial sum rounded, its weights and their
# derivatives polynomials of f16 ops: over 900 configurations (150 seeds, 2026-12-08) the output, input gradient and
# grid gradient came within 2.5, 2.2 and 3.3 thousandths of the largest value (beyond 1e-3); 6 is held.
ULPS = {"bilinear": 2, "nearest": 2, "bicubic": 6}


@pytest.mark.parametrize("dims,mode", [(2, "bilinear"), (2, "nearest"), (2, "bicubic"), (3, "bilinear"),
                                       (3, "nearest")])  # (bicubic is 2-d only: test_grid_sample_errors)
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch(device, rng, dims, mode, padding_mode, align_corners):
    sizes = [4, 5, 6][-dims:]
    x = rng.standard_normal([2, 3] + sizes).astype(np.float16)
    g = _grid(rng, (2, 3, 4, 2)[:dims + 1], sizes, mode, align_corners)
    w = rng.uniform(0.5, 1.5, (2, 3, 3, 4, 2)[:dims + 2]).astype(np.float16)
    for dtype in (torch.float32, torch.float64):
        a, b = (tl.tensor(v, device=device, requires_grad=True) for v in (x, g))
        ta, tb = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in (x, g))
        got = F.grid_sample(a, b, mode, padding_mode, align_corners)
        want = TF.grid_sample(ta, tb, mode, padding_mode, align_corners)
        assert tuple(got.shape) == tuple(want.shape)
        assert_close_to_largest(got, want.detach().double().numpy(), ULPS[mode])
        (got * tl.tensor(w, device=device)).sum().backward()
        (want * torch.tensor(w, dtype=dtype)).sum().backward()
        assert_close_to_largest(a.grad, ta.grad.double().numpy(), ULPS[mode])
        if mode != "nearest":
            assert_close_to_largest(b.grad, tb.grad.double().numpy(), ULPS[mode])
        else:  # nearest: the output does not depend on the grid (PyTorch's gradient is zeros)
            assert b.grad is None and not tb.grad.any()


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(device, rng, dims, align_corners):
    theta = rng.standard_normal((2, dims, dims + 1)).astype(np.float16)
    size = (2, 3, 4, 5, 3)[:dims + 2]
    w = rng.uniform(0.5, 1.5, (2,) + size[2:] + (dims,)).astype(np.float16)
    for dtype in (torch.float32, torch.float64):
        t, tt = tl.tensor(theta, device=device, requires_grad=True), torch.tensor(theta, dtype=dtype, requires_grad=True)
        got, want = F.affine_grid(t, size, align_corners), TF.affine_grid(tt, size, align_corners=align_corners)
        assert_close_to_largest(got, want.detach().double().numpy())
        (got * tl.tensor(w, device=device)).sum().backward()
        (want * torch.tensor(w, dtype=dtype)).sum().backward()
        assert_close_to_largest(t.grad, tt.grad.double().numpy())


def test_spatial_transformer_gradcheck(device, rng):
    """A spatial transformer's forward (affine_grid then bilinear grid_sample) checked end to end."""
    x = tl.tensor(rng.standard_normal((1, 2, 4, 5)).astype(np.float16), device=device, requires_grad=True)
    theta = tl.tensor(np.array([[[0.8, 0.1, 0.05], [-0.1, 0.7, 0.1]]], np.float16), device=device, requires_grad=True)
    assert gradcheck(lambda a, t: F.grid_sample(a, F.affine_grid(t, (1, 2, 3, 3), False), align_corners=False),
                     (x, theta),
                     reference=lambda a, t: TF.grid_sample(torch.from_numpy(a),
                                                           TF.affine_grid(torch.from_numpy(t), (1, 2, 3, 3), False),
                                                           align_corners=False).numpy())


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_bicubic_gradcheck(device, rng, padding_mode):
    """Bicubic sampling's gradients in input and grid by central differences in float64, with points outside the
    input among them."""
    x = tl.tensor(rng.standard_normal((1, 2, 4, 5)).astype(np.float16), device=device, requires_grad=True)
    grid = tl.tensor(_grid(rng, (1, 2, 3), [4, 5], "bicubic", False), device=device, requires_grad=True)
    assert gradcheck(lambda a, g: F.grid_sample(a, g, "bicubic", padding_mode, align_corners=False), (x, grid),
                     reference=lambda a, g: TF.grid_sample(torch.from_numpy(a), torch.from_numpy(g), "bicubic",
                                                           padding_mode, align_corners=False).numpy())


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_exact_coordinates(device, rng, mode, padding_mode, align_corners):
    """Hundreds of pixels wide (an f16 pixel coordinate would round to a wrong pixel there), grid points on pixel
    and half-pixel boundaries, at the edges, far outside (up to f16's largest) and anywhere: PyTorch's float64
    values and gradients."""
    sizes = [int(rng.integers(40, 80)), int(rng.integers(300, 700))]
    x = rng.standard_normal([1, 2] + sizes).astype(np.float16)
    points = []
    for size in reversed(sizes):
        pixel = rng.integers(-2, size + 2, 40) + rng.choice([0.0, 0.5, 0.25], 40)
        on_grid = pixel / max(size - 1, 1) * 2 - 1 if align_corners else (2 * pixel + 1) / size - 1
        points.append(np.concatenate([on_grid, rng.uniform(-1.1, 1.1, 20), [-1.0, 1.0, 40.0, -3000.0, 65504.0]]))
    g = np.stack(points, -1).astype(np.float16).reshape(1, 5, 13, 2)
    w = rng.uniform(0.5, 1.5, (1, 2, 5, 13)).astype(np.float16)
    a, b = (tl.tensor(v, device=device, requires_grad=True) for v in (x, g))
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, g))
    got = F.grid_sample(a, b, mode, padding_mode, align_corners)
    want = TF.grid_sample(ta, tb, mode, padding_mode, align_corners)
    assert_close_to_largest(got, want.detach().numpy(), ULPS[mode])
    (got * tl.tensor(w, device=device)).sum().backward()
    (want * torch.tensor(w, dtype=torch.float64)).sum().backward()
    assert_close_to_largest(a.grad, ta.grad.numpy(), ULPS[mode])
    if mode != "nearest":
        assert_close_to_largest(b.grad, tb.grad.numpy(), ULPS[mode])


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_non_finite_grid(device, rng, mode, padding_mode):
    """NaN and infinite grid coordinates give PyTorch's (CPU) values: NaN through bilinear weights and bicubic ones,
    0 outside for nearest, and for border and reflection the pixel their clipping makes of them."""
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float16)
    special = np.array([np.nan, np.inf, -np.inf, 0.5], np.float16)
    g = np.stack(np.meshgrid(special, special), -1).reshape(1, 4, 4, 2)
    for align_corners in (False, True):
        got = F.grid_sample(tl.tensor(x, device=device), tl.tensor(g, device=device), mode, padding_mode,
                            align_corners)
        want = TF.grid_sample(torch.tensor(x, dtype=torch.float32), torch.tensor(g, dtype=torch.float32), mode,
                              padding_mode, align_corners)
        np.testing.assert_allclose(got.numpy().astype(np.float32), want.numpy(), atol=2e-3, rtol=2e-3)


def test_grid_sample_errors(device):
    x = tl.zeros((1, 2, 4, 4), device=device)
    grid = tl.zeros((1, 3, 3, 2), device=device)
    with pytest.raises(ValueError):
        F.grid_sample(x, grid, mode="cubic")
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(tl.zeros((1, 1, 2, 2, 2), device=device), tl.zeros((1, 1, 1, 1, 3), device=device),
                      mode="bicubic")
    with pytest.raises(ValueError):
        F.grid_sample(x, grid, padding_mode="circular")
    with pytest.raises(tl.ShapeMismatchError):
        F.grid_sample(x, tl.zeros((1, 3, 3, 3), device=device))
    with pytest.raises(tl.ShapeMismatchError):
        F.grid_sample(x, tl.zeros((2, 3, 3, 2), device=device))
    with pytest.raises(TypeError):
        F.grid_sample(x, np.zeros((1, 3, 3, 2)))
    with pytest.raises(TypeError, match="floating-point"):
        F.grid_sample(x, tl.zeros((1, 3, 3, 2), dtype=tl.int64, device=device))
    with pytest.raises(RuntimeError, match="non-empty spatial dimensions"):
        F.grid_sample(tl.zeros((1, 2, 0, 4), device=device), grid, mode="bicubic")
    assert F.grid_sample(tl.zeros((0, 2, 4, 4), device=device), tl.zeros((0, 3, 3, 2), device=device)).shape == \
        (0, 2, 3, 3)  # an empty batch, as PyTorch's
    with pytest.raises(tl.ShapeMismatchError):
        F.affine_grid(tl.zeros((1, 2, 3), device=device), (1, 1, 2, 2, 2))
    with pytest.raises(ValueError):
        F.affine_grid(tl.zeros((1, 2, 3), device=device), (1, 1, 2))
    with pytest.raises(TypeError):
        F.affine_grid(tl.zeros((1, 2, 3), dtype=tl.int64, device=device), (1, 1, 2, 2))
