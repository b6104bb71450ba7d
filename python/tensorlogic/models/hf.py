"""Hugging Face checkpoint folders: config.json, one or several *.safetensors (with their index json),
memory-mapped. safetensors' own reader copies each tensor into a new buffer, so the files are mapped with
numpy and sliced at the offsets of their header (the format: an 8-byte little-endian header length, a
JSON header {name: {dtype, shape, data_offsets}}, then the data)."""
import json
import math
import os
import struct

import numpy as np

from .._convert import safetensors_array
from .config import eos_ids, from_hf, validated
from .errors import ModelLoadError
from .files import regular_file
from .weights import Part

# dtype name -> bytes per element of the float types that load
_FLOATS = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}


def _is_size(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _entry_ok(info, data_bytes):
    """A safetensors header entry: a dtype name, a shape of sizes and [begin, end] offsets inside the data."""
    if not isinstance(info, dict) or not isinstance(info.get("dtype"), str):
        return False
    shape, offsets = info.get("shape"), info.get("data_offsets")
    return (isinstance(shape, list) and all(_is_size(d) for d in shape) and isinstance(offsets, list)
            and len(offsets) == 2 and all(_is_size(o) for o in offsets) and offsets[0] <= offsets[1] <= data_bytes)


class SafetensorsFolder:
    """The tensors of every .safetensors file of a folder, by name: shape() from the header, array() a view
    of the mapped file (float16) or a float32 conversion (bf16, f32, f64)."""

    def __init__(self, folder):
        self.path = folder
        index = os.path.join(folder, "model.safetensors.index.json")
        if os.path.exists(index):
            files = _indexed_files(index)
        else:
            files = sorted(n for n in os.listdir(folder) if n.endswith(".safetensors"))
        if not files:
            raise ModelLoadError(f"{folder}: no .safetensors files")
        self._entries = {}
        for name in files:
            self._read_header(os.path.join(folder, name))

    def _read_header(self, path):
        regular_file(path)  # before the try, which would call its ModelLoadError (a ValueError) a malformed file
        try:
            with open(path, "rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                if size > os.fstat(f.fileno()).st_size - 8:  # read whole, a length of 2^40 asked for a terabyte
                    raise ValueError(f"its header length {size} runs past the end of the file")
                header = json.loads(f.read(size))
            data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
        except (OSError, ValueError, RecursionError, struct.error) as err:  # (JSON nested past Python's stack)
            raise ModelLoadError(f"{path}: not a safetensors file ({err})") from None
        if not isinstance(header, dict):
            raise ModelLoadError(f"{path}: not a safetensors file (its header is not a JSON object)")
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if not _entry_ok(info, len(data)):
                raise ModelLoadError(f"{path}: tensor '{name[:100]}' has a malformed header entry (dtype, shape and "
                                     "data_offsets within the file)")
            self._entries[name] = (path, data, info["dtype"], tuple(info["shape"]), info["data_offsets"])

    def __len__(self):
        return len(self._entries)

    def __contains__(self, name):
        return name in self._entries

    def names(self):
        return list(self._entries)

    def shape(self, name):
        return self._entries[name][3]

    def blocks(self, name):
        """Quantised blocks of a tensor: safetensors checkpoints hold none."""
        return None

    def array(self, name):
        path, data, dtype, shape, (begin, end) = self._entries[name]
        if dtype not in _FLOATS:
            raise ModelLoadError(f"{path}: tensor '{name}' has dtype {dtype}; float16, bfloat16 and float32 load")
        if end - begin != math.prod(shape) * _FLOATS[dtype]:
            raise ModelLoadError(f"{path}: tensor '{name}' has {end - begin} bytes of data, but {dtype} of shape "
                                 f"{list(shape)} takes {math.prod(shape) * _FLOATS[dtype]}")
        return safetensors_array(dtype, data[begin:end], shape)


def _indexed_files(index):
    """The shard files an index json names (its weight_map's values: file names in the folder)."""
    content = _read_json(index)
    weight_map = content.get("weight_map") if isinstance(content, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) and os.path.basename(v) == v and v
                                                   for v in weight_map.values()):
        raise ModelLoadError(f"{index}: 'weight_map' must map tensor names to file names in the folder")
    return sorted(set(weight_map.values()))


def _llama_recipe(c):
    e, d = c.hidden_size, c.head_dim
    recipe = {"embed": [Part("model.embed_tokens.weight", (c.vocab_size, e))],
              "norm_weight": [Part("model.norm.weight", (e,))],
              "lm_head": [Part("lm_head.weight", (c.vocab_size, e))]}
    for i in range(c.num_layers):
        p, src = f"layers.{i}.", f"model.layers.{i}."
        qkv = [("q", c.num_heads), ("k", c.num_kv_heads), ("v", c.num_kv_heads)]
        recipe[p + "qkv_weight"] = [Part(f"{src}self_attn.{n}_proj.weight", (h * d, e)) for n, h in qkv]
        recipe[p + "qkv_bias"] = [Part(f"{src}self_attn.{n}_proj.bias", (h * d,)) for n, h in qkv]
        recipe[p + "o_weight"] = [Part(src + "self_attn.o_proj.weight", (e, c.num_heads * d))]
        recipe[p + "o_bias"] = [Part(src + "self_attn.o_proj.bias", (e,))]
        recipe[p + "attn_norm_weight"] = [Part(src + "input_layernorm.weight", (e,))]
        recipe[p + "mlp_norm_weight"] = [Part(src + "post_attention_layernorm.weight", (e,))]
        for n, shape in (("gate", (c.intermediate_size, e)), ("up", (c.intermediate_size, e)),
                         ("down", (e, c.intermediate_size))):
            recipe[f"{p}{n}_weight"] = [Part(f"{src}mlp.{n}_proj.weight", shape)]
            recipe[f"{p}{n}_bias"] = [Part(f"{src}mlp.{n}_proj.bias", shape[:1])]
    return recipe


def _gpt2_recipe(c, prefix):
    e, inner = c.hidden_size, c.intermediate_size
    recipe = {"embed": [Part(prefix + "wte.weight", (c.vocab_size, e))],
              "pos_embed": [Part(prefix + "wpe.weight", (c.max_positions, e))],
              "norm_weight": [Part(prefix + "ln_f.weight", (e,))], "norm_bias": [Part(prefix + "ln_f.bias", (e,))]}
    for i in range(c.num_layers):
        p, src = f"layers.{i}.", f"{prefix}h.{i}."
        for ours, theirs, w_shape in (("qkv", "attn.c_attn", (e, 3 * e)), ("o", "attn.c_proj", (e, e)),
                                      ("up", "mlp.c_fc", (e, inner)), ("down", "mlp.c_proj", (inner, e))):
            recipe[f"{p}{ours}_weight"] = [Part(f"{src}{theirs}.weight", w_shape, transpose=True)]
            recipe[f"{p}{ours}_bias"] = [Part(f"{src}{theirs}.bias", w_shape[1:])]
        for ours, theirs in (("attn_norm", "ln_1"), ("mlp_norm", "ln_2")):
            recipe[f"{p}{ours}_weight"] = [Part(f"{src}{theirs}.weight", (e,))]
            recipe[f"{p}{ours}_bias"] = [Part(f"{src}{theirs}.bias", (e,))]
    return recipe


def _read_json(path):
    """The JSON value of a file; ModelLoadError for one that is not JSON, not UTF-8 (UnicodeDecodeError, a
    ValueError) or nested deeper than Python's stack (RecursionError)."""
    regular_file(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, RecursionError) as err:
        raise ModelLoadError(f"{path}: not valid JSON ({err})") from None


def read_config(folder):
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        raise ModelLoadError(f"{folder}: no config.json (a Hugging Face checkpoint folder has one)")
    cfg = _read_json(path)
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{path}: not a JSON object of settings")
    config = from_hf(cfg, path)
    generation = os.path.join(folder, "generation_config.json")
    if os.path.exists(generation):  # its eos_token_id (often a list for chat models) wins over config.json's
        settings = _read_json(generation)
        eos = settings.get("eos_token_id") if isinstance(settings, dict) else None
        if eos is not None:
            config.eos_token_ids = eos_ids(eos, generation)
    return config


def open_checkpoint(folder):
    """(config, recipe, source) of a Hugging Face checkpoint folder."""
    config = read_config(folder)
    source = SafetensorsFolder(folder)
    validated(config, os.path.join(folder, "config.json"), len(source))
    if config.family == "gpt2":
        prefix = "transformer." if "transformer.wte.weight" in source else ""
        return config, _gpt2_recipe(config, prefix), source
    return config, _llama_recipe(config), source
