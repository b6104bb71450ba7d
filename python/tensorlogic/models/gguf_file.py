"""GGUF files through the `gguf` package (its reader memory-maps the file): the config from the
`{arch}.*` metadata, the tensors (float16 handed over as mapped; bf16, f32 and the quantised types
dequantised on load with gguf's numpy code, or Q8_0, Q4_0, Q4_K and Q6_K handed over as their mapped
blocks for weights kept quantised), and the tokenizer from the file's own vocabulary. Architectures: llama
(also Mistral's files), qwen2, gpt2."""
import struct

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize

from .config import ModelConfig, count, eos_ids, positive, token_id, validated
from .errors import ModelLoadError, UnknownArchitectureError
from .files import regular_file
from .tokenizer import from_gguf_fields
from ..ops.quantized import QUANT_TYPES
from .weights import Part

_MODEL_TYPES = {"llama": "llama", "qwen2": "qwen2", "gpt2": "gpt2"}


def is_gguf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"GGUF"


# What gguf's reader raises on a malformed file: its own checks' ValueError, and numpy's and struct's errors where
# a count or a length in the file points past its end or overflows.
_MALFORMED = (ValueError, OSError, IndexError, KeyError, OverflowError, TypeError, struct.error)


# Words of the reader's own messages about the file (its magic, version, alignment, duplicated names), kept; numpy's
# messages about arrays and offsets ("index 9 is out of bounds for axis 0 with size 3") are not the user's terms.
_READER_WORDS = ("magic", "version", "alignment", "field", "uplicate")


def _malformed(err):
    text = str(err)
    if "GGMLQuantizationType" in text:
        return "a tensor has an unknown type"
    if "GGUFValueType" in text:
        return "a metadata value has an unknown type"
    if isinstance(err, (ValueError, KeyError)) and any(word in text for word in _READER_WORDS):
        return text.strip("'")
    return "it ends early, or a count, length or offset in it is out of range"


class _BoundedReader(GGUFReader):
    """gguf's reader, for which a read past the end of the file is an error. It took such reads as empty arrays,
    so an array of 2^60 scalars in a cut or corrupted header was read 2^60 times over nothing, filling memory."""

    def _get(self, offset, dtype, count=1, override_order=None):
        if offset + np.dtype(dtype).itemsize * int(count) > len(self.data):
            raise ValueError("a read past the end of the file")
        return super()._get(offset, dtype, count, override_order)


def _reader(path):
    regular_file(path)  # before the try, which would call its ModelLoadError (a ValueError) a malformed file
    try:
        return _BoundedReader(path)
    except _MALFORMED as err:
        raise ModelLoadError(f"{path}: not a readable GGUF file ({_malformed(err)})") from None


def _fields(path, reader, prefix=""):
    try:
        return {name: field.contents() for name, field in reader.fields.items() if name.startswith(prefix)}
    except _MALFORMED as err:  # a string that is not UTF-8, a value of the wrong width
        raise ModelLoadError(f"{path}: not a readable GGUF file: a metadata value is malformed "
                             f"({type(err).__name__})") from None


class GGUFTensors:
    """The tensors of a GGUF file by name, in numpy layout ([rows, columns]), float16 or float32."""

    def __init__(self, path, reader):
        self.path = path
        self._tensors = {t.name: t for t in reader.tensors}

    def __contains__(self, name):
        return name in self._tensors

    def __len__(self):
        return len(self._tensors)

    def shape(self, name):
        return tuple(int(n) for n in reversed(self._tensors[name].shape.tolist()))

    def blocks(self, name):
        """(GGUF type name, uint8 blocks [rows, bytes of a row] as mapped) of a tensor in a format that
        QuantizedWeight keeps (QUANT_TYPES), else None."""
        t = self._tensors[name]
        if t.tensor_type.name not in QUANT_TYPES:
            return None
        return t.tensor_type.name, t.data.reshape(self.shape(name)[0], -1)

    def array(self, name):
        t = self._tensors[name]
        if t.tensor_type == GGMLQuantizationType.F16:
            # a view with numpy's canonical float16 dtype object: the reader's equal but distinct one is
            # refused by the zero-copy wrapper, which compares dtypes by identity
            return t.data.view(np.float16).reshape(self.shape(name))
        if t.tensor_type == GGMLQuantizationType.F32:
            return t.data.reshape(self.shape(name))
        try:
            return dequantize(t.data, t.tensor_type).reshape(self.shape(name))
        except NotImplementedError:
            raise ModelLoadError(f"{self.path}: tensor '{name}' has type {t.tensor_type.name}, which gguf cannot "
                                 "dequantise") from None


def _vocab_size(path, fields, tensors):
    """The number of tokens: the vocabulary's (tokenizer.ggml.tokens), else the token embedding's rows."""
    tokens = fields.get("tokenizer.ggml.tokens")
    if tokens is None:
        if "token_embd.weight" not in tensors:
            raise ModelLoadError(f"{path}: neither a vocabulary (tokenizer.ggml.tokens) nor token_embd.weight")
        return tensors.shape("token_embd.weight")[0]
    if not isinstance(tokens, list) or not tokens:
        raise ModelLoadError(f"{path}: tokenizer.ggml.tokens must be a non-empty list of strings")
    rows = tensors.shape("token_embd.weight")[:1] if "token_embd.weight" in tensors else (len(tokens),)
    if rows != (len(tokens),):
        raise ModelLoadError(f"{path}: the vocabulary has {len(tokens)} tokens (tokenizer.ggml.tokens), but "
                             f"token_embd.weight embeds {rows[0] if rows else 0}")
    return len(tokens)


def _config(path, fields, tensors):
    arch = fields.get("general.architecture")
    if not isinstance(arch, str) or arch not in _MODEL_TYPES:
        raise UnknownArchitectureError(f"{path}: unknown architecture general.architecture={arch!r}; supported: "
                                       f"{sorted(_MODEL_TYPES)}")

    def need(key):
        value = fields.get(f"{arch}.{key}")
        if value is None:
            raise ModelLoadError(f"{path}: no '{arch}.{key}' in the metadata")
        return value

    def size(key, default=None):
        """A size the file gives: a positive integer (a float of 0.0 divided by zero below; 1.5 read as 1); the
        default, checked with the config, where it gives none."""
        value = need(key) if default is None else fields.get(f"{arch}.{key}")
        return default if value is None else count(value, f"{arch}.{key}", path)

    def number(key, default=None):
        """A finite positive number (float('x') raised a ValueError of Python's words)."""
        value = need(key) if default is None else fields.get(f"{arch}.{key}", default)
        return positive(value, f"{arch}.{key}", path)

    hidden, heads = size("embedding_length"), size("attention.head_count")
    vocab = _vocab_size(path, fields, tensors)
    bos = fields.get("tokenizer.ggml.bos_token_id")
    common = dict(model_type=_MODEL_TYPES[arch], vocab_size=vocab, hidden_size=hidden,
                  num_layers=size("block_count"), num_heads=heads,
                  intermediate_size=size("feed_forward_length"),
                  max_positions=size("context_length"), tie_word_embeddings="output.weight" not in tensors,
                  bos_token_id=None if bos is None else token_id(bos, "tokenizer.ggml.bos_token_id", path),
                  eos_token_ids=eos_ids(fields.get("tokenizer.ggml.eos_token_id"), path))
    if arch == "gpt2":
        return ModelConfig(num_kv_heads=heads, head_dim=hidden // heads,
                           norm_eps=number("attention.layer_norm_epsilon"), qkv_bias=True, o_bias=True,
                           mlp_bias=True, **common)
    scaling = {"rope_type": "default"}
    kind = fields.get(f"{arch}.rope.scaling.type", "none")
    if kind == "linear":
        scaling = {"rope_type": "linear", "factor": number("rope.scaling.factor")}
    elif kind != "none":
        raise UnknownArchitectureError(f"{path}: RoPE scaling type {kind!r} is not supported (linear is)")
    if "rope_freqs.weight" in tensors:  # llama 3.1's scaling, stored as one divisor per frequency
        scaling = {"rope_type": "freq_factors", "factors": tensors.array("rope_freqs.weight").astype(np.float64)}
    return ModelConfig(num_kv_heads=size("attention.head_count_kv", heads),
                       head_dim=size("attention.key_length", hidden // heads),
                       norm_eps=number("attention.layer_norm_rms_epsilon"),
                       qkv_bias="blk.0.attn_q.bias" in tensors,
                       o_bias="blk.0.attn_output.bias" in tensors, mlp_bias="blk.0.ffn_up.bias" in tensors,
                       rope_theta=number("rope.freq_base", 10000.0), rope_scaling=scaling, **common)


def _recipe(c, arch):
    e, d, inner = c.hidden_size, c.head_dim, c.intermediate_size
    recipe = {"embed": [Part("token_embd.weight", (c.vocab_size, e))], "pos_embed": [Part("position_embd.weight",
              (c.max_positions, e))], "lm_head": [Part("output.weight", (c.vocab_size, e))],
              "norm_weight": [Part("output_norm.weight", (e,))], "norm_bias": [Part("output_norm.bias", (e,))]}
    permute = arch == "llama"  # llama.cpp's converter reorders llama's q and k rows for its rope kernel
    for i in range(c.num_layers):
        p, src = f"layers.{i}.", f"blk.{i}."
        if c.family == "gpt2":
            recipe[p + "qkv_weight"] = [Part(src + "attn_qkv.weight", (c.qkv_size, e))]
            recipe[p + "qkv_bias"] = [Part(src + "attn_qkv.bias", (c.qkv_size,))]
        else:
            qkv = [("q", c.num_heads, permute), ("k", c.num_kv_heads, permute), ("v", c.num_kv_heads, False)]
            recipe[p + "qkv_weight"] = [Part(f"{src}attn_{n}.weight", (h * d, e), unpermute_heads=h if perm else 0)
                                        for n, h, perm in qkv]
            recipe[p + "qkv_bias"] = [Part(f"{src}attn_{n}.bias", (h * d,), unpermute_heads=h if perm else 0)
                                      for n, h, perm in qkv]
        recipe[p + "o_weight"] = [Part(src + "attn_output.weight", (e, c.num_heads * d))]
        recipe[p + "o_bias"] = [Part(src + "attn_output.bias", (e,))]
        for ours, theirs in (("attn_norm", "attn_norm"), ("mlp_norm", "ffn_norm")):
            recipe[f"{p}{ours}_weight"] = [Part(f"{src}{theirs}.weight", (e,))]
            recipe[f"{p}{ours}_bias"] = [Part(f"{src}{theirs}.bias", (e,))]
        for n, shape in (("gate", (inner, e)), ("up", (inner, e)), ("down", (e, inner))):
            recipe[f"{p}{n}_weight"] = [Part(f"{src}ffn_{n}.weight", shape)]
            recipe[f"{p}{n}_bias"] = [Part(f"{src}ffn_{n}.bias", shape[:1])]
    return recipe


def open_gguf(path):
    """(config, recipe, source) of a GGUF file."""
    reader = _reader(path)
    fields = _fields(path, reader)
    tensors = GGUFTensors(path, reader)
    config = validated(_config(path, fields, tensors), path, len(tensors))
    return config, _recipe(config, fields["general.architecture"]), tensors


def read_tokenizer(path):
    return from_gguf_fields(_fields(path, _reader(path), "tokenizer."), path)
