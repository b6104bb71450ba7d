"""Tiny random checkpoints built through `transformers` (the oracle): weights drawn at a scale that gives
logits of order one (so greedy choices are not ties), rounded to float16, saved with save_pretrained.
The reference model keeps the f16-rounded weights in float32."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")  # the test extra has it; a bare GPU box may not

CONFIGS = {
    "llama": lambda: transformers.LlamaConfig(
        vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=500000.0,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 16}, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2),
    "llama_bias_tied": lambda: transformers.LlamaConfig(
        vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, head_dim=32, max_position_embeddings=256, attention_bias=True, mlp_bias=True,
        tie_word_embeddings=True, rope_scaling={"rope_type": "linear", "factor": 2.0}, bos_token_id=1,
        eos_token_id=2),
    "mistral": lambda: transformers.MistralConfig(
        vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=1, head_dim=16, max_position_embeddings=256, sliding_window=256,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2),
    "qwen2": lambda: transformers.Qwen2Config(
        vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True, rope_theta=1000000.0,
        bos_token_id=1, eos_token_id=2),
    "llama256": lambda: transformers.LlamaConfig(  # rows of 256: the block size of the K-quants
        vocab_size=96, hidden_size=256, intermediate_size=256, num_hidden_layers=1, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2),
    "gpt2": lambda: transformers.GPT2Config(
        vocab_size=96, n_embd=64, n_layer=2, n_head=4, n_positions=128, bos_token_id=1, eos_token_id=2),
}
CLASSES = {"llama": transformers.LlamaForCausalLM, "llama256": transformers.LlamaForCausalLM,
           "llama_bias_tied": transformers.LlamaForCausalLM,
           "mistral": transformers.MistralForCausalLM, "qwen2": transformers.Qwen2ForCausalLM,
           "gpt2": transformers.GPT2LMHeadModel}


def build(kind, seed, folder=None):
    """The float32 reference model of `kind` over f16-rounded random weights; saved (in f16, as
    checkpoints usually are) to `folder` when one is given."""
    torch.manual_seed(seed)
    config = CONFIGS[kind]()
    config._attn_implementation = "eager"
    model = CLASSES[kind](config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or ".ln_" in name:
                p.copy_((1 + 0.2 * torch.randn_like(p)) if name.endswith("weight") else 0.1 * torch.randn_like(p))
            elif p.ndim == 2:
                fan_in = p.shape[0] if kind == "gpt2" and "wte" not in name and "wpe" not in name else p.shape[1]
                scale = 1.0 if "embed" in name or "wte" in name or "wpe" in name else 1.5 / np.sqrt(fan_in)
                p.copy_(torch.randn_like(p) * scale)
            else:
                p.copy_(0.1 * torch.randn_like(p))
            p.copy_(p.half().float())
    if folder is not None:
        model.half().save_pretrained(folder)
        model.float()
    return model


def reference_logits(model, ids):
    """float32 logits [B, L, vocab] of the reference model over token ids [B, L]."""
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(ids), dtype=torch.long)).logits.numpy()
