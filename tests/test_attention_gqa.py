"""Grouped-query attention (scaled_dot_product_attention's enable_gqa): key and value carry fewer heads than
query, each serving a group of consecutive query heads. Output and gradients (those of key and value summed
over each group) against PyTorch's float64 SDPA with enable_gqa on the same f16-rounded inputs. On CUDA the
model sizes run the fused kernels (the Hopper ones on compute capability 9.0 for head dims 64, 128 and 256), the
key/value group axis read at one coordinate."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorlogic as tl
from oracle import assert_close_to_scale, f16, f16_tensor, host
from test_attention import assert_grad_close


def check(device, q, k, v, g, mask=None, causal=False, scale=None, layout=None):
    """Forward and gradients of q, k, v; `layout` turns the f16 device tensors into the views attention sees."""
    ours = [f16_tensor(a, device).requires_grad_() for a in (q, k, v)]
    views = layout(*ours) if layout else ours
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]  # float64
    m_ours = None if mask is None else (tl.tensor(mask, device=device) if mask.dtype == np.bool_ else f16_tensor(mask, device))
    m_theirs = None if mask is None else torch.tensor(mask)
    out = tl.scaled_dot_product_attention(*views, attn_mask=m_ours, is_causal=causal, scale=scale, enable_gqa=True)
    ref = F.scaled_dot_product_attention(*theirs, attn_mask=m_theirs, is_causal=causal, scale=scale, enable_gqa=True)
    assert_close_to_scale(out, ref.detach().numpy())
    out.backward(f16_tensor(g, device))
    ref.backward(torch.tensor(g))
    for a, e in zip(ours, theirs):
        assert_grad_close(a.grad, e.grad)


# (batch, query heads, key/value heads, L, S, E)
SMALL = [(2, 6, 2, 33, 47, 64), (1, 4, 1, 17, 17, 32), (2, 4, 4, 9, 12, 16)]


@pytest.mark.parametrize("B,Hq,Hk,L,S,E", SMALL)
@pytest.mark.parametrize("causal", [False, True])
def test_gqa(device, rng, B, Hq, Hk, L, S, E, causal):
    q, k, v = f16(rng, B, Hq, L, E), f16(rng, B, Hk, S, E), f16(rng, B, Hk, S, E)
    check(device, q, k, v, f16(rng, B, Hq, L, E), causal=causal, scale=0.2 if causal else None)


@pytest.mark.parametrize("B,Hq,Hk,L,E", [(2, 12, 4, 1024, 64), (1, 8, 2, 777, 128), (2, 16, 1, 300, 128)])
@pytest.mark.parametrize("causal", [False, True])
def test_gqa_model_sizes(device, rng, B, Hq, Hk, L, E, causal):
    if not device.startswith("cuda"):
        pytest.skip("the CPU runs the same views at the small sizes")
    q, k, v = f16(rng, B, Hq, L, E), f16(rng, B, Hk, L, E), f16(rng, B, Hk, L, E)
    check(device, q, k, v, f16(rng, B, Hq, L, E), causal=causal)


def test_gqa_projection_views(device, rng):
    """q, k and v as a model splits them from one [B, L, (Hq + 2 Hkv) E] projection: [B, H, L, E] views whose batch
    strides do not nest."""
    B, L, Hq, Hk, E = 2, 70, 6, 2, 64
    x = f16(rng, B, L, (Hq + 2 * Hk) * E)
    q = np.ascontiguousarray(x[..., :Hq * E].reshape(B, L, Hq, E).transpose(0, 2, 1, 3))
    k = np.ascontiguousarray(x[..., Hq * E:(Hq + Hk) * E].reshape(B, L, Hk, E).transpose(0, 2, 1, 3))
    v = np.ascontiguousarray(x[..., (Hq + Hk) * E:].reshape(B, L, Hk, E).transpose(0, 2, 1, 3))

    def layout(q_, k_, v_):  # the same values as views of one device array (gradients still reach the leaves)
        joined = tl.cat([z.transpose(1, 2).reshape(B, L, -1) for z in (q_, k_, v_)], dim=2)
        parts = joined.split([Hq * E, Hk * E, Hk * E], dim=2)
        return [p.view(B, L, -1, E).transpose(1, 2) for p in parts]

    check(device, q, k, v, f16(rng, B, Hq, L, E), causal=True, layout=layout)


@pytest.mark.parametrize("mask_shape", ["heads", "broadcast", "2d", "bool"])
def test_gqa_mask(device, rng, mask_shape):
    B, Hq, Hk, L, S, E = 2, 4, 2, 20, 30, 64
    q, k, v = f16(rng, B, Hq, L, E), f16(rng, B, Hk, S, E), f16(rng, B, Hk, S, E)
    shape = {"heads": (B, Hq, L, S), "broadcast": (B, 1, L, S), "2d": (L, S), "bool": (B, Hq, L, S)}[mask_shape]
    if mask_shape == "bool":
        mask = rng.random(shape) < 0.7
        mask[..., 0] = True  # no row without keys
    else:
        mask = f16(rng, *shape, scale=2.0)
    check(device, q, k, v, f16(rng, B, Hq, L, E), mask=mask)


def test_gqa_errors(device, rng):
    def t(*shape):
        return f16_tensor(f16(rng, *shape), device)

    sdpa = tl.scaled_dot_product_attention
    with pytest.raises(ValueError, match="multiple"):
        sdpa(t(1, 6, 5, 8), t(1, 4, 5, 8), t(1, 4, 5, 8), enable_gqa=True)
    with pytest.raises(ValueError, match="value heads"):
        sdpa(t(1, 4, 5, 8), t(1, 2, 5, 8), t(1, 1, 5, 8), enable_gqa=True)
    with pytest.raises(ValueError, match="heads axis"):
        sdpa(t(5, 8), t(5, 8), t(5, 8), enable_gqa=True)
    with pytest.raises(ValueError, match="mask"):
        sdpa(t(1, 4, 5, 8), t(1, 2, 5, 8), t(1, 2, 5, 8), attn_mask=t(1, 2, 5, 5), enable_gqa=True)
    # without enable_gqa different head counts do not broadcast, as in PyTorch
    with pytest.raises(ValueError):
        sdpa(t(1, 4, 5, 8), t(1, 2, 5, 8), t(1, 2, 5, 8))


def test_gqa_equal_heads_is_plain_attention(device, rng):
    q, k, v = (f16_tensor(f16(rng, 2, 3, 10, 16), device) for _ in range(3))
    plain = tl.scaled_dot_product_attention(q, k, v, is_causal=True)
    grouped = tl.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert np.array_equal(host(plain), host(grouped))
