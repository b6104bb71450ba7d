"""First derivatives of conv2d, max_pool2d and avg_pool2d through the device's fused backward (taken when no
graph of the backward is recorded) against PyTorch autograd in float64 on the same f16-rounded inputs, and
against the composed backward (unfold/fold, matmul, argmax, taken under create_graph) of the same inputs."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16, torch_of
from opinfo import CONV2D_CASES, POOL2D_CASES

TF = torch.nn.functional


def _grads(x, w, b, args, needs, device, create_graph, seed=None):
    """Our gradients of <conv2d(x, w, b), v> for the inputs in `needs`, and PyTorch's (v from `seed`)."""
    ours = [tl.tensor(v, device=device, requires_grad=need) for v, need in zip((x, w, b), needs)]
    out = tl.conv2d(*ours, *args)
    v = np.random.default_rng(seed).uniform(-1, 1, tuple(out.shape)).astype(np.float16)
    wanted = [t for t, need in zip(ours, needs) if need]
    got = tl.autograd.grad(out, wanted, tl.tensor(v, device=device), create_graph=create_graph)
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=need) for a, need in zip((x, w, b), needs)]
    ref = TF.conv2d(*theirs, *args)
    expected = torch.autograd.grad(ref, [t for t in theirs if t.requires_grad], torch.tensor(v.astype(np.float64)))
    return got, expected


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CONV2D_CASES)
def test_fused_conv2d_backward_matches_torch(device, xs, ws, stride, padding, dilation, groups, rng):
    x, w, b = f16(rng, *xs), f16(rng, *ws, scale=0.3), f16(rng, ws[0])
    args = (stride, padding, dilation, groups)
    seed = int(rng.integers(1 << 30))
    fused, expected = _grads(x, w, b, args, (True, True, True), device, create_graph=False, seed=seed)
    composed, _ = _grads(x, w, b, args, (True, True, True), device, create_graph=True, seed=seed)
    for k, (a, c, e) in enumerate(zip(fused, composed, expected)):
        assert_grad_close(a, e, 1e-2, f"fused gradient of input {k}")
        assert_grad_close(c, e, 1e-2, f"composed gradient of input {k}")


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True), (False, True, True)])
def test_fused_conv2d_backward_only_what_is_needed(device, needs, rng):
    x, w, b = f16(rng, 2, 4, 9, 9), f16(rng, 5, 4, 3, 3, scale=0.3), f16(rng, 5)
    got, expected = _grads(x, w, b, (1, 1, 1, 1), needs, device, create_graph=False)
    assert len(got) == sum(needs)
    for k, (a, e) in enumerate(zip(got, expected)):
        assert_grad_close(a, e, 1e-2, f"gradient {k}")


def test_fused_conv2d_backward_many_samples_run_in_chunks(device, rng):
    # Each sample unfolds to 8 * 9 * 24 * 24 floats: the CPU kernel takes six samples per chunk, then two
    # (dw accumulates over chunks).
    x, w, b = f16(rng, 8, 8, 24, 24), f16(rng, 4, 8, 3, 3, scale=0.3), f16(rng, 4)
    got, expected = _grads(x, w, b, (1, 1, 1, 1), (True, True, True), device, create_graph=False)
    for k, (a, e) in enumerate(zip(got, expected)):
        assert_grad_close(a, e, 1e-2, f"gradient of input {k}")


def test_conv2d_backward_errors(device, rng):
    x = tl.tensor(f16(rng, 1, 3, 5, 5), device=device)
    w = tl.tensor(f16(rng, 2, 3, 3, 3), device=device)
    with pytest.raises(tl.ShapeMismatchError, match="gradient"):
        tl._core.conv2d_backward(x._a, w._a, tl.zeros(1, 2, 4, 4, device=device)._a, (1, 1), (0, 0), (1, 1), 1,
                                 [True, True, True])
    with pytest.raises(tl.ShapeMismatchError, match=r"\[1, 3, 5, 5\].*\[2, 4, 3, 3\]"):
        bad = tl.tensor(f16(rng, 2, 4, 3, 3), device=device)
        tl._core.conv2d_backward(x._a, bad._a, tl.zeros(1, 2, 3, 3, device=device)._a, (1, 1), (0, 0), (1, 1), 1,
                                 [True, True, True])



def _pool_grads(fn, torch_fn, x, device, create_graph, seed):
    ours = tl.tensor(x, device=device, requires_grad=True)
    out = fn(ours)
    v = np.random.default_rng(seed).uniform(-1, 1, tuple(out.shape)).astype(np.float16)
    (got,) = tl.autograd.grad(out, [ours], tl.tensor(v, device=device), create_graph=create_graph)
    theirs = torch.tensor(x.astype(np.float64), requires_grad=True)
    (expected,) = torch.autograd.grad(torch_fn(theirs), [theirs], torch.tensor(v.astype(np.float64)))
    return got, expected


def _check_pool_grads(fn, torch_fn, x, device, seed):
    """fn's gradient against torch_fn's, from the fused backward kernel and (create_graph) its composed form."""
    for create_graph in (False, True):
        got, expected = _pool_grads(fn, torch_fn, x, device, create_graph, seed)
        assert_grad_close(got, expected, 1e-2, f"gradient (create_graph={create_graph})")


@pytest.mark.parametrize("xs,kernel,stride,padding,dilation,ceil_mode", POOL2D_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_fused_max_pool2d_backward_matches_torch(device, xs, kernel, stride, padding, dilation, ceil_mode, ties, rng):
    # With ties (values from {-1, 0, 1}) the whole gradient goes to each window's first maximum.
    x = rng.integers(-1, 2, xs).astype(np.float16) if ties else f16(rng, *xs)
    args = (kernel, stride, padding, dilation, ceil_mode)
    _check_pool_grads(lambda t: tl.max_pool2d(t, *args), lambda t: TF.max_pool2d(t, *args), x, device,
                      int(rng.integers(1 << 30)))


@pytest.mark.parametrize("xs,kernel,stride,padding,dilation,ceil_mode", [c for c in POOL2D_CASES if c[4] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_fused_avg_pool2d_backward_matches_torch(device, xs, kernel, stride, padding, dilation, ceil_mode,
                                                 count_include_pad, rng):
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    _check_pool_grads(lambda t: tl.avg_pool2d(t, *args), lambda t: TF.avg_pool2d(t, *args), f16(rng, *xs), device,
                      int(rng.integers(1 << 30)))


def test_fused_max_pool2d_backward_nan_and_negative_values(device, rng):
    x = -np.abs(f16(rng, 1, 2, 5, 5)) - 1  # all negative: padding must never win
    x[0, 0, 1, 1] = np.nan
    got, expected = _pool_grads(lambda t: tl.max_pool2d(t, 2, 2, 1), lambda t: TF.max_pool2d(t, 2, 2, 1),
                                x.astype(np.float16), device, False, 0)
    assert_grad_close(got, expected, 1e-2, "gradient")


def test_pool2d_backward_errors(device):
    x = tl.zeros(1, 2, 6, 6, device=device)
    with pytest.raises(tl.ShapeMismatchError, match="gradient"):
        tl._core.pool2d_backward(True, x._a, tl.zeros(1, 2, 2, 2, device=device)._a, (2, 2), (2, 2), (0, 0), (1, 1),
                                 False, True)
    with pytest.raises(ValueError, match="dilation"):
        tl._core.pool2d_backward(False, x._a, tl.zeros(1, 2, 2, 2, device=device)._a, (2, 2), (2, 2), (0, 0), (2, 2),
                                 False, True)
    with pytest.raises(ValueError, match="half of the kernel"):
        tl._core.pool2d_backward(False, x._a, tl.zeros(1, 2, 3, 3, device=device)._a, (2, 2), (2, 2), (2, 2), (1, 1),
                                 False, True)
