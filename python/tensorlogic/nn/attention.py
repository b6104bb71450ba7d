"""MultiheadAttention with PyTorch's parameters (packed in_proj_weight, out_proj), defaults and init.

Masks: a float attn_mask is added to the scores (PyTorch's float-mask meaning); a non-float one (bool)
marks with its nonzero entries the positions that may not be attended (PyTorch's bool meaning);
key_padding_mask is a 0/1 (or bool) mask of shape (N, S) whose 1s mark padded keys."""
import math

from ..creation import full
from ..ops.linalg import triu
from . import functional as F
from . import init
from .layers import Linear, _new_param
from .module import Module
from .parameter import check_parameter_dtype

_MASKED = -65504.0  # the most negative f16: softmax gives masked keys a weight of exactly 0


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention with PyTorch's parameters (packed in_proj_weight [3E, E],
    in_proj_bias, out_proj) and initialisation, as torch.nn.MultiheadAttention. forward(query, key, value,
    key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal) takes [L, N, E] inputs ([N, L, E]
    with batch_first, [L, E] unbatched) and returns (output, weights), weights averaged over heads unless
    average_attn_weights=False and None when need_weights=False. A float mask is added to the scores; a bool mask
    marks the positions that may not be attended. Without weights the fused attention kernel runs (with dropout)."""
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("MultiheadAttention", dtype)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = _new_param((3 * embed_dim, embed_dim), device)
        if bias:
            self.in_proj_bias = _new_param((3 * embed_dim,), device)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device)
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output, weights): output has query's shape; weights are [N, L, S] averaged over heads ([N, H, L, S] with
        average_attn_weights=False), or None when need_weights=False. See the class for the masks."""
        if query.ndim == 2:  # unbatched (L, E), whatever batch_first says: one sequence
            batch = 0 if self.batch_first else 1
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
            out, weights = self.forward(query.unsqueeze(batch), key.unsqueeze(batch), value.unsqueeze(batch),
                                        key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal)
            return out.squeeze(batch), None if weights is None else weights.squeeze(0)
        if self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        L, N, E = query.shape
        S = key.shape[0]
        H, D = self.num_heads, self.head_dim
        # chunk, not three slices: one backward node joins the three gradients (slices would each fill a
        # zero [3E, E] gradient and add them)
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q = F.linear(query, w_q, b_q)
        k = F.linear(key, w_k, b_k)
        v = F.linear(value, w_v, b_v)
        # (L, N, E) -> (N, H, L, D)
        q = q.reshape(L, N, H, D).permute(1, 2, 0, 3)
        k = k.reshape(S, N, H, D).permute(1, 2, 0, 3)
        v = v.reshape(S, N, H, D).permute(1, 2, 0, 3)
        mask = attn_mask
        if mask is not None and not mask.is_floating_point():
            mask = F.where(mask != 0, _MASKED, 0.0)
        if key_padding_mask is not None:
            padding = key_padding_mask.reshape(N, 1, 1, S) * _MASKED
            mask = padding if mask is None else mask + padding
        if is_causal and mask is None:
            mask = triu(full((L, S), _MASKED, device=query.device), 1)
        p = self.dropout if self.training else 0.0
        if need_weights:  # the weights are returned (dropped out, as PyTorch's), so they are materialised
            scores = (q * (1.0 / math.sqrt(D))) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + mask
            weights = F.softmax(scores, dim=-1)
            if p > 0.0:
                weights = F.dropout(weights, p, True)
            out = weights @ v
            weights = weights if need_weights else None
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            weights = None
        out = self.out_proj(out.permute(2, 0, 1, 3).reshape(L, N, E))
        if self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights

    def extra_repr(self):
        """Empty, as PyTorch's (the submodules are listed instead)."""
        return ""
