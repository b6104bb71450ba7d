"""tl.nn.functional's dropout, one_hot, normalize, leaky_relu, elu and interpolate (nearest, linear, bilinear,
bicubic, area) against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F

from oracle import assert_matches_torch, f16_randn, host


def _both(fn_name, x, device, **kwargs):
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    lx = tl.tensor(x, device=device, requires_grad=True)
    return tx, lx, getattr(TF, fn_name)(tx, **kwargs), getattr(F, fn_name)(lx, **kwargs)


@pytest.mark.parametrize("mode,align,size,scale", [
    ("nearest", None, (5, 7), None), ("nearest", None, None, 2), ("nearest-exact", None, (3, 5), None),
    ("bilinear", False, (7, 3), None), ("bilinear", True, (7, 9), None), ("bilinear", False, None, 1.5),
    ("bilinear", True, None, 2), ("bicubic", False, (7, 3), None), ("bicubic", True, (9, 11), None),
    ("bicubic", False, None, 1.5), ("bicubic", True, None, 2), ("bicubic", False, (2, 3), None),
    ("area", None, (3, 4), None), ("area", None, (7, 5), None), ("area", None, None, 0.7), ("area", None, None, (2, 0.5))])
def test_interpolate_2d_matches_torch(device, rng, mode, align, size, scale):
    x = f16_randn(rng, (2, 3, 4, 6))
    tx, lx, want, got = _both("interpolate", x, device, size=size, scale_factor=scale, mode=mode, align_corners=align)
    assert_matches_torch(got, want, lx, tx, rng, device, (1e-2, 1e-2), (2e-2, 2e-2))


def test_interpolate_1d_and_errors(device, rng):
    x = f16_randn(rng, (2, 3, 5))
    for mode, align in (("linear", True), ("linear", False), ("nearest", None), ("area", None)):
        _, _, want, got = _both("interpolate", x, device, size=8, mode=mode, align_corners=align)
        np.testing.assert_allclose(host(got).astype(np.float64), want.detach().numpy(), rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError):
        F.interpolate(tl.tensor(x, device=device), size=4, scale_factor=2)
    with pytest.raises(ValueError):
        F.interpolate(tl.tensor(x, device=device), size=4, mode="bilinear")
    with pytest.raises(ValueError):
        F.interpolate(tl.tensor(x, device=device), size=4, mode="bicubic")  # 4-d input only
    with pytest.raises(ValueError):
        F.interpolate(tl.tensor(x, device=device), size=4, mode="area", align_corners=True)
    x = f16_randn(rng, (1, 2, 3, 4, 5))  # area over three dims (adaptive_avg_pool3d)
    _, _, want, got = _both("interpolate", x, device, size=(2, 3, 4), mode="area")
    np.testing.assert_allclose(host(got).astype(np.float64), want.detach().numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(size=(8.5, 8.5)), TypeError, "size"),  # made 9 x 9 positions (np.arange of 8.5), no error
    (dict(scale_factor=float("nan")), RuntimeError, "scale_factor"),  # int(nan)'s bare ValueError before
    (dict(scale_factor=float("inf")), RuntimeError, "scale_factor"),
    (dict(scale_factor=("x", 2.0)), TypeError, "scale_factor"),
    (dict(size=8, mode=["bicubic"]), TypeError, "mode"),  # "unhashable type: 'list'" before
    (dict(size=(2**62, 8)), MemoryError, "beyond any memory"),  # numpy's "array is too big" before
    (dict(scale_factor=2**40), MemoryError, "beyond any memory"),
])
def test_interpolate_hostile_sizes_raise_typed_errors(device, kwargs, error, match):
    kwargs.setdefault("mode", "bicubic")
    with pytest.raises(error, match=match):
        F.interpolate(tl.zeros(1, 1, 4, 4, device=device), **kwargs)


@pytest.mark.parametrize("name,kwargs", [("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 1.3}),
                                         ("normalize", {"dim": 1}), ("normalize", {"p": 1.0, "dim": 0}),
                                         ("logsigmoid", {})])
def test_elementwise_functions_match_torch(device, rng, name, kwargs):
    x = f16_randn(rng, (5, 6), 3.0)
    if name == "elu":
        x[0, 0] = 12.0  # exp(12) overflows f16: the unused branch must not poison the gradient
    tx, lx, want, got = _both(name, x, device, **kwargs)
    np.testing.assert_allclose(host(got).astype(np.float64), want.detach().numpy(), rtol=1e-2, atol=2e-3)
    want.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(host(lx.grad).astype(np.float64), tx.grad.numpy(), rtol=2e-2, atol=2e-3)


def test_one_hot_matches_torch(device, rng):
    idx = rng.integers(0, 6, (3, 4))
    want = TF.one_hot(torch.tensor(idx))
    got = F.one_hot(tl.tensor(idx.astype(np.int32), device=device))
    assert not got.is_floating_point()
    np.testing.assert_array_equal(host(got), want.numpy())
    assert tuple(F.one_hot(tl.tensor([1, 0], device=device), 5).shape) == (2, 5)
    with pytest.raises(ValueError):
        F.one_hot(tl.tensor([3], device=device), 2)
    with pytest.raises(TypeError):
        F.one_hot(tl.ones(2, device=device))


def test_dropout(device):
    tl.manual_seed(1)
    x = tl.ones(200, 50, device=device, requires_grad=True)
    y = F.dropout(x, 0.25)
    kept = host(y) != 0
    assert 0.7 < kept.mean() < 0.8 and np.allclose(host(y)[kept], 1 / 0.75, rtol=1e-3)
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad) != 0, kept)
    assert F.dropout(x, 0.5, training=False) is x
    assert np.all(host(F.dropout(x, 1.0)) == 0)
    with pytest.raises(ValueError):
        F.dropout(x, 1.5)
    for p in (None, "x", [0.5]):  # Python's "'<=' not supported between instances" before
        with pytest.raises(TypeError, match="probability p must be a number"):
            F.dropout(x, p)
    for dtype in (tl.int64, tl.bool):  # scaled integers, and bools made int64, before
        with pytest.raises(TypeError, match="floating point"):
            F.dropout(tl.ones(4, 3, dtype=dtype, device=device), 0.5)
    z = tl.ones(4, 6, 3, 3, device=device)
    per_channel = host(F.dropout2d(z, 0.5)).reshape(4, 6, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
