"""Dropout inside scaled_dot_product_attention: the kernels (CPU, CUDA's tensor-core and general ones) drop
each probability by a Philox4x32-10 word of its own coordinate (cpp/core/philox.h's attention dropout), so
every device drops the same ones and the backward regenerates them. _core.attention_dropout_keep evaluates
that mask on the host; the outputs and gradients are checked against PyTorch in float64 computing softmax,
the product with exactly that mask / (1 - p), and the matmul. Philox itself is checked against Random123's
known-answer vectors."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn as tnn
from tensorlogic import _core
from tensorlogic.ops.conv import _dropout_factors, _probabilities
from oracle import assert_close_to_scale, f16, f16_tensor, host
from test_attention import assert_grad_close


def dropout_of_next_call(seed, p):
    """tl.manual_seed(seed) and the (p, seed, offset) that the next attention call's dropout will use."""
    tl.manual_seed(seed)
    return (p, seed, _core.random_offset())


def keep_mask(shape, drop):
    return host(tl.tensor(_core.attention_dropout_keep(list(shape), drop, "cpu"))).astype(np.float64)


def reference(q, k, v, keep, p, mask=None, causal=False, scale=None):
    """PyTorch float64: softmax(q k^T scale + mask), times keep / (1 - p), then @ v; rows whose keys are all
    masked give zeros (as the kernels)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        scores = scores + torch.tensor(mask)
    if causal:
        L, S = scores.shape[-2:]
        scores = scores.masked_fill(torch.ones(L, S, dtype=torch.bool).triu(1), float("-inf"))
    dead = torch.isinf(scores).all(-1, keepdim=True)  # kept out of the softmax: its gradient would be NaN
    probs = torch.softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)
    factor = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    return (probs * torch.tensor(keep) * factor) @ v


def run_both(device, rng, qb, kb, L, S, E, Ev, p, causal=False, mask=None, scale=None):
    """Our output and gradients against the float64 reference with the kernels' own mask."""
    q, k, v = f16(rng, *qb, L, E), f16(rng, *kb, S, E), f16(rng, *kb, S, Ev)
    drop = dropout_of_next_call(int(rng.integers(1 << 62)), p)
    ours = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    out = tl.scaled_dot_product_attention(*ours, attn_mask=None if mask is None else f16_tensor(mask, device),
                                          dropout_p=p, is_causal=causal, scale=scale)
    batch = np.broadcast_shapes(qb, kb, () if mask is None else mask.shape[:-2])
    keep = keep_mask(batch + (L, S), drop)
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]  # float64
    ref = reference(*theirs, keep, p, mask, causal, scale)
    assert_close_to_scale(out, ref.detach().numpy())
    g = f16(rng, *ref.shape)
    out.backward(f16_tensor(g, device))
    ref.backward(torch.tensor(g))
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)
    return keep


# (q batch, k/v batch, L, S, E, Ev): on CUDA the first ones run the tensor-core kernels (forward and
# backward), head dim 20 the general forward and the composed backward; key counts that are not multiples
# of 4 put a row's last counter partly past its keys.
SHAPES = [
    ((2, 3), (2, 3), 70, 90, 64, 64),
    ((1, 2), (1, 2), 130, 129, 128, 128),
    ((2,), (2,), 1, 33, 64, 64),
    ((3,), (3,), 45, 22, 40, 24),
    ((2, 1), (1, 3), 65, 70, 64, 64),  # batch broadcasting: one mask over the broadcast batch
    ((2,), (2,), 33, 35, 20, 20),
]


@pytest.mark.parametrize("qb,kb,L,S,E,Ev", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_dropout_matches_torch_with_the_kernels_mask(device, rng, qb, kb, L, S, E, Ev, causal):
    run_both(device, rng, qb, kb, L, S, E, Ev, 0.3, causal)


@pytest.mark.parametrize("E", [64, 20])
def test_dropout_with_additive_mask(device, rng, E):
    mask = f16(rng, 2, 1, 50, 70, scale=2.0)
    mask[0, 0, 3, :] = -np.inf  # every key masked: zero output and gradients
    mask[1, 0, :, 5] = -np.inf
    run_both(device, rng, (2, 2), (2, 2), 50, 70, E, E, 0.2, mask=mask, scale=0.3)


@pytest.mark.parametrize("B,H,L,S,E", [(2, 3, 1024, 1024, 64), (1, 2, 777, 1000, 128)])
@pytest.mark.parametrize("causal", [False, True])
def test_dropout_model_sizes(device, rng, B, H, L, S, E, causal):
    """At model sizes (on an H100 the mma.sync kernels take dropout, not the Hopper ones). CUDA only: the
    CPU's kernel is checked at the smaller shapes."""
    if not device.startswith("cuda"):
        pytest.skip("CUDA's kernels at model sizes")
    run_both(device, rng, (B, H), (B, H), L, S, E, E, 0.1, causal)


@pytest.mark.parametrize("E", [64, 20])
def test_dropout_mask_seen_through_identity(device, rng, E):
    # With V the identity the output is the dropped probabilities themselves (zero exactly where dropped),
    # and with dO the identity dV^T is too: the forward's and the backward's mask, element by element.
    L = S = 64 if E == 64 else 20
    q, k = f16(rng, 2, 3, L, E), f16(rng, 2, 3, S, E)
    drop = dropout_of_next_call(int(rng.integers(1 << 62)), 0.4)
    eye = np.broadcast_to(np.eye(S), (2, 3, S, S))
    v = f16_tensor(eye, device).requires_grad_()
    out = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), v, dropout_p=0.4)
    out.backward(f16_tensor(eye, device))
    keep = keep_mask((2, 3, L, S), drop) != 0
    np.testing.assert_array_equal(host(out) != 0, keep)
    np.testing.assert_array_equal(np.swapaxes(host(v.grad), -1, -2) != 0, keep)


def test_dropout_mask_same_on_cpu_and_cuda(rng):
    if not any(d.startswith("cuda") for d in tl.available_devices()):
        pytest.skip("needs CUDA")
    q, k = f16(rng, 2, 4, 64, 64), f16(rng, 2, 4, 64, 64)
    eye = np.broadcast_to(np.eye(64), (2, 4, 64, 64))
    seed = int(rng.integers(1 << 62))
    patterns = []
    for device in ("cpu", "cuda"):
        tl.manual_seed(seed)
        out = tl.scaled_dot_product_attention(f16_tensor(q, device), f16_tensor(k, device), f16_tensor(eye, device),
                                              dropout_p=0.5)
        patterns.append(host(out) != 0)
    np.testing.assert_array_equal(patterns[0], patterns[1])
    np.testing.assert_array_equal(
        np.asarray(_core.to_device(_core.attention_dropout_keep([3, 70, 90], (0.25, seed, 12345), "cuda"), "cpu")),
        np.asarray(_core.attention_dropout_keep([3, 70, 90], (0.25, seed, 12345), "cpu")))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_fraction_within_binomial_bound(rng, p):
    n = 4 * 8 * 256 * 250
    kept = keep_mask((4, 8, 256, 250), (p, int(rng.integers(1 << 62)), int(rng.integers(1 << 40)))).sum()
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(kept - n * (1 - p)) < 6 * sigma  # fails by chance with probability 2e-9


def test_philox_known_answers():
    # Random123's kat_vectors (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3",
    # SC 2011; the file kat_vectors of the Random123 distribution), philox4x32 with 10 rounds:
    # counter (4 words), key (2 words) -> the 4 output words.
    vectors = [
        ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
         (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
         (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for counter, key, words in vectors:
        assert tuple(_core.philox4x32_10(list(counter), list(key))) == words


def test_keep_mask_is_the_documented_stream(rng):
    # philox.h: probability (n, i, j) of [N, L, S] uses word j % 4 of counter offset + (n L + i) ceil(S / 4)
    # + j // 4 and is kept when that word >= floor(p 2^32)
    p, seed, offset = 0.37, int(rng.integers(1 << 63)), int(rng.integers(1 << 40))
    N, L, S = 2, 3, 7
    keep = keep_mask((N, L, S), (p, seed, offset))
    threshold = math.floor(p * 2**32)
    for n in range(N):
        for i in range(L):
            for j in range(S):
                counter = offset + (n * L + i) * ((S + 3) // 4) + j // 4
                words = _core.philox4x32_10([counter & 0xFFFFFFFF, counter >> 32, 0, 0],
                                            [seed & 0xFFFFFFFF, seed >> 32])
                assert keep[n, i, j] == (words[j % 4] >= threshold)


def test_manual_seed_repeats_and_calls_differ(device, rng):
    q, k, v = (f16_tensor(f16(rng, 2, 3, 40, 64), device) for _ in range(3))
    seed = int(rng.integers(1 << 62))
    tl.manual_seed(seed)
    before = _core.random_offset()
    first = host(tl.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    assert _core.random_offset() - before == 2 * 3 * 40 * 10  # rows x ceil(40 / 4) counters
    second = host(tl.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    tl.manual_seed(seed)
    again = host(tl.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    offset = _core.random_offset()
    tl.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    assert _core.random_offset() == offset  # no dropout draws nothing


def test_dropout_p_one_gives_zeros(device, rng):
    q, k, v = (f16_tensor(f16(rng, 2, 30, 64), device).requires_grad_() for _ in range(3))
    out = tl.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not host(out).any()
    out.sum().backward()
    for t in (q, k, v):
        assert not host(t.grad).any()
    with pytest.raises(ValueError):
        tl.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


def test_composed_paths_use_the_same_mask(device, rng):
    # Devices without a dropout kernel (Metal) compose the forward from tensor ops with the host mask, and a
    # recorded backward graph composes the gradients: both equal the kernels' within f16 rounding.
    q, k, v = (f16_tensor(f16(rng, 2, 2, 30, 32), device).requires_grad_() for _ in range(3))
    drop = dropout_of_next_call(int(rng.integers(1 << 62)), 0.3)
    out = tl.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)
    composed = _probabilities(q, k, None, True, None) * _dropout_factors(q, k, v, None, drop) @ v
    assert_close_to_scale(composed, host(out))
    g = f16_tensor(f16(rng, 2, 2, 30, 32), device)
    fused = [host(x) for x in tl.autograd.grad(out, (q, k, v), g, retain_graph=True)]
    recorded = tl.autograd.grad(out, (q, k, v), g, create_graph=True)
    for a, b in zip(recorded, fused):
        assert_close_to_scale(a.detach(), b, atol_scale=4e-3)


@pytest.mark.parametrize("layer", ["mha", "encoder"])
def test_modules_train_with_dropout(device, rng, layer):
    # need_weights=False (the encoder layer's call) runs the fused kernel with the module's dropout
    if layer == "mha":
        module = tnn.MultiheadAttention(64, 4, dropout=0.3, batch_first=True, device=device)
        forward = lambda x: module(x, x, x, need_weights=False)[0]  # noqa: E731
    else:
        module = tnn.TransformerEncoderLayer(64, 4, 128, dropout=0.3, batch_first=True, device=device)
        forward = module
    x = f16_tensor(f16(rng, 2, 33, 64), device).requires_grad_()
    module.train()
    out = forward(x)
    out.sum().backward()
    for t in [x] + list(module.parameters()):
        assert np.isfinite(host(t.grad)).all()
    module.eval()
    evaluated = host(forward(x))
    assert not np.array_equal(host(out), evaluated)  # training dropped something
    np.testing.assert_array_equal(evaluated, host(forward(x)))  # eval draws nothing
