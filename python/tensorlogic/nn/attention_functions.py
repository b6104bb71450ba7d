"""F.multi_head_attention_forward, the math of nn.MultiheadAttention (which calls it with its parameters), with
PyTorch's signature: projections (packed or separate), bias_k/bias_v and add_zero_attn (an extra key and value),
static_k/static_v, the masks, dropout, the output projection and the attention weights.

Masks: a float attn_mask or key_padding_mask is added to the scores; a bool one marks with True the positions that
may not be attended (their score gets float16's most negative value, so softmax gives them a weight of exactly 0).
attn_mask is (L, S) or (N * num_heads, L, S), key_padding_mask (N, S). is_causal=True without an attn_mask
attends to earlier positions only (PyTorch asks for the mask itself)."""
import math

from ..creation import full, zeros
from ..errors import ShapeMismatchError
from ..ops.conv import scaled_dot_product_attention
from ..ops.elementwise import where
from ..ops.linalg import linear, triu
from ..ops.rows import softmax
from ..ops.shape import cat
from .activation_functions import dropout

_MASKED = -65504.0  # the most negative f16


def _additive(mask):
    """A mask as scores to add: a float mask as it is, a bool (or integer) one as 0 / _MASKED."""
    return mask if mask.is_floating_point() else where(mask != 0, _MASKED, 0.0)


def _one_more_key(mask):
    """A mask with a column for one more key (bias_k or the zero key), which every query may attend."""
    return cat([mask, zeros(mask.shape[:-1] + (1,), dtype=mask.dtype, device=mask.device)], -1)


def _heads(t, length, batch, heads, dim):
    """(length, batch, heads * dim) -> (batch, heads, length, dim)."""
    return t.reshape(length, batch, heads, dim).permute(1, 2, 0, 3)


def _static(t, batch, heads, dim, name):
    """static_k / static_v (batch * heads, S, dim) -> (batch, heads, S, dim)."""
    if t.ndim != 3 or t.shape[0] != batch * heads or t.shape[2] != dim:
        raise ShapeMismatchError(f"multi_head_attention_forward: {name} must be ({batch * heads}, S, {dim}), got "
                                 f"{list(t.shape)}")
    return t.reshape(batch, heads, t.shape[1], dim)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention of query (L, N, E) over key (S, N, kdim) and value (S, N, vdim) (unbatched: (L, E)
    and (S, kdim), (S, vdim)): (output (L, N, E), weights (N, L, S) averaged over heads, (N, num_heads, L, S)
    with average_attn_weights=False, or None with need_weights=False). The weights are materialised where they
    are returned; otherwise the fused attention kernel runs. See the module doc for the masks."""
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if query.ndim != 3 or key.ndim != 3 or value.ndim != 3 or key.shape[:2] != value.shape[:2]:
        raise ShapeMismatchError(f"multi_head_attention_forward: query {list(query.shape)}, key {list(key.shape)} and "
                                 f"value {list(value.shape)} must be (L, N, E), (S, N, kdim) and (S, N, vdim)")
    L, N, E = query.shape
    if E != embed_dim_to_check:
        raise ShapeMismatchError(f"multi_head_attention_forward: query's embedding size {E} differs from "
                                 f"embed_dim_to_check {embed_dim_to_check}")
    if E % num_heads:
        raise ValueError(f"multi_head_attention_forward: embed_dim {E} is not divisible by num_heads {num_heads}")
    H, D = num_heads, E // num_heads
    if use_separate_proj_weight:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        # chunk, not three slices: one backward node joins the three gradients
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    q = _heads(linear(query, w_q, b_q), L, N, H, D)
    k = linear(key, w_k, b_k) if static_k is None else None
    v = linear(value, w_v, b_v) if static_v is None else None
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError("multi_head_attention_forward: bias_k/bias_v cannot be added to static_k/static_v")
        k = cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)])
        v = cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)])
        attn_mask = None if attn_mask is None else _one_more_key(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _one_more_key(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given together")
    k = _heads(k, k.shape[0], N, H, D) if static_k is None else _static(static_k, N, H, D, "static_k")
    v = _heads(v, v.shape[0], N, H, D) if static_v is None else _static(static_v, N, H, D, "static_v")
    if add_zero_attn:
        k = cat([k, zeros((N, H, 1, D), device=k.device)], 2)
        v = cat([v, zeros((N, H, 1, D), device=v.device)], 2)
        attn_mask = None if attn_mask is None else _one_more_key(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _one_more_key(key_padding_mask)
    S = k.shape[2]
    mask = None
    if attn_mask is not None:
        mask = _additive(attn_mask)
        if mask.ndim == 3:
            if mask.shape[0] != N * H:
                raise ShapeMismatchError(f"multi_head_attention_forward: a 3-d attn_mask must be ({N * H}, {L}, {S}),"
                                         f" got {list(mask.shape)}")
            mask = mask.reshape(N, H, L, S)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise ShapeMismatchError(f"multi_head_attention_forward: key_padding_mask must be ({N}, {S}), got "
                                     f"{list(key_padding_mask.shape)}")
        padding = _additive(key_padding_mask).reshape(N, 1, 1, S)
        mask = padding if mask is None else mask + padding
    if is_causal and attn_mask is None:
        causal = triu(full((L, S), _MASKED, device=query.device), 1)
        mask = causal if mask is None else mask + causal
    p = dropout_p if training else 0.0
    weights = None
    if need_weights:  # the weights are returned (dropped out, as PyTorch's), so they are materialised
        scores = (q * (1.0 / math.sqrt(D))) @ k.transpose(-2, -1)
        if mask is not None:
            scores = scores + mask
        weights = softmax(scores, dim=-1)
        if p > 0.0:
            weights = dropout(weights, p, True)
        out = weights @ v
        if average_attn_weights:
            weights = weights.mean(dim=1)
    else:
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if unbatched:
        return out.squeeze(1), None if weights is None else weights.squeeze(0)
    return out, weights


__all__ = ["multi_head_attention_forward"]
