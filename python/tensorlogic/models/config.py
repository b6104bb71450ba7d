"""ModelConfig: the shape of a decoder-only transformer, read from a Hugging Face config.json (or filled by
the GGUF reader), whatever the family. Two families: "llama" (Llama 2/3, Mistral, Qwen2: RoPE, RMSNorm,
SwiGLU, grouped-query attention) and "gpt2" (learned positions, LayerNorm, GELU, biases everywhere)."""
import math
from dataclasses import dataclass, field

import numpy as np

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
    return count(cfg[key], key, source)


def count(value, key, source):
    """A size of the model (layers, heads, widths): a positive integer, else a ModelLoadError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelLoadError(f"{source}: '{key}' must be a positive integer, got {value!r}")
    return value


def _optional_count(cfg, key, source, default):
    value = cfg.get(key)
    return default if value is None else count(value, key, source)


def _real(cfg, key, source, default):
    return positive(cfg.get(key, default), key, source)


def positive(value, key, source):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ModelLoadError(f"{source}: '{key}' must be a positive number, got {value!r}")
    return float(value)


def token_id(value, key, source):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelLoadError(f"{source}: '{key}' must hold non-negative integer token ids, got {value!r}")
    return value


def eos_ids(value, source):
    if value is None:
        return ()
    return tuple(token_id(v, "eos_token_id", source) for v in (value if isinstance(value, (list, tuple)) else [value]))


def _bos(cfg, source):
    value = cfg.get("bos_token_id")
    return None if value is None else token_id(value, "bos_token_id", source)


def _rope(cfg, source):
    """(theta, scaling) from either layout: transformers 5's rope_parameters, or rope_theta + rope_scaling."""
    key = "rope_parameters" if cfg.get("rope_parameters") else "rope_scaling"
    scaling = cfg.get(key) or {}
    if not isinstance(scaling, dict):
        raise ModelLoadError(f"{source}: '{key}' must be an object, got {scaling!r}")
    scaling = dict(scaling)
    theta = positive(scaling.pop("rope_theta", cfg.get("rope_theta", 10000.0)), "rope_theta", source)
    kind = scaling.pop("rope_type", scaling.pop("type", "default"))
    if not isinstance(kind, str):
        raise ModelLoadError(f"{source}: '{key}' has rope_type {kind!r}, not a name")
    return theta, {"rope_type": kind, **scaling}


_SIZES = ("vocab_size", "hidden_size", "num_layers", "num_heads", "num_kv_heads", "head_dim", "intermediate_size",
          "max_positions")


# The numbers each RoPE scaling reads (rope.py): finite and positive, else the rotation tables hold inf or NaN and
# every logit is NaN (a factor of 0 generated token 0 forever).
_ROPE_NUMBERS = {"linear": ("factor",), "llama3": ("factor", "low_freq_factor", "high_freq_factor",
                                                    "original_max_position_embeddings")}


def _checked_rope(c, source):
    scaling = c.rope_scaling or {}
    kind = scaling.get("rope_type", "default")
    for key in _ROPE_NUMBERS.get(kind, ()):
        if key not in scaling:
            raise ModelLoadError(f"{source}: {kind} RoPE scaling needs '{key}'")
        positive(scaling[key], key, source)
    if kind == "llama3" and not scaling["high_freq_factor"] > scaling["low_freq_factor"]:
        raise ModelLoadError(f"{source}: llama3 RoPE scaling needs high_freq_factor > low_freq_factor, got "
                             f"{scaling['high_freq_factor']!r} and {scaling['low_freq_factor']!r}")
    if kind == "freq_factors":
        factors = np.asarray(scaling["factors"], dtype=np.float64).reshape(-1)
        if factors.size != c.head_dim // 2 or not (np.isfinite(factors) & (factors > 0)).all():
            raise ModelLoadError(f"{source}: rope_freqs must hold head_dim / 2 = {c.head_dim // 2} finite positive "
                                 f"divisors, got {factors.size} values")


def validated(c, source, tensor_count):
    """c, once its sizes are positive integers, its heads group evenly (in dimensions of an even number for RoPE),
    its norm epsilon and RoPE numbers are finite and positive,
    and it has no more layers than the checkpoint has tensors (a config.json or GGUF metadata saying 2^62 layers
    would else be read as many)."""
    for name in _SIZES:
        count(getattr(c, name), name, source)
    positive(c.rope_theta, "rope_theta", source)
    positive(c.norm_eps, "norm_eps", source)
    _checked_rope(c, source)
    if c.family == "llama" and c.head_dim % 2:  # (llama.cpp's q and k row order, undone on load, pairs them too)
        raise ModelLoadError(f"{source}: head_dim {c.head_dim} is odd; RoPE rotates pairs of a head's dimensions")
    if c.num_heads % c.num_kv_heads:
        raise ModelLoadError(f"{source}: {c.num_heads} attention heads do not divide into {c.num_kv_heads} key-value "
                             "heads")
    if c.num_layers > tensor_count:
        raise ModelLoadError(f"{source}: {c.num_layers} layers, but the checkpoint holds only {tensor_count} tensors")
    return c


def from_hf(cfg, source="config.json"):
    """A ModelConfig from the dict of a Hugging Face config.json; UnknownArchitectureError for a model_type
    outside FAMILIES."""
    model_type = cfg.get("model_type")
    if not isinstance(model_type, str) or model_type not in FAMILIES:
        raise UnknownArchitectureError(f"{source}: unknown architecture model_type={model_type!r} "
                                       f"(architectures={cfg.get('architectures')}); supported: {sorted(FAMILIES)}")
    if model_type == "gpt2":
        hidden, heads = _need(cfg, "n_embd", source), _need(cfg, "n_head", source)
        if cfg.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
            raise UnknownArchitectureError(f"{source}: GPT-2 with activation_function="
                                           f"{cfg['activation_function']!r} (supported: gelu_new)")
        if hidden % heads:
            raise ModelLoadError(f"{source}: n_embd {hidden} is not a multiple of n_head {heads}")
        return ModelConfig(
            model_type, _need(cfg, "vocab_size", source), hidden, _need(cfg, "n_layer", source), heads, heads,
            hidden // heads, _optional_count(cfg, "n_inner", source, 4 * hidden), _need(cfg, "n_positions", source),
            _real(cfg, "layer_norm_epsilon", source, 1e-5), True, qkv_bias=True, o_bias=True, mlp_bias=True,
            attn_scale_by_layer=bool(cfg.get("scale_attn_by_inverse_layer_idx")), bos_token_id=_bos(cfg, source),
            eos_token_ids=eos_ids(cfg.get("eos_token_id"), source))
    hidden, heads = _need(cfg, "hidden_size", source), _need(cfg, "num_attention_heads", source)
    if cfg.get("hidden_act", "silu") != "silu":
        raise UnknownArchitectureError(f"{source}: {model_type} with hidden_act={cfg['hidden_act']!r} "
                                       "(supported: silu)")
    theta, scaling = _rope(cfg, source)
    window = cfg.get("sliding_window")
    if model_type == "qwen2" and not cfg.get("use_sliding_window", False):
        window = None
    if window is not None:
        window = count(window, "sliding_window", source)
    head_dim = cfg.get("head_dim")
    if head_dim is None and hidden % heads:
        raise ModelLoadError(f"{source}: hidden_size {hidden} is not a multiple of num_attention_heads {heads} (and "
                             "no head_dim is given)")
    attention_bias = bool(cfg.get("attention_bias", False))
    return ModelConfig(
        model_type, _need(cfg, "vocab_size", source), hidden, _need(cfg, "num_hidden_layers", source), heads,
        _optional_count(cfg, "num_key_value_heads", source, heads),
        hidden // heads if head_dim is None else count(head_dim, "head_dim", source),
        _need(cfg, "intermediate_size", source), _optional_count(cfg, "max_position_embeddings", source, 4096),
        _real(cfg, "rms_norm_eps", source, 1e-6), bool(cfg.get("tie_word_embeddings", False)),
        qkv_bias=model_type == "qwen2" or attention_bias, o_bias=attention_bias,
        mlp_bias=bool(cfg.get("mlp_bias", False)), rope_theta=theta, rope_scaling=scaling, sliding_window=window,
        bos_token_id=_bos(cfg, source), eos_token_ids=eos_ids(cfg.get("eos_token_id"), source))
