"""Rotary position embeddings (the rotate-half form of Llama, Mistral and Qwen2 checkpoints in Hugging Face
layout) and their scaling variants: "default", "linear" (positions interpolated) and "llama3" (low
frequencies stretched, high ones kept, a smooth ramp between; GGUF files store its divisors instead:
"freq_factors")."""
import math

import numpy as np

from .errors import UnknownArchitectureError


def inv_freq(config):
    """The rotation frequencies of one head (head_dim / 2 of them), scaled as config.rope_scaling says."""
    dim = config.head_dim
    freq = 1.0 / config.rope_theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    scaling = config.rope_scaling or {}
    kind = scaling.get("rope_type", "default")
    if kind == "default":
        return freq
    if kind == "linear":
        return freq / float(scaling["factor"])
    if kind == "freq_factors":  # GGUF's form of llama3 scaling: the divisors, precomputed by the converter
        return freq / np.asarray(scaling["factors"], dtype=np.float64)
    if kind == "llama3":
        factor, low, high = (float(scaling[k]) for k in ("factor", "low_freq_factor", "high_freq_factor"))
        context = float(scaling["original_max_position_embeddings"])
        wavelen = 2 * math.pi / freq
        stretched = np.where(wavelen > context / low, freq / factor, freq)
        smooth = (context / wavelen - low) / (high - low)
        blended = (1 - smooth) * stretched / factor + smooth * stretched
        medium = (wavelen >= context / high) & (wavelen <= context / low)
        return np.where(medium, blended, stretched)
    raise UnknownArchitectureError(f"RoPE scaling type {kind!r} is not supported (default, linear, llama3 are)")


def tables(config, length):
    """cos and signed-sin tables [length, head_dim] in float16 such that, with r = x rolled by half a head
    (the halves swapped), rope(x) = x * cos + r * sin: cos = [c, c], sin = [-s, s]."""
    angles = np.arange(length, dtype=np.float64)[:, None] * inv_freq(config)[None, :]
    cos, sin = np.cos(angles), np.sin(angles)
    return (np.concatenate([cos, cos], 1).astype(np.float16),
            np.concatenate([-sin, sin], 1).astype(np.float16))
