"""ModelConfig: the shape of a decoder-only transformer, read from a Hugging Face config.json (or filled by
the GGUF reader), whatever the family. Two families: "llama" (Llama 2/3, Mistral, Qwen2: RoPE, RMSNorm,
SwiGLU, grouped-query attention) and "gpt2" (learned positions, LayerNorm, GELU, biases everywhere)."""
from dataclasses import dataclass, field

from .errors import ModelLoadError, UnknownArchitectureError

# model_type of config.json -> family
FAMILIES = {"llama": "llama", "mistral": "llama", "qwen2": "llama", "gpt2": "gpt2"}


@dataclass
class ModelConfig:
    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    max_positions: int
    norm_eps: float
    tie_word_embeddings: bool
    qkv_bias: bool = False        # Qwen2 (and Llama's attention_bias): biases on q, k and v
    o_bias: bool = False          # Llama's attention_bias also biases o_proj; GPT-2 biases everything
    mlp_bias: bool = False
    rope_theta: float = 10000.0
    rope_scaling: dict = field(default_factory=dict)  # {"rope_type": "default" | "linear" | "llama3", ...}
    sliding_window: int | None = None                  # Mistral: keys further back than this are not seen
    attn_scale_by_layer: bool = False                  # GPT-2's scale_attn_by_inverse_layer_idx
    bos_token_id: int | None = None
    eos_token_ids: tuple = ()

    @property
    def family(self):
        """The decoder family that runs the model: 'llama' (Llama, Mistral, Qwen2) or 'gpt2'."""
        return FAMILIES[self.model_type]

    @property
    def qkv_size(self):
        """The width of the fused q, k, v projection: (num_heads + 2 * num_kv_heads) * head_dim."""
        return (self.num_heads + 2 * self.num_kv_heads) * self.head_dim


def _need(cfg, key, source):
    if key not in cfg or cfg[key] is None:
        raise ModelLoadError(f"{source}: config.json has no '{key}'")
    return cfg[key]


def _eos(value):
    if value is None:
        return ()
    return tuple(int(v) for v in (value if isinstance(value, (list, tuple)) else [value]))


def _rope(cfg):
    """(theta, scaling) from either layout: transformers 5's rope_parameters, or rope_theta + rope_scaling."""
    if cfg.get("rope_parameters"):
        scaling = dict(cfg["rope_parameters"])
        theta = float(scaling.pop("rope_theta", cfg.get("rope_theta", 10000.0)))
    else:
        scaling = dict(cfg.get("rope_scaling") or {})
        theta = float(cfg.get("rope_theta", 10000.0))
    kind = scaling.pop("rope_type", scaling.pop("type", "default"))
    return theta, {"rope_type": kind, **scaling}


def from_hf(cfg, source="config.json"):
    """A ModelConfig from the dict of a Hugging Face config.json; UnknownArchitectureError for a model_type
    outside FAMILIES."""
    model_type = cfg.get("model_type")
    if model_type not in FAMILIES:
        raise UnknownArchitectureError(f"{source}: unknown architecture model_type={model_type!r} "
                                       f"(architectures={cfg.get('architectures')}); supported: {sorted(FAMILIES)}")
    if model_type == "gpt2":
        hidden, heads = _need(cfg, "n_embd", source), _need(cfg, "n_head", source)
        if cfg.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
            raise UnknownArchitectureError(f"{source}: GPT-2 with activation_function="
                                           f"{cfg['activation_function']!r} (supported: gelu_new)")
        return ModelConfig(model_type, _need(cfg, "vocab_size", source), hidden, _need(cfg, "n_layer", source), heads,
                           heads, hidden // heads, cfg.get("n_inner") or 4 * hidden, _need(cfg, "n_positions", source),
                           float(cfg.get("layer_norm_epsilon", 1e-5)), True, qkv_bias=True, o_bias=True,
                           mlp_bias=True, attn_scale_by_layer=bool(cfg.get("scale_attn_by_inverse_layer_idx")),
                           bos_token_id=cfg.get("bos_token_id"), eos_token_ids=_eos(cfg.get("eos_token_id")))
    hidden, heads = _need(cfg, "hidden_size", source), _need(cfg, "num_attention_heads", source)
    if cfg.get("hidden_act", "silu") != "silu":
        raise UnknownArchitectureError(f"{source}: {model_type} with hidden_act={cfg['hidden_act']!r} "
                                       "(supported: silu)")
    theta, scaling = _rope(cfg)
    window = cfg.get("sliding_window")
    if model_type == "qwen2" and not cfg.get("use_sliding_window", False):
        window = None
    attention_bias = bool(cfg.get("attention_bias", False))
    return ModelConfig(model_type, _need(cfg, "vocab_size", source), hidden, _need(cfg, "num_hidden_layers", source),
                       heads, cfg.get("num_key_value_heads") or heads, cfg.get("head_dim") or hidden // heads,
                       _need(cfg, "intermediate_size", source), cfg.get("max_position_embeddings", 4096),
                       float(cfg.get("rms_norm_eps", 1e-6)), bool(cfg.get("tie_word_embeddings", False)),
                       qkv_bias=model_type == "qwen2" or attention_bias, o_bias=attention_bias,
                       mlp_bias=bool(cfg.get("mlp_bias", False)), rope_theta=theta, rope_scaling=scaling,
                       sliding_window=window, bos_token_id=cfg.get("bos_token_id"),
                       eos_token_ids=_eos(cfg.get("eos_token_id")))
