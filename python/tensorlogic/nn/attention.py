"""MultiheadAttention with PyTorch's parameters (packed in_proj_weight, or q/k/v_proj_weight where kdim or vdim
differ from embed_dim; in_proj_bias, bias_k/bias_v with add_bias_kv, out_proj), defaults and init; the math is
F.multi_head_attention_forward (attention_functions.py), which says what the masks mean. torch.nn.attention's
SDPBackend and sdpa_kernel, which choose the backends of scaled dot-product attention, are here by that name too."""
from ..backends.sdp_kernels import SDPBackend, sdpa_kernel  # noqa: F401  (torch.nn.attention's)
from . import init
from .attention_functions import multi_head_attention_forward
from .layers import Linear, _new_param
from .module import Module
from .parameter import check_parameter_dtype


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention with PyTorch's parameters and initialisation, as
    torch.nn.MultiheadAttention: in_proj_weight [3E, E] (q_proj_weight [E, E], k_proj_weight [E, kdim] and
    v_proj_weight [E, vdim] instead when kdim or vdim differ from E), in_proj_bias, bias_k and bias_v [1, 1, E]
    (add_bias_kv: one more key and value, learned), add_zero_attn (one more zero key and value), out_proj.
    forward(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal) takes
    [L, N, E] inputs ([N, L, E] with batch_first, [L, E] unbatched) and returns (output, weights), weights averaged
    over heads unless average_attn_weights=False and None when need_weights=False. A float mask is added to the
    scores; a bool mask marks the positions that may not be attended. Without weights the fused attention kernel
    runs (with dropout)."""
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("MultiheadAttention", dtype)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim, self.add_zero_attn = embed_dim // num_heads, add_zero_attn
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _new_param((3 * embed_dim, embed_dim), device)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _new_param((embed_dim, embed_dim), device)
            self.k_proj_weight = _new_param((embed_dim, self.kdim), device)
            self.v_proj_weight = _new_param((embed_dim, self.vdim), device)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _new_param((3 * embed_dim,), device)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device)
        if add_bias_kv:
            self.bias_k = _new_param((1, 1, embed_dim), device)
            self.bias_v = _new_param((1, 1, embed_dim), device)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: xavier_uniform_ on the projections, zero biases, xavier_normal_ on bias_k and bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output, weights): output has query's shape; weights are [N, L, S] averaged over heads ([N, H, L, S] with
        average_attn_weights=False), or None when need_weights=False. See the class for the masks."""
        batched_first = self.batch_first and query.ndim == 3
        if batched_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        return (out.transpose(0, 1) if batched_first else out), weights

    def extra_repr(self):
        """Empty, as PyTorch's (the submodules are listed instead)."""
        return ""
