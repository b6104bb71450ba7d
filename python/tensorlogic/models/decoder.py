"""DecoderLM: a decoder-only transformer of the Llama family (RoPE, RMSNorm, SwiGLU, grouped-query
attention: Llama 2/3, Mistral, Qwen2) or of GPT-2 (learned positions, LayerNorm, GELU), in f16 on the
engine's fused kernels: one GEMM for q, k and v, rms_norm/layer_norm row kernels, attention in one
scaled_dot_product_attention call per layer, residual adds and activations in the GEMM epilogues.

The layers run on the native arrays of the tensors: the same native ops that F.linear, F.rms_norm, ...
call (so the same numbers), without the autograd bookkeeping of each Python-level op, which costs 5 to 25
us of host time apiece and made up most of a decoding step on a GPU (with 25 such ops per layer). The
weights never require grad, so no graph is lost; the model's inputs and logits are Tensors.

Parameters are named as in `parameter_shapes`, the one list of what a checkpoint must provide."""
import math

import numpy as np

from .. import _core
from ..creation import tensor
from ..nn import functional as F
from ..nn.container import ModuleList
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..ops import fused
from ..ops.indexing import index_select
from ..ops.quantized import QuantizedWeight
from ..tensor import _wrap
from . import rope

_MUL, _ADD = _core.BinaryOp.mul, _core.BinaryOp.add


def parameter_shapes(config):
    """{name: shape} of every parameter a model of this config has (biases where the family has them)."""
    c = config
    gpt2 = c.family == "gpt2"
    e, attn = c.hidden_size, c.num_heads * c.head_dim
    shapes = {"embed": (c.vocab_size, e)}
    if gpt2:
        shapes["pos_embed"] = (c.max_positions, e)
    for i in range(c.num_layers):
        p = f"layers.{i}."
        shapes[p + "attn_norm_weight"] = (e,)
        shapes[p + "qkv_weight"] = (c.qkv_size, e)
        shapes[p + "o_weight"] = (e, attn)
        shapes[p + "mlp_norm_weight"] = (e,)
        shapes[p + "up_weight"] = (c.intermediate_size, e)
        shapes[p + "down_weight"] = (e, c.intermediate_size)
        if not gpt2:
            shapes[p + "gate_weight"] = (c.intermediate_size, e)
        if gpt2:
            shapes[p + "attn_norm_bias"] = shapes[p + "mlp_norm_bias"] = (e,)
        if c.qkv_bias:
            shapes[p + "qkv_bias"] = (c.qkv_size,)
        if c.o_bias:
            shapes[p + "o_bias"] = (e,)
        if c.mlp_bias:
            shapes[p + "up_bias"] = (c.intermediate_size,)
            shapes[p + "down_bias"] = (e,)
            if not gpt2:
                shapes[p + "gate_bias"] = (c.intermediate_size,)
    shapes["norm_weight"] = (e,)
    if gpt2:
        shapes["norm_bias"] = (e,)
    if not c.tie_word_embeddings:
        shapes["lm_head"] = (c.vocab_size, e)
    return shapes


def _register(module, prefix, tensors, names):
    for name in names:
        t = tensors.get(prefix + name)
        if t is None:
            module.register_parameter(name, None)
        elif isinstance(t, QuantizedWeight):
            setattr(module, name, t)  # a plain attribute: quantised weights are not trainable parameters
        else:
            setattr(module, name, Parameter(t, requires_grad=False))


def _linear(x, weight, bias=None, activation="none", residual=None):
    """F.linear on native arrays (x, residual), or its quantised form for a weight kept in a GGUF block format."""
    bias = None if bias is None else bias._a
    if isinstance(weight, QuantizedWeight):
        return weight.linear_array(x, bias, activation, residual)
    return _core.linear(x, weight._a, bias, activation, residual)


def _norm(config, x, weight, bias):
    """F.layer_norm (GPT-2) or F.rms_norm over the hidden size, on a native array."""
    if config.family == "gpt2":
        return _core.layer_norm(x, [config.hidden_size], weight._a, bias._a, float(config.norm_eps))
    return _core.rms_norm(x, [config.hidden_size], weight._a, float(config.norm_eps))


class _Step:
    """What every layer of one forward shares: where the new tokens go in the cache, their rotations, the
    attention mask (native arrays)."""

    __slots__ = ("start", "length", "cos", "sin", "mask")

    def __init__(self, start, length, cos, sin, mask):
        self.start, self.length, self.cos, self.sin, self.mask = start, length, cos, sin, mask


class DecoderLayer(Module):
    def __init__(self, config, index, tensors):
        super().__init__()
        self.config, self.index = config, index
        _register(self, f"layers.{index}.", tensors,
                  ("attn_norm_weight", "attn_norm_bias", "qkv_weight", "qkv_bias", "o_weight", "o_bias",
                   "mlp_norm_weight", "mlp_norm_bias", "gate_weight", "gate_bias", "up_weight", "up_bias",
                   "down_weight", "down_bias"))
        self.scale = 1.0 / math.sqrt(config.head_dim) / (index + 1 if config.attn_scale_by_layer else 1)

    def forward(self, x, step, cache):
        """The hidden states x [B, L, E] (a native array) after this layer."""
        x = self._attention(_norm(self.config, x, self.attn_norm_weight, self.attn_norm_bias), x, step, cache)
        h = _norm(self.config, x, self.mlp_norm_weight, self.mlp_norm_bias)
        if self.gate_weight is None:
            h = _linear(h, self.up_weight, self.up_bias, "gelu_tanh")
        else:
            h = _core.binary(_MUL, _linear(h, self.gate_weight, self.gate_bias, "silu"),
                             _linear(h, self.up_weight, self.up_bias))
        return _linear(h, self.down_weight, self.down_bias, "none", x)

    def _attention(self, h, residual, step, cache):
        c = self.config
        heads, kv, d = c.num_heads, c.num_kv_heads, c.head_dim
        b, n = h.shape[0], step.length
        qkv = _core.view(_linear(h, self.qkv_weight, self.qkv_bias), [b, n, heads + 2 * kv, d])
        if step.cos is not None:  # x * cos + (x with its halves swapped) * sin; values get cos 1, sin 0
            # the halves swapped by two slices and a cat: an index_select along the last axis took one host
            # offset per element (85% of a prefill on an H100)
            half = d // 2
            swapped = _core.cat([_core.slice(qkv, 3, half, d, 1), _core.slice(qkv, 3, 0, half, 1)], 3)
            qkv = _core.affine(qkv, step.cos, _core.binary(_MUL, swapped, step.sin))
        q, kv_new = _core.split(qkv, [heads, 2 * kv], 2)
        keys, values = cache.update(self.index, kv_new, step.start)
        rep = heads // kv
        if n == 1:
            # One query per head: the rep heads that share a kv head become rep query rows of one attention
            # problem per (batch, kv head), so the kernel reads each cached key once, in one call.
            q = _core.reshape(q, [b, kv, rep, d])
            if b > 1:
                q = _core.contiguous(q)  # so that batch and kv-head axes fold into one kernel batch axis
            out = _core.view(_core.scaled_dot_product_attention(q, keys, values, step.mask, False, self.scale),
                             [b, 1, heads * d])
        else:
            q = _core.permute(_core.reshape(q, [b, n, kv, rep, d]), [0, 2, 3, 1, 4])
            out = _core.scaled_dot_product_attention(q, _core.unsqueeze(keys, 2), _core.unsqueeze(values, 2), step.mask,
                                                     step.mask is None, self.scale)
            out = _core.reshape(_core.permute(out, [0, 3, 1, 2, 4]), [b, n, heads * d])
        return _linear(out, self.o_weight, self.o_bias, "none", residual)


class DecoderLM(Module):
    """forward(input_ids [B, L] int32, cache, positions [B, L] int32) -> logits [B, L, vocab] (or [B, 1, vocab]
    with last_only). A forward is either a prefill (L tokens into an empty cache) or one decoding step."""

    def __init__(self, config, tensors):
        super().__init__()
        self.config = config
        _register(self, "", tensors, ("embed", "pos_embed", "norm_weight", "norm_bias", "lm_head"))
        self.layers = ModuleList([DecoderLayer(config, i, tensors) for i in range(config.num_layers)])
        self._rope = None  # (length, cos, sin, rotated, kept) on the device, grown on demand
        if config.family == "llama":
            rope.inv_freq(config)  # an unsupported scaling fails here, at load time

    @property
    def device(self):
        """The device the model's weights are on."""
        return self.embed.device

    def _rope_tables(self, length):
        if self._rope is None or self._rope[0] < length:
            c = self.config
            cos, sin = rope.tables(c, length)
            rotated = np.ones((c.num_heads + 2 * c.num_kv_heads, 1), dtype=np.float16)
            rotated[c.num_heads + c.num_kv_heads:] = 0
            self._rope = (length,) + tuple(tensor(t, device=self.device) for t in
                                           (cos, sin, rotated, 1 - rotated))
        return self._rope

    def _step(self, cache, positions, length):
        c = self.config
        start = cache.length
        if length > 1 and start:
            raise ValueError("DecoderLM: a forward of several tokens (a prefill) needs an empty cache")
        if start + length > cache.max_len:
            raise ValueError(f"DecoderLM: the cache holds {cache.max_len} positions; {start} are used and "
                             f"{length} more were given")
        limit = sequence_limit(c)
        if limit is not None and start + length > limit[0]:
            raise ValueError(f"DecoderLM: {c.model_type} {limit[1]}; sequences longer than {limit[0]} tokens are not "
                             "supported")
        cos = sin = None
        b = positions.shape[0]
        if c.family == "llama":
            _, cos_table, sin_table, rotated, kept = self._rope_tables(cache.max_len)
            flat = positions.reshape(-1)
            # per head: q and k heads rotate, value heads pass (cos 1, sin 0), so one op covers q, k, v
            cos = fused.affine(index_select(cos_table, 0, flat).view(b, length, 1, c.head_dim), rotated, kept)._a
            sin = (index_select(sin_table, 0, flat).view(b, length, 1, c.head_dim) * rotated)._a
        if length > 1:
            mask = cache.prefill_mask(length)
        else:
            mask = None if cache.mask is None else cache.mask[:, :, None, :start + 1]
        return _Step(start, length, cos, sin, None if mask is None else mask._a)

    def forward(self, input_ids, cache, positions, last_only=False):
        """Logits [B, L, vocab] (or [B, 1, vocab] with last_only) for input_ids [B, L] at positions [B, L], writing
        their keys and values into `cache`: a prefill (L tokens into an empty cache) or one decoding step."""
        c = self.config
        length = input_ids.shape[1]
        step = self._step(cache, positions, length)
        x = F.embedding(input_ids, self.embed)._a
        if self.pos_embed is not None:
            x = _core.binary(_ADD, x, F.embedding(positions, self.pos_embed)._a)
        for layer in self.layers:
            x = layer(x, step, cache)
        cache.length += length
        if last_only and length > 1:
            x = _core.slice(x, 1, length - 1, length, 1)
        x = _norm(c, x, self.norm_weight, self.norm_bias)
        return _wrap(_linear(x, self.embed if self.lm_head is None else self.lm_head))


def sequence_limit(config):
    """(the most tokens a sequence may hold, why) or None: GPT-2 has learned positions for max_positions tokens
    (beyond them an embedding index past the table), and Mistral's keys further back than its sliding window are not
    masked out yet."""
    limits = []
    if config.family == "gpt2":
        limits.append((config.max_positions, f"has learned positions for {config.max_positions} tokens"))
    if config.sliding_window is not None:
        limits.append((config.sliding_window, f"attends over a sliding window of {config.sliding_window} tokens"))
    return min(limits) if limits else None


def positions_for(left_padding, length):
    """[B, length] int32 positions of a left-padded prefill: each row counts from its first real token."""
    pads = np.asarray(left_padding, dtype=np.int64)
    return np.maximum(np.arange(length)[None, :] - pads[:, None], 0).astype(np.int32)
