"""torch's top-level forms (python/tensorlogic/torch_forms.py) against PyTorch CPU on the same f16-rounded inputs:
the normalisations and dropouts in torch's argument order, absolute/positive/rsub, select and split_with_sizes
(values, views, gradients and their errors), is_same_size and the anomaly switch."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_f16, assert_close_to_scale, f16_randn, host


def _pair(x, device, grad=False):
    return tl.tensor(x, device=device, requires_grad=grad), torch.tensor(x.astype(np.float32), requires_grad=grad)


def test_normalisations_and_dropout_in_torchs_argument_order(device, rng):
    x = f16_randn(rng, (4, 6, 5))
    w, b = f16_randn(rng, (6,)), f16_randn(rng, (6,))
    mean, var = f16_randn(rng, (6,)), (np.abs(f16_randn(rng, (6,))) + 0.5).astype(np.float16)
    (ours, theirs), (tw, ttw), (tb, ttb) = _pair(x, device), _pair(w, device), _pair(b, device)
    tm, ttm = _pair(mean, device)
    tv, ttv = _pair(var, device)
    # the same kernels as nn.functional's (bit for bit), and torch's argument order (its values, to f16's rounding of
    # the normalised terms before the bias)
    cases = [(tl.batch_norm(ours, tw, tb, tm, tv, False, 0.1, 1e-5, True),
              F.batch_norm(ours, tm, tv, tw, tb, False, 0.1, 1e-5),
              torch.batch_norm(theirs, ttw, ttb, ttm, ttv, False, 0.1, 1e-5, True)),
             (tl.group_norm(ours, 3, tw, tb, 1e-5, True), F.group_norm(ours, 3, tw, tb, 1e-5),
              torch.group_norm(theirs, 3, ttw, ttb, 1e-5, True)),
             (tl.instance_norm(ours, tw, tb, None, None, True, 0.1, 1e-5, True),
              F.instance_norm(ours, None, None, tw, tb, True, 0.1, 1e-5),
              torch.instance_norm(theirs, ttw, ttb, None, None, True, 0.1, 1e-5, True))]
    for got, same, want in cases:
        np.testing.assert_array_equal(host(got), host(same))
        assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    assert tl.dropout(ours, 0.5, False) is ours
    dropped = host(tl.dropout(ours, 0.5, True))
    kept = dropped != 0
    np.testing.assert_array_equal(dropped[kept], (x.astype(np.float32) * 2).astype(np.float16)[kept])
    assert tl.alpha_dropout(ours, 0.2, False) is ours and tl.feature_alpha_dropout(ours, 0.2, False) is ours


def test_absolute_positive_rsub(device, rng):
    x, y = f16_randn(rng, (3, 4)), f16_randn(rng, (3, 4))
    (ours, theirs), (oy, ty) = _pair(x, device), _pair(y, device)
    assert_close_f16(tl.absolute(ours), torch.absolute(theirs).detach().numpy())
    assert_close_f16(ours.absolute(), theirs.absolute().detach().numpy())
    assert tl.positive(ours) is ours and ours.positive() is ours
    with pytest.raises(TypeError):
        tl.positive(tl.tensor([True, False], device=device))
    assert_close_f16(tl.rsub(ours, oy), torch.rsub(theirs, ty).detach().numpy())
    assert_close_f16(tl.rsub(ours, 2.5, alpha=3), torch.rsub(theirs, 2.5, alpha=3).numpy())


def test_select_and_split_with_sizes_are_views_with_gradients(device, rng):
    x = f16_randn(rng, (3, 4, 5))
    ours, theirs = _pair(x, device, grad=True)
    for dim, index in [(0, 1), (1, -1), (-1, 3), (2, -5)]:
        assert_close_f16(tl.select(ours, dim, index), torch.select(theirs, dim, index).detach().numpy())
    picked = ours.select(1, 2) * 3.0
    picked.sum().backward()
    theirs.select(1, 2).mul(3.0).sum().backward()
    assert_close_f16(ours.grad, theirs.grad.numpy())
    pieces = tl.split_with_sizes(ours, [2, 3], 2)
    want = torch.split_with_sizes(theirs, [2, 3], 2)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in want]
    assert_close_f16(ours.split_with_sizes([1, 2], 0)[1], theirs.split_with_sizes([1, 2], 0)[1].detach().numpy())
    with pytest.raises(IndexError, match="out of range"):
        ours.select(0, 3)
    with pytest.raises(IndexError, match="out of range"):
        ours.select(3, 0)
    with pytest.raises(TypeError):
        ours.select(0, 1.5)
    assert tl.is_same_size(ours, ours.detach()) and not ours.is_same_size(ours.select(0, 0))


def test_set_anomaly_enabled():
    assert not tl.is_anomaly_enabled()
    try:
        tl.set_anomaly_enabled(True)
        assert tl.is_anomaly_enabled()
        x = tl.tensor([0.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            (x / 0.0).sum().backward()
    finally:
        tl.set_anomaly_enabled(False)
    assert not tl.is_anomaly_enabled()
