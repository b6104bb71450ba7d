"""GGUF files written with gguf's writer in llama.cpp's layout (q and k rows permuted for llama, GPT-2's
fused qkv, norms in f32): f16, bf16 and the quantised Q8_0, Q4_0, Q4_K and Q6_K. Whatever the type, the
loaded model must give the logits of a transformers model holding the weights the file represents (gguf's
own dequantisation, rounded to f16)."""
import copy
import secrets

import gguf
import numpy as np
import pytest
import tiny
from tiny import torch
from gguf import GGMLQuantizationType as Q
from gguf.quants import dequantize, quantize

from tensorlogic import models
from tensorlogic.models import rope
from tensorlogic.models.hf import read_config
from tensorlogic.models.loading import DEFAULT_KEPT
from tensorlogic.ops.quantized import KERNEL_DEVICES, QuantizedWeight
from test_hf_models import assert_logits_close, run

def _permute(w, heads):
    """llama.cpp's converter's row order for llama's q and k (what the loader undoes)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _random_blocks(rng, qtype, rows, cols):
    """Random K-quant blocks (gguf cannot quantise these) with scales that keep the weights near +-0.2."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, (rows, cols // block, size), dtype=np.uint8)
    if qtype == Q.Q4_K:  # d, dmin: two halves at the front
        raw[..., 0:4] = np.array([2e-4, 1.5e-3], dtype=np.float16).view(np.uint8)
    else:  # Q6_K: d, one half at the end
        raw[..., -2:] = np.array([5e-5], dtype=np.float16).view(np.uint8)
    return raw.reshape(rows, -1)


def _store(rng, w, qtype):
    """(what the file holds, the float32 weights it represents)."""
    if w.ndim == 1 or qtype in (Q.F16, Q.F32):
        held = w.astype(np.float32 if w.ndim == 1 else np.float16)
        return held, held.astype(np.float32)
    if qtype in (Q.Q4_K, Q.Q6_K):
        held = _random_blocks(rng, qtype, *w.shape)
    else:
        held = quantize(w.astype(np.float32), qtype)
    return held, dequantize(held, qtype).reshape(w.shape)


def _names(kind, config):
    """(gguf name, transformers name, stored transposed) of every tensor, in llama.cpp's naming."""
    if kind == "gpt2":
        out = [("token_embd.weight", "transformer.wte.weight", False),
               ("position_embd.weight", "transformer.wpe.weight", False)]
        for i in range(config.num_layers):
            for g, h in (("attn_norm", "ln_1"), ("ffn_norm", "ln_2"), ("attn_qkv", "attn.c_attn"),
                         ("attn_output", "attn.c_proj"), ("ffn_up", "mlp.c_fc"), ("ffn_down", "mlp.c_proj")):
                out += [(f"blk.{i}.{g}.weight", f"transformer.h.{i}.{h}.weight", "norm" not in g),
                        (f"blk.{i}.{g}.bias", f"transformer.h.{i}.{h}.bias", False)]
        return out + [("output_norm.weight", "transformer.ln_f.weight", False),
                      ("output_norm.bias", "transformer.ln_f.bias", False)]
    out = [("token_embd.weight", "model.embed_tokens.weight", False),
           ("output_norm.weight", "model.norm.weight", False)]
    if not config.tie_word_embeddings:
        out.append(("output.weight", "lm_head.weight", False))
    for i in range(config.num_layers):
        s = f"model.layers.{i}."
        out += [(f"blk.{i}.attn_norm.weight", s + "input_layernorm.weight", False),
                (f"blk.{i}.ffn_norm.weight", s + "post_attention_layernorm.weight", False)]
        for g, h in (("attn_q", "q_proj"), ("attn_k", "k_proj"), ("attn_v", "v_proj"), ("attn_output", "o_proj")):
            out += [(f"blk.{i}.{g}.{p}", f"{s}self_attn.{h}.{p}", False) for p in ("weight", "bias")]
        out += [(f"blk.{i}.ffn_{g}.weight", f"{s}mlp.{g}_proj.weight", False) for g in ("gate", "up", "down")]
    return out


def write_gguf(path, kind, ref, folder, qtype, rng):
    """Writes `ref` as a GGUF file of `qtype` weights, then sets `ref`'s weights to the ones the file
    represents (so that ref is the oracle of the file)."""
    config = read_config(folder)
    arch = "gpt2" if kind == "gpt2" else "qwen2" if kind == "qwen2" else "llama"
    w = gguf.GGUFWriter(str(path), arch)
    w.add_context_length(config.max_positions)
    w.add_embedding_length(config.hidden_size)
    w.add_block_count(config.num_layers)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_head_count(config.num_heads)
    if arch == "gpt2":
        w.add_layer_norm_eps(config.norm_eps)
    else:
        w.add_head_count_kv(config.num_kv_heads)
        w.add_key_length(config.head_dim)
        w.add_layer_norm_rms_eps(config.norm_eps)
        w.add_rope_freq_base(config.rope_theta)
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(config.vocab_size)])
    w.add_token_merges([])
    if config.rope_scaling.get("rope_type") == "llama3":  # llama.cpp keeps llama3's scaling as divisors
        scaled = rope.inv_freq(config)
        config.rope_scaling = {"rope_type": "default"}
        w.add_tensor("rope_freqs.weight", (rope.inv_freq(config) / scaled).astype(np.float32))
    sd = ref.state_dict()
    represented = {}
    for name, hf_name, transposed in _names(kind, config):
        if hf_name not in sd:
            continue
        value = sd[hf_name].numpy()
        value = value.T if transposed else value
        heads = {".attn_q.": config.num_heads, ".attn_k.": config.num_kv_heads}
        heads = next((h for key, h in heads.items() if key in name), 0) if arch == "llama" else 0
        held, value = _store(rng, _permute(value, heads) if heads else value, qtype)
        w.add_tensor(name, held, raw_dtype=qtype if held.dtype == np.uint8 else None)
        if heads:  # back to transformers' row order
            value = value.reshape(heads, -1, 2, *value.shape[1:]).swapaxes(1, 2).reshape(value.shape)
        represented[hf_name] = (value.T if transposed else value).astype(np.float16).astype(np.float32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with torch.no_grad():
        for hf_name, value in represented.items():
            sd[hf_name].copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _checkpoint(tmp_path, kind, seed):
    folder = tmp_path / kind
    return str(folder), tiny.build(kind, seed, folder)


@pytest.mark.parametrize("kind", ["llama", "qwen2", "gpt2"])
def test_f16_gguf_matches_transformers(kind, tmp_path, device, rng):
    folder, ref = _checkpoint(tmp_path, kind, secrets.randbits(31))
    path = tmp_path / "model.gguf"
    write_gguf(path, kind, ref, folder, Q.F16, rng)
    model = models.load_model(path, device)
    ids = rng.integers(3, 96, (2, 9))
    assert_logits_close(run(model, ids, decode_from=5), tiny.reference_logits(ref, ids))


@pytest.fixture(scope="module")
def llama256(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama256")
    return str(folder), tiny.build("llama256", secrets.randbits(31), folder)  # K-quant blocks hold 256 weights


@pytest.mark.parametrize("keep", [False, True, None], ids=["dequantised", "kept", "default"])
@pytest.mark.parametrize("qtype", [Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_K, Q.Q6_K], ids=lambda q: q.name)
def test_quantised_gguf_loads_what_gguf_dequantises(qtype, keep, llama256, tmp_path, device, rng):
    """Dequantised on load, or kept quantised (the dequantising kernels of the CPU and CUDA): the same logits."""
    if keep is not False and qtype == Q.BF16:
        pytest.skip("only GGUF's block formats are kept quantised")
    if keep and device not in KERNEL_DEVICES:
        pytest.skip(f"no quantised kernels on {device}")
    folder, ref = llama256[0], copy.deepcopy(llama256[1])
    path = tmp_path / "model.gguf"
    write_gguf(path, "llama256", ref, folder, qtype, rng)
    model = models.load_model(path, device, keep_quantized=keep)
    linears = [model.lm_head] + [getattr(layer, name) for layer in model.layers
                                 for name in ("qkv_weight", "o_weight", "gate_weight", "up_weight", "down_weight")]
    kept = keep or (keep is None and device == "cpu" and qtype.name in DEFAULT_KEPT)
    assert all(isinstance(w, QuantizedWeight) == kept for w in linears)
    ids = rng.integers(3, 96, (1, 7))
    assert_logits_close(run(model, ids, decode_from=4), tiny.reference_logits(ref, ids))
