"""scaled_dot_product_attention at the sizes of real models, against PyTorch's float32 SDPA on the same
f16-rounded inputs (rounded to f16 once). On CUDA these shapes run the tensor-core kernel
(cuda/attention_tiled.cu: head dims multiples of 8 up to 128, contiguous last axes, 16-byte aligned
rows): sequence lengths that are not multiples of its tiles, keys != queries, causal diagonals inside
tiles, additive masks with fully masked rows, batch broadcasting; the last cases fall back to the
general kernel. The CUDA kernel rounds the softmax weights to f16 for the P @ V product (as
FlashAttention and PyTorch's fused kernels do); each weight's relative error is 2^-11 at most, far
inside the tolerance below. Gradients (first order, no mask needing one) run the fused backward kernels
on CUDA (cuda/attention_backward.cu) and the CPU (cpu/attention.cpp) and the composed backward elsewhere,
against PyTorch's float64 autograd.
The small-shape and error cases live in test_conv.py, double backward in test_autograd.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorlogic as tl
from tensorlogic import _core
import oracle
from oracle import assert_close_to_scale, f16, f16_tensor, host, torch_of


def sdpa_ref(q, k, v, mask=None, causal=False, scale=None):
    m = None if mask is None else (torch.tensor(mask) if mask.dtype == np.bool_ else torch_of(mask))
    return F.scaled_dot_product_attention(torch_of(q), torch_of(k), torch_of(v), attn_mask=m, is_causal=causal, scale=scale).numpy()


# (batch..., L, S, E, Ev)
SHAPES = [
    ((2, 3), 1, 1, 64, 64),
    ((2,), 17, 130, 64, 64),
    ((1, 2), 130, 17, 128, 128),
    ((2,), 257, 257, 64, 64),
    ((1,), 257, 100, 128, 128),  # more queries than keys
    ((2,), 64, 300, 128, 128),   # more keys than queries
    ((3,), 33, 65, 32, 16),      # head dims padded in shared memory
    ((2,), 70, 129, 96, 72),
    ((1,), 100, 90, 40, 40),
    ((2,), 19, 23, 8, 8),
    ((1, 2), 130, 257, 256, 256),  # CUDA's Hopper forward: 80-key tiles, a tail of 17 keys
]


@pytest.mark.parametrize("batch,L,S,E,Ev", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_tiles(device, rng, batch, L, S, E, Ev, causal):
    q, k, v = f16(rng, *batch, L, E), f16(rng, *batch, S, E), f16(rng, *batch, S, Ev)
    got = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), f16_tensor(v, device), is_causal=causal)
    assert_close_to_scale(got, sdpa_ref(q, k, v, causal=causal))


@pytest.mark.parametrize("L,S,E", [(130, 257, 64), (17, 40, 128), (257, 1, 64), (70, 170, 256)])
def test_sdpa_additive_mask(device, rng, L, S, E):
    q, k, v = f16(rng, 2, 2, L, E), f16(rng, 2, 2, S, E), f16(rng, 2, 2, S, E)
    mask = f16(rng, 2, 1, L, S, scale=2.0)  # broadcast over heads
    rows = rng.random(L) < 0.2
    rows[L // 2] = True
    mask[0, 0, rows, :] = -np.inf  # rows with every key masked give zeros
    mask[1, 0, :, rng.random(S) < 0.3] = -np.inf
    got = tl.scaled_dot_product_attention(*(f16_tensor(a, device) for a in (q, k, v)), attn_mask=f16_tensor(mask, device),
                                          scale=0.3)
    ref = sdpa_ref(q, k, v, mask, scale=0.3)
    assert np.all(ref[0, :, np.all(np.isinf(mask[0, 0]), -1)] == 0)
    assert_close_to_scale(got, ref)


def test_sdpa_mask_views_and_bool(device, rng):
    L, S, E = 70, 90, 64
    q, k, v = f16(rng, 3, L, E), f16(rng, 3, S, E), f16(rng, 3, S, E)
    tq, tk, tv = (f16_tensor(a, device) for a in (q, k, v))
    mask = f16(rng, S, L)  # passed transposed: a mask view with a non-unit key stride
    got = tl.scaled_dot_product_attention(tq, tk, tv, attn_mask=f16_tensor(mask, device).transpose(0, 1))
    assert_close_to_scale(got, sdpa_ref(q, k, v, np.ascontiguousarray(mask.T)))
    keep = rng.random((3, L, S)) > 0.5
    keep[1, 5, :] = False
    got = tl.scaled_dot_product_attention(tq, tk, tv, attn_mask=keep)
    assert_close_to_scale(got, sdpa_ref(q, k, v, keep))


def test_sdpa_batch_broadcast(device, rng):
    q, k, v = f16(rng, 2, 1, 65, 64), f16(rng, 1, 3, 80, 64), f16(rng, 1, 3, 80, 64)
    got = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), f16_tensor(v, device), is_causal=True)
    assert got.shape == (2, 3, 65, 64)
    assert_close_to_scale(got, sdpa_ref(q, k, v, causal=True))


def test_sdpa_large_scores(device, rng):
    # scores of several hundred: the softmax is nearly one-hot, exp must be taken after the row max
    q, k, v = f16(rng, 2, 2, 96, 64, scale=8.0), f16(rng, 2, 2, 96, 64, scale=8.0), f16(rng, 2, 2, 96, 64)
    for causal in (False, True):
        got = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), f16_tensor(v, device), is_causal=causal)
        assert_close_to_scale(got, sdpa_ref(q, k, v, causal=causal))


def test_sdpa_heads_interleaved(device, rng):
    # [B, L, H, E] viewed as [B, H, L, E] (how multi-head layers call it): strided rows, contiguous last axis
    B, L, H, E = 2, 77, 4, 64
    q, k, v = f16(rng, B, L, H, E), f16(rng, B, L, H, E), f16(rng, B, L, H, E)
    tq, tk, tv = (f16_tensor(a, device).transpose(1, 2) for a in (q, k, v))
    got = tl.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    ref = sdpa_ref(*(np.ascontiguousarray(a.transpose(0, 2, 1, 3)) for a in (q, k, v)), causal=True)
    assert_close_to_scale(got, ref)


@pytest.mark.parametrize("case", ["head_dim_20", "head_dim_160", "strided_last", "unaligned_rows"])
def test_sdpa_general_kernel_cases(device, rng, case):
    """Inputs the tiled kernel does not take run the general kernel; same results."""
    E = {"head_dim_20": 20, "head_dim_160": 160}.get(case, 64)
    q, k, v = f16(rng, 2, 40, E), f16(rng, 2, 50, E), f16(rng, 2, 50, E)
    tq, tk, tv = (f16_tensor(a, device) for a in (q, k, v))
    if case == "strided_last":
        wide = np.zeros((2, 40, 2 * E))
        wide[..., ::2] = q
        tq = f16_tensor(wide, device)[..., ::2]
    if case == "unaligned_rows":  # rows start 4 elements (8 bytes) into a wider row
        wide = np.zeros((2, 50, E + 8))
        wide[..., 4:E + 4] = k
        tk = f16_tensor(wide, device)[..., 4:E + 4]
    for causal in (False, True):
        got = tl.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
        assert_close_to_scale(got, sdpa_ref(q, k, v, causal=causal))


# Model sizes, where CUDA runs its Hopper kernel on compute capability 9.0 (cuda/attention_sm90a.cu: head dims
# 64, 128 and 256; 128-row items, 192-row ones at 64 without a mask unless causal below 2048 rows; 128-key tiles,
# 80-key ones at 256) and the mma.sync kernel elsewhere (no kernel there keeps statistics at d = 256):
# lengths on and off the tiles, keys != queries, contiguous heads or heads split from one [B, L, 3C] projection
# (batch strides that do not nest).
# (B, H, L, S, E, split)
MODEL_SHAPES = [
    (2, 4, 1024, 1024, 64, True),
    (1, 3, 1000, 1000, 128, True),
    (2, 2, 333, 333, 64, False),
    (1, 2, 200, 777, 128, False),  # more keys than queries: several key tiles per causal row tile
    (1, 2, 700, 129, 128, False),  # more queries than keys: causal rows past the last key see every key
    (1, 2, 384, 200, 64, False),   # two whole 192-row items (d = 64, not causal), fewer keys than queries
    (1, 1, 2100, 2100, 64, False),  # causal 192-row items too (from 2048 rows), the last one partly past the end
    # 154 items, more than an H100's 132 SMs: blocks draw further items and rewrite their item slots
    (1, 14, 2100, 2100, 64, True),
    (1, 8, 2048, 2048, 256, False),
    (1, 3, 410, 410, 256, True),   # split views (self-attention), 410 keys: five 80-key tiles and a tail of 10
]


def model_operands(rng, B, H, L, S, E, split):
    """q, k, v as float64 copies of f16 values ([B, H, rows, E]) and as tensors on `device` laid out as asked."""
    if split:
        x = f16(rng, B, L, 3 * H * E)
        parts = [x[..., i * H * E:(i + 1) * H * E].reshape(B, L, H, E).transpose(0, 2, 1, 3) for i in range(3)]
        return parts, lambda device: [z.view(B, L, H, E).transpose(1, 2) for z in f16_tensor(x, device).split(H * E, dim=2)]
    parts = [f16(rng, B, H, L, E), f16(rng, B, H, S, E), f16(rng, B, H, S, E)]
    return parts, lambda device: [f16_tensor(a, device) for a in parts]


@pytest.mark.parametrize("B,H,L,S,E,split", MODEL_SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_model_sizes_and_kept_statistics(device, rng, B, H, L, S, E, split, causal):
    """The output against PyTorch's float64 SDPA, and each row's kept log-sum-exp (base 2 of the scaled
    scores, what the fused backward reads) against float64's. CUDA only: the CPU's kernel keeps no statistics
    and its float64 reference at these sizes would cost the suite seconds."""
    if not device.startswith("cuda"):
        pytest.skip("kernels that keep row statistics exist on CUDA only")
    (q, k, v), on = model_operands(rng, B, H, L, S, E, split)
    tq, tk, tv = on(device)
    out, stats = _core.scaled_dot_product_attention_keeping_stats(tq._a, tk._a, tv._a, None, causal, None)
    ref = F.scaled_dot_product_attention(*(torch.from_numpy(np.ascontiguousarray(a)) for a in (q, k, v)),
                                         is_causal=causal).numpy()
    assert_close_to_scale(np.asarray(_core.to_device(out, "cpu")), ref)
    props = tl.cuda.get_device_properties(device)
    if E == 256 and (props.major, props.minor) != (9, 0):
        return  # only the Hopper kernel keeps statistics at d = 256
    assert stats is not None
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(E)
    if causal:
        scores[..., np.triu(np.ones((L, S), dtype=bool), k=1)] = -np.inf
    top = scores.max(axis=-1, keepdims=True)
    lse2 = (np.log(np.exp(scores - top).sum(axis=-1)) + top[..., 0]) / np.log(2.0)
    kept = np.asarray(_core.to_device(stats, "cpu")).view(np.float32)  # f32 bits in an int32 array
    np.testing.assert_allclose(kept.astype(np.float64), lse2, rtol=1e-4, atol=1e-3)


def assert_grad_close(got, ref, rtol=4e-3):
    """A gradient is a chain of f16-rounded products (P and dS enter the CUDA kernels' MMAs as f16), so the
    slack scales with each element and with the largest one (oracle's rule for gradients)."""
    oracle.assert_grad_close(got, ref, rtol, "gradient")


# (q batch, k/v batch, L, S, E, Ev): on CUDA the head dim 20 case runs the composed backward, the others the
# fused kernels (d = 256 the Hopper one only, on compute capability 9.0)
GRAD_SHAPES = [
    ((2, 2), (2, 2), 70, 90, 64, 64),
    ((1, 2), (1, 2), 130, 130, 128, 128),
    ((2,), (2,), 1, 33, 64, 64),
    ((3,), (3,), 45, 20, 40, 24),
    ((2, 1), (1, 3), 65, 70, 64, 64),  # batch broadcasting: gradients summed over the broadcast axes
    ((2,), (2,), 33, 33, 20, 20),
    ((1, 2), (1, 2), 70, 150, 256, 256),
    ((2,), (2,), 40, 300, 64, 64),  # causal: key blocks with one query tile and with none (Hopper's pipelined d 64)
]


@pytest.mark.parametrize("B,H,L,S,E", [(2, 3, 1024, 1024, 64), (1, 2, 777, 1000, 128), (1, 2, 500, 200, 128),
                                       (1, 2, 600, 650, 256),
                                       # more key blocks than an H100's 132 SMs: persistent blocks take several
                                       (2, 96, 256, 256, 64), (1, 96, 100, 300, 64), (1, 64, 300, 300, 128),
                                       (1, 48, 200, 200, 256),
                                       # d 64's 128-query tiles: the last tile's second half wholly past the end
                                       (1, 3, 192, 448, 64)])
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_backward_model_sizes(device, rng, B, H, L, S, E, causal):
    """Gradients at model sizes (CUDA's Hopper backward on compute capability 9.0: 128-key blocks, 128-query
    tiles at d = 64 and 64-query tiles above, lengths off both; 64-key blocks at d = 256; causal 100 x 300: key blocks without a query tile between
    others) against PyTorch's float64 autograd. CUDA only, as the forward's model sizes."""
    if not device.startswith("cuda"):
        pytest.skip("the CPU's backward is checked at the smaller GRAD_SHAPES")
    q, k, v = f16(rng, B, H, L, E), f16(rng, B, H, S, E), f16(rng, B, H, S, E)
    ours = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]  # float64
    g = f16(rng, B, H, L, E)
    tl.scaled_dot_product_attention(*ours, is_causal=causal).backward(f16_tensor(g, device))
    F.scaled_dot_product_attention(*theirs, is_causal=causal).backward(torch.tensor(g))
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)


@pytest.mark.parametrize("qb,kb,L,S,E,Ev", GRAD_SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_backward(device, rng, qb, kb, L, S, E, Ev, causal):
    q, k, v = f16(rng, *qb, L, E), f16(rng, *kb, S, E), f16(rng, *kb, S, Ev)
    ours = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]  # float64
    out = tl.scaled_dot_product_attention(*ours, is_causal=causal)
    ref = F.scaled_dot_product_attention(*theirs, is_causal=causal)
    g = f16(rng, *ref.shape)
    out.backward(f16_tensor(g, device))
    ref.backward(torch.tensor(g))
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)


def test_sdpa_backward_expanded_grad(device, rng):
    # out.sum() hands the backward a stride-0 gradient
    q, k, v = f16(rng, 2, 50, 64), f16(rng, 2, 60, 64), f16(rng, 2, 60, 64)
    ours = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    tl.scaled_dot_product_attention(*ours, is_causal=True).sum().backward()
    F.scaled_dot_product_attention(*theirs, is_causal=True).sum().backward()
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)


@pytest.mark.parametrize("E", [64, 128, 256, 20])
def test_sdpa_backward_constant_mask(device, rng, E):
    # an additive mask without a gradient (padding, relative bias) keeps the fused backward on CUDA
    q, k, v = f16(rng, 2, 2, 70, E), f16(rng, 2, 2, 90, E), f16(rng, 2, 2, 90, E)
    mask = f16(rng, 2, 1, 70, 90)
    mask[0, 0, 3, :] = -np.inf  # every key masked: zero output and gradients
    mask[1, 0, :, 5] = -np.inf
    ours = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = tl.scaled_dot_product_attention(*ours, attn_mask=f16_tensor(mask, device))
    ref = F.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask))
    g = f16(rng, *ref.shape)
    out.backward(f16_tensor(g, device))
    ref.backward(torch.tensor(g))
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)
    assert np.all(host(ours[0].grad)[0, :, 3] == 0)


def test_sdpa_backward_heads_interleaved(device, rng):
    # strided rows ([B, L, H, E] viewed as [B, H, L, E]) are taken as they are by the fused backward
    B, L, H, E = 2, 77, 4, 64
    q, k, v = f16(rng, B, L, H, E), f16(rng, B, L, H, E), f16(rng, B, L, H, E)
    leaves = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = tl.scaled_dot_product_attention(*(x.transpose(1, 2) for x in leaves), is_causal=True)
    ref = F.scaled_dot_product_attention(*(x.transpose(1, 2) for x in theirs), is_causal=True)
    g = f16(rng, *ref.shape)
    out.backward(f16_tensor(g, device))
    ref.backward(torch.tensor(g))
    for a, e in zip(leaves, theirs):
        assert_grad_close(a.grad, e.grad)


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_backward_from_kept_statistics(device, rng, causal):
    # In training the forward keeps its output and row log-sum-exps where the device can (CUDA's tiled
    # kernel), and the fused backward reads them instead of running the forward again: the same gradients
    # as the backward that recomputes them (the same kernels), bit for bit.
    q, k, v, g = (f16_tensor(f16(rng, 2, 3, 70, 64), device) for _ in range(4))
    out, stats = _core.scaled_dot_product_attention_keeping_stats(q._a, k._a, v._a, None, causal, None)
    assert (stats is not None) == (device.startswith("cuda"))
    np.testing.assert_array_equal(np.asarray(_core.to_device(out, "cpu")),
                                  host(tl.scaled_dot_product_attention(q, k, v, is_causal=causal)))
    recomputed = _core.scaled_dot_product_attention_backward(q._a, k._a, v._a, None, g._a, causal, None)
    kept = _core.scaled_dot_product_attention_backward(q._a, k._a, v._a, None, g._a, causal, None, out, stats)
    assert (recomputed is None) == (kept is None)
    for a, b in zip(recomputed or (), kept or ()):
        np.testing.assert_array_equal(np.asarray(_core.to_device(a, "cpu")), np.asarray(_core.to_device(b, "cpu")))


def test_sdpa_output_changed_in_place_before_backward(device, rng):
    # where the backward reads the kept output (CUDA), changing it in place first raises, as in PyTorch;
    # elsewhere nothing of it is kept and the gradient is the product rule's
    q, k, v = (f16_tensor(f16(rng, 2, 40, 64), device).requires_grad_() for _ in range(3))
    out = tl.scaled_dot_product_attention(q, k, v)
    out.mul_(2.0)
    if device.startswith("cuda"):
        with pytest.raises(RuntimeError, match="in-place operation"):
            out.sum().backward()
    else:
        out.sum().backward()
        assert q.grad is not None


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dropout", [0.0, 1.0])
def test_sdpa_zero_size_head_dim(device, rng, causal, dropout):  # found by the op fuzzer
    """Each score is an empty sum (0): uniform weights over the visible keys, as PyTorch."""
    q, k, v = f16(rng, 2, 3, 0), f16(rng, 2, 4, 0), f16(rng, 2, 4, 5)
    got = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), f16_tensor(v, device),
                                          is_causal=causal, dropout_p=dropout)
    assert_close_to_scale(got, sdpa_ref(q, k, v, causal=causal) * (1.0 - dropout))


@pytest.mark.parametrize("E", [64, 20])
def test_sdpa_heads_split_from_one_projection(device, rng, E):
    """GPT-2's attention: q, k and v split from one [B, T, 3C] projection and viewed as [B, H, T, E], strides
    (3TC, E, 3C, 1), whose batch and head axes do not merge: one kernel call covers both. The output is laid
    out as [B, T, H, E] (as PyTorch's fused kernels do), so the model's transpose back is contiguous, and the
    gradients through transpose, view and split are PyTorch's (float64)."""
    B, T, H = 2, 70, 3
    C = H * E
    x, g = f16(rng, B, T, 3 * C), f16(rng, B, T, C)

    def step(lib, leaf, grad):
        q, k, v = (z.view(B, T, H, E).transpose(1, 2) for z in leaf.split(C, dim=2))
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        merged = out.transpose(1, 2)
        merged.contiguous().view(B, T, C).backward(grad)
        return merged

    ours, theirs = f16_tensor(x, device).requires_grad_(), torch.tensor(x, requires_grad=True)
    merged = step(tl, ours, f16_tensor(g, device))
    ref = step(torch, theirs, torch.tensor(g))
    assert merged.is_contiguous()
    assert_close_to_scale(merged, ref.detach().numpy())
    assert_grad_close(ours.grad, theirs.grad)
    # the fused backward (where the device has one for these shapes) lays dq, dk and dv out as the three
    # parts of one [B, T, 3C] array, so that the split's backward joins them with no copy
    q, k, v = (z.view(B, T, H, E).transpose(1, 2) for z in f16_tensor(x, device).split(C, dim=2))
    grads = _core.scaled_dot_product_attention_backward(q._a, k._a, v._a, None, merged.transpose(1, 2)._a, True,
                                                        None)
    if grads is not None:
        parts = [_core.reshape(_core.transpose(a, 1, 2), [B, T, C]) for a in grads]
        joined = _core.join_adjacent(parts, 2)
        assert joined is not None and joined.is_contiguous()


def _dense_order(strides):
    """Axes from the largest stride to the smallest (ties by position)."""
    return sorted(range(len(strides)), key=lambda d: -strides[d])


# The physical axis order of q, k and v as a permutation of the logical [batch..., rows, E]
LAYOUTS = {
    "heads_outer": (1, 0, 2, 3),        # [H, B, L, E] memory: two batch groups
    "rows_outer": (2, 0, 1, 3),         # [L, B, H, E]: batch and heads merge, rows strided
    "three_groups": (2, 0, 3, 1, 4),    # [B2, B0, L, B1, E]: no two batch axes merge, the core loops one
    "head_dim_outer": (0, 1, 3, 2),     # [B, H, E, L]: E strided (the general kernel on CUDA)
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_permuted_layouts(device, rng, layout, causal):
    """q, k and v as permuted views of arrays laid out otherwise: forward and gradients against PyTorch's,
    the output and the fused backward's gradients laid out as q, k and v are (where E is innermost)."""
    order = LAYOUTS[layout]
    batch = (2, 3) if len(order) == 4 else (2, 2, 3)
    L, S, E = 45, 70, 64
    logical = [(*batch, L, E), (*batch, S, E), (*batch, S, E)]
    back = [int(d) for d in np.argsort(order)]  # physical -> logical axes
    arrays = [f16(rng, *(shape[d] for d in order)) for shape in logical]
    ours = [f16_tensor(a, device).requires_grad_() for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    q, k, v = (a.permute(*back) for a in ours)
    out = tl.scaled_dot_product_attention(q, k, v, is_causal=causal)
    ref = F.scaled_dot_product_attention(*(a.permute(*back) for a in theirs), is_causal=causal)
    assert_close_to_scale(out, ref.detach().numpy())
    g = f16(rng, *ref.shape)
    out.backward(f16_tensor(g, device))
    ref.backward(torch.tensor(g))
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)
    if order[-1] == len(order) - 1:  # E innermost: laid out as q is (PyTorch's empty_like)
        assert _dense_order(out.stride()) == _dense_order(q.stride())
        grads = _core.scaled_dot_product_attention_backward(q._a, k._a, v._a, None, f16_tensor(g, device)._a, causal,
                                                            None)
        for got, x in zip(grads or (), (q, k, v)):
            assert _dense_order(got.strides) == _dense_order(x.stride())
    else:
        assert out.is_contiguous()


@pytest.mark.parametrize("L", [5, 16, 17, 33])
def test_sdpa_causal_negative_scale(device, rng, L):
    """A negative scale turns scores around; keys past the causal diagonal (the row kernels' padding) must
    stay excluded. Against float64 numpy: PyTorch's CPU kernel returns NaN here."""
    q, k, v = f16(rng, 2, 3, L, 8), f16(rng, 2, 3, L, 8), f16(rng, 2, 3, L, 8)
    s = np.where(np.tril(np.ones((L, L), bool)), q @ k.swapaxes(-2, -1) * -0.7, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    expected = p / p.sum(-1, keepdims=True) @ v
    out = tl.nn.functional.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device),
                                                        f16_tensor(v, device), is_causal=True, scale=-0.7)
    assert_close_to_scale(out, expected)
