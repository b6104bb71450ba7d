"""conv2d, pooling, unfold/fold and scaled_dot_product_attention against torch.nn.functional in
float32 on the same f16-rounded inputs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorlogic as tl
from oracle import assert_close_to_scale, f16, f16_tensor, host, torch_of
from opinfo import CONV2D_CASES, POOL2D_CASES


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CONV2D_CASES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_conv2d_matches_torch(device, rng, xs, ws, stride, padding, dilation, groups, with_bias):
    x, w, b = f16(rng, *xs), f16(rng, *ws, scale=0.3), f16(rng, ws[0])
    bias = f16_tensor(b, device) if with_bias else None
    got = tl.conv2d(f16_tensor(x, device), f16_tensor(w, device), bias, stride, padding, dilation, groups)
    ref = F.conv2d(torch_of(x), torch_of(w), torch_of(b) if with_bias else None, stride, padding, dilation, groups)
    assert_close_to_scale(got, ref.numpy())


def test_conv2d_unbatched_same_padding_and_non_contiguous(device, rng):
    x, w = f16(rng, 3, 7, 6), f16(rng, 2, 3, 3, 3)
    got = tl.conv2d(f16_tensor(x, device), f16_tensor(w, device), padding="same")
    assert_close_to_scale(got, F.conv2d(torch_of(x), torch_of(w), padding="same").numpy())
    xnc = f16_tensor(f16(rng, 2, 6, 7, 3), device).permute(0, 3, 1, 2)  # NHWC memory viewed as NCHW
    assert not xnc.is_contiguous()
    assert_close_to_scale(tl.conv2d(xnc, f16_tensor(w, device)), F.conv2d(torch_of(host(xnc)), torch_of(w)).numpy())
    w1 = f16(rng, 4, 3, 1, 1)
    assert_close_to_scale(tl.conv2d(xnc, f16_tensor(w1, device)), F.conv2d(torch_of(host(xnc)), torch_of(w1)).numpy())


def test_conv2d_errors(device, rng):
    x, w = f16_tensor(f16(rng, 1, 3, 5, 5), device), f16_tensor(f16(rng, 2, 4, 3, 3), device)
    with pytest.raises(tl.ShapeMismatchError, match=r"\[1, 3, 5, 5\].*\[2, 4, 3, 3\]"):
        tl.conv2d(x, w)
    with pytest.raises(tl.ShapeMismatchError, match="too small"):
        tl.conv2d(x, f16_tensor(f16(rng, 2, 3, 7, 7), device))
    with pytest.raises(ValueError, match="stride"):
        tl.conv2d(x, f16_tensor(f16(rng, 2, 3, 3, 3), device), stride=0)
    with pytest.raises(tl.ShapeMismatchError, match="bias"):
        tl.conv2d(x, f16_tensor(f16(rng, 2, 3, 3, 3), device), f16_tensor(f16(rng, 3), device))


@pytest.mark.parametrize("xs,kernel,stride,padding,dilation,ceil_mode", POOL2D_CASES)
def test_max_pool2d_matches_torch(device, rng, xs, kernel, stride, padding, dilation, ceil_mode):
    x = f16(rng, *xs)
    got = tl.max_pool2d(f16_tensor(x, device), kernel, stride, padding, dilation, ceil_mode)
    ref = F.max_pool2d(torch_of(x), kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(host(got), ref.numpy())  # a max is exact


@pytest.mark.parametrize("xs,kernel,stride,padding,dilation,ceil_mode", [c for c in POOL2D_CASES if c[4] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(device, rng, xs, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = f16(rng, *xs)
    got = tl.avg_pool2d(f16_tensor(x, device), kernel, stride, padding, ceil_mode, count_include_pad)
    ref = F.avg_pool2d(torch_of(x), kernel, stride, padding, ceil_mode, count_include_pad)
    assert_close_to_scale(got, ref.numpy())


def test_max_pool2d_propagates_nan_and_handles_negative_values(device, rng):
    x = (-np.abs(f16(rng, 1, 1, 4, 4)) - 1).astype(np.float16).astype(np.float64)  # all negative: zero padding would be wrong
    x[0, 0, 1, 1] = np.nan
    got = host(tl.max_pool2d(f16_tensor(x, device), 2, 2, 1))
    ref = F.max_pool2d(torch_of(x), 2, 2, 1).numpy()
    np.testing.assert_array_equal(got, ref)


def test_pool_errors(device, rng):
    x = f16_tensor(f16(rng, 1, 1, 4, 4), device)
    with pytest.raises(ValueError, match="half of the kernel"):
        tl.max_pool2d(x, 2, padding=2)
    with pytest.raises(tl.ShapeMismatchError, match="4-d|too small"):
        tl.avg_pool2d(f16_tensor(f16(rng, 4, 4), device), 2)


@pytest.mark.parametrize(
    "xs,kernel,stride,padding,dilation",
    [((2, 3, 7, 6), 3, 1, 0, 1), ((1, 2, 9, 8), (3, 2), (2, 1), (1, 0), (1, 2)), ((1, 1, 5, 5), 2, 2, 1, 1)],
)
def test_unfold_fold_match_torch(device, rng, xs, kernel, stride, padding, dilation):
    x = f16(rng, *xs)
    cols = tl.unfold(f16_tensor(x, device), kernel, dilation, padding, stride)
    ref = F.unfold(torch_of(x), kernel, dilation, padding, stride)
    np.testing.assert_array_equal(host(cols), ref.numpy())  # a rearrangement is exact
    c = f16(rng, *ref.shape)
    got = tl.fold(f16_tensor(c, device), xs[2:], kernel, dilation, padding, stride)
    assert_close_to_scale(got, F.fold(torch_of(c), xs[2:], kernel, dilation, padding, stride).numpy())


def test_fold_shape_error(device, rng):
    with pytest.raises(tl.ShapeMismatchError, match="blocks"):
        tl.fold(f16_tensor(f16(rng, 1, 9, 10), device), (5, 5), 3)


SDPA_CASES = [
    ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)),
    ((4, 6, 16), (4, 9, 16), (4, 9, 16)),
    ((1, 1, 1), (1, 1, 1), (1, 1, 1)),
    ((2, 1, 5, 8), (1, 3, 6, 8), (1, 3, 6, 8)),  # batch broadcasting
    ((3, 0, 8), (3, 4, 8), (3, 4, 5)),
    ((2, 3, 4), (2, 0, 4), (2, 0, 5)),  # no keys: zeros, like PyTorch
]


@pytest.mark.parametrize("qs,ks,vs", SDPA_CASES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_matches_torch(device, rng, qs, ks, vs, causal):
    q, k, v = f16(rng, *qs), f16(rng, *ks), f16(rng, *vs)
    got = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), f16_tensor(v, device), is_causal=causal)
    ref = F.scaled_dot_product_attention(torch_of(q), torch_of(k), torch_of(v), is_causal=causal)
    assert_close_to_scale(got, ref.numpy())


def test_sdpa_masks_and_scale(device, rng):
    q, k, v = f16(rng, 2, 5, 8), f16(rng, 2, 6, 8), f16(rng, 2, 6, 3)
    tq, tk, tv = (f16_tensor(a, device) for a in (q, k, v))
    additive = f16(rng, 5, 6)
    got = tl.scaled_dot_product_attention(tq, tk, tv, attn_mask=f16_tensor(additive, device), scale=0.2)
    ref = F.scaled_dot_product_attention(torch_of(q), torch_of(k), torch_of(v), attn_mask=torch_of(additive), scale=0.2)
    assert_close_to_scale(got, ref.numpy())
    keep = rng.random((2, 5, 6)) > 0.4
    keep[0, 1, :] = False  # a row with every key masked gives zeros, like PyTorch
    got = tl.scaled_dot_product_attention(tq, tk, tv, attn_mask=keep)
    ref = F.scaled_dot_product_attention(torch_of(q), torch_of(k), torch_of(v), attn_mask=torch.tensor(keep))
    assert_close_to_scale(got, ref.numpy())


def test_sdpa_long_sequence_chunks(device, rng):
    q, k, v = f16(rng, 1, 2, 1500, 16), f16(rng, 1, 2, 1500, 16), f16(rng, 1, 2, 1500, 16)
    tq = f16_tensor(q, device).transpose(1, 2).transpose(1, 2)
    got = tl.scaled_dot_product_attention(tq, f16_tensor(k, device), f16_tensor(v, device), is_causal=True)
    ref = F.scaled_dot_product_attention(torch_of(q), torch_of(k), torch_of(v), is_causal=True)
    assert_close_to_scale(got, ref.numpy())


def test_sdpa_errors(device, rng):
    q, k, v = f16_tensor(f16(rng, 2, 5, 8), device), f16_tensor(f16(rng, 2, 6, 7), device), f16_tensor(f16(rng, 2, 6, 3), device)
    with pytest.raises(tl.ShapeMismatchError, match=r"\[2, 5, 8\]"):
        tl.scaled_dot_product_attention(q, k, v)
    k = f16_tensor(f16(rng, 2, 6, 8), device)
    with pytest.raises(ValueError, match="not both"):
        tl.scaled_dot_product_attention(q, k, v, attn_mask=f16_tensor(f16(rng, 5, 6), device), is_causal=True)
    with pytest.raises(tl.ShapeMismatchError, match="mask"):
        tl.scaled_dot_product_attention(q, k, v, attn_mask=f16_tensor(f16(rng, 5, 4), device))


def test_conv2d_many_samples_run_in_groups(device, rng):
    x, w, b = f16(rng, 5, 64, 128, 128), f16(rng, 4, 64, 3, 3, scale=0.1), f16(rng, 4)
    got = tl.conv2d(f16_tensor(x, device), f16_tensor(w, device), f16_tensor(b, device), padding=1)
    assert_close_to_scale(got, F.conv2d(torch_of(x), torch_of(w), torch_of(b), padding=1).numpy())


def test_unbatched_inputs(device, rng):
    x = f16(rng, 3, 9, 8)
    tx = f16_tensor(x, device)
    np.testing.assert_array_equal(host(tl.max_pool2d(tx, (3, 2))), F.max_pool2d(torch_of(x), (3, 2)).numpy())
    assert_close_to_scale(tl.avg_pool2d(tx, 2, stride=1, padding=1), F.avg_pool2d(torch_of(x), 2, stride=1, padding=1).numpy())
    cols = tl.unfold(tx, 3, padding=1)
    np.testing.assert_array_equal(host(cols), F.unfold(torch_of(x), 3, padding=1).numpy())
    assert_close_to_scale(tl.fold(cols, (9, 8), 3, padding=1), F.fold(torch_of(host(cols)), (9, 8), 3, padding=1).numpy())


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_conv2d_samples_in_parallel_chunks_match_torch(cpu_default, threads, rng):
    """Samples large enough that each makes its own chunk (16 x 9 x 32 x 32 column floats): the CPU runs the
    chunks on several threads, each part summing its own weight and bias gradients."""
    x = rng.standard_normal((5, 16, 32, 32)).astype(np.float16)
    w = (rng.standard_normal((4, 16, 3, 3)) / 8).astype(np.float16)
    bias = rng.standard_normal(4).astype(np.float16)
    g = rng.standard_normal((5, 4, 32, 32)).astype(np.float16)
    before = tl.get_num_threads()
    try:
        tl.set_num_threads(threads)
        ours = [tl.tensor(v, requires_grad=True) for v in (x, w, bias)]
        y = tl.nn.functional.conv2d(*ours, padding=1)
        (y * tl.tensor(g)).sum().backward()
    finally:
        tl.set_num_threads(before)
    theirs = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in (x, w, bias)]
    ref = torch.nn.functional.conv2d(*theirs, padding=1)
    (ref * torch.tensor(g.astype(np.float64))).sum().backward()
    for got, want in [(y, ref.detach())] + [(o.grad, t.grad) for o, t in zip(ours, theirs)]:
        want = want.numpy()
        err = np.abs(got.numpy().astype(np.float64) - want).max() / np.abs(want).max()
        assert err < 2e-3, err
