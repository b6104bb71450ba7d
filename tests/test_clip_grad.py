"""Gradient clipping (nn.utils.clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_) against
PyTorch's on the CPU with the same f16 gradients: PyTorch computes f16 gradients' norms in f32 and rounds them to
f16, as ours do, so norms and clipped gradients agree to an ulp. On CUDA, clipping reads nothing on the host."""
import math
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_same_bits, assert_ulp, f16_randn, host
from tensorlogic import _core, nn

needs_cuda = pytest.mark.skipif(not tl.cuda.is_available(), reason="needs CUDA")
NORM_TYPES = [2.0, 1.0, math.inf, -math.inf, 0.0, 3.5, 0.5, -2.0]


def _pairs(grads, device):
    """Parameters of both libraries holding the same f16 gradients (None where a gradient is None)."""
    ours, theirs = [], []
    for g in grads:
        shape = (2,) if g is None else g.shape
        p = nn.Parameter(tl.zeros(*shape, device=device))
        q = torch.zeros(shape, dtype=torch.float16, requires_grad=True)
        if g is not None:
            p.grad, q.grad = tl.tensor(g, device=device), torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def _random_grads(rng, scale=1.0):
    """2 to 5 gradients of 0 to 2 dims (a scalar parameter's too), and a parameter without one."""
    grads = [f16_randn(rng, tuple(rng.integers(1, 30, rng.integers(0, 3))), scale) for _ in range(rng.integers(2, 6))]
    grads.insert(int(rng.integers(0, len(grads))), None)
    return grads


def _assert_grads(ours, theirs, max_ulp=2):
    for p, q in zip(ours, theirs):
        assert (p.grad is None) == (q.grad is None)
        if q.grad is not None:
            assert_ulp(host(p.grad), q.grad.numpy(), max_ulp=max_ulp, label="clipped gradient")


@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_clip_grad_norm_matches_torch(device, rng, norm_type):
    grads = _random_grads(rng, float(rng.choice([0.01, 1.0, 30.0])))
    for below in (True, False):  # max_norm below the gradients' norm (they are scaled) and above it (kept)
        ours, theirs = _pairs(grads, device)
        exact = torch.nn.utils.get_total_norm([torch.from_numpy(g).double() for g in grads if g is not None], norm_type)
        max_norm = float(exact) * (rng.uniform(0.1, 0.9) if below else rng.uniform(1.1, 10.0))
        total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
        ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
        assert total.dtype == tl.float16 and total.shape == () and total.device == tl.device(device)
        assert_ulp(host(total), ref.numpy(), max_ulp=1, label="total norm")
        # PyTorch rounds total + 1e-6, the coefficient and each product to f16: seed 3851915768 (norm -inf, a total
        # of 2.3e-4) put one clipped gradient 3.6 ulps from ours
        _assert_grads(ours, theirs, max_ulp=4)


def test_deprecated_clip_grad_norm_warns_as_torch_and_clips(device, rng):
    """nn.utils.clip_grad_norm (no "_") warns PyTorch's FutureWarning and clips as clip_grad_norm_."""
    grads = _random_grads(rng)
    ours, theirs = _pairs(grads, device)
    with pytest.warns(FutureWarning) as caught_theirs:
        ref = torch.nn.utils.clip_grad_norm(theirs, 0.5)
    with pytest.warns(FutureWarning) as caught_ours:
        total = nn.utils.clip_grad_norm(ours, 0.5)
    assert str(caught_ours[0].message) == str(caught_theirs[0].message) and caught_ours[0].filename == __file__
    assert_ulp(host(total), ref.numpy(), max_ulp=1, label="total norm")
    _assert_grads(ours, theirs, max_ulp=4)


def test_total_norm_and_scaling_apart_match_torch(device, rng):
    grads = _random_grads(rng)
    ours, theirs = _pairs(grads, device)
    norm_type = float(rng.choice(NORM_TYPES))
    total = nn.utils.get_total_norm([p.grad for p in ours if p.grad is not None], norm_type, foreach=True)
    ref = torch.nn.utils.get_total_norm([q.grad for q in theirs if q.grad is not None], norm_type, foreach=True)
    assert_ulp(host(total), ref.numpy(), max_ulp=1, label="total norm")
    nn.utils.clip_grads_with_norm_(ours, 0.25, total, foreach=False)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.25, ref, foreach=False)
    _assert_grads(ours, theirs)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.0, 3.5])
def test_empty_gradients_add_nothing(device, rng, norm_type):
    # (norms of order inf or below 0 have no value over no elements: an error in either library)
    grads = _random_grads(rng) + [np.zeros((0, 3), np.float16)]
    ours, theirs = _pairs(grads, device)
    total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
    assert_ulp(host(total), torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type).numpy(), max_ulp=1)
    _assert_grads(ours, theirs)


def test_clip_grad_norm_of_nothing(device):
    ours, _ = _pairs([None, None], device)
    for params in ([], ours, iter([])):
        total = nn.utils.clip_grad_norm_(params, 1.0)
        assert total.shape == () and total.item() == 0.0 == torch.nn.utils.clip_grad_norm_([], 1.0).item()
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.utils.clip_grad_norm_(ours, 1.0)  # a list without gradients is not an empty generator


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_gradients(device, rng, bad):
    grads = _random_grads(rng)
    first = next(g for g in grads if g is not None)
    first.reshape(-1)[int(rng.integers(0, first.size))] = bad
    norm_type = float(rng.choice([2.0, math.inf, 1.0]))
    ours, theirs = _pairs(grads, device)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, norm_type, error_if_nonfinite=True)
    _assert_grads(ours, theirs, max_ulp=0)  # raised before scaling anything
    total = nn.utils.clip_grad_norm_(ours, 1.0, norm_type)  # scaled by 0 or NaN, as PyTorch does
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert_same_bits(host(total), ref.numpy())
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            assert_same_bits(host(p.grad), q.grad.numpy())


def test_clip_grad_value_matches_torch(device, rng):
    grads = _random_grads(rng, 3.0)
    first = next(g for g in grads if g is not None)
    first.reshape(-1)[:3] = [math.inf, -math.inf, math.nan][:first.size]
    ours, theirs = _pairs(grads, device)
    clip = float(rng.uniform(0.1, 2.0))
    assert nn.utils.clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(theirs, clip, foreach=True)
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            assert_same_bits(host(p.grad), q.grad.numpy())


@needs_cuda
def test_cuda_clipping_reads_nothing(rng):
    ours, theirs = _pairs(_random_grads(rng, 5.0), "cuda")
    before = _core.host_reads("cuda")
    total = nn.utils.clip_grad_norm_(ours, 0.5)
    nn.utils.clip_grad_value_(ours, 0.01)
    assert _core.host_reads("cuda") == before
    ref = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.01)
    assert_ulp(host(total), ref.numpy(), max_ulp=1, label="total norm")
    _assert_grads(ours, theirs)
