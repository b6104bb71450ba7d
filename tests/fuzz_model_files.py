"""Tiny valid language models as files, and their hostile mutations, for tests/fuzz_models.py and the regression tests
of what it found: Hugging Face folders (config.json, model.safetensors, tokenizer.json) and GGUF files written with
gguf's writer, of the families tensorlogic.models runs (llama, mistral, qwen2, gpt2), with random float32 weights of
the shapes the library's own recipes name. The mutations: missing or mistyped config and metadata values, negative
and huge sizes, tensors of the wrong shape, dtype or type, zero-size tensors, NaN weights, a vocabulary unlike the
embedding, broken tokenizer.json, safetensors headers and index files, GGUF bytes flipped, cut or overwritten in its
header and metadata. Each mutation is noted on the Case, so that a replay shows what was done."""
import json
import os

import gguf
import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from gguf.quants import quantize
from safetensors.numpy import save
from tokenizers import Tokenizer, pre_tokenizers
from tokenizers.models import WordLevel

from tensorlogic.models import gguf_file, hf
from tensorlogic.models.config import ModelConfig, from_hf
from tensorlogic.models.decoder import parameter_shapes

HOSTILE = [0, -1, -2**31, 2**31, 2**62, 2**64 - 1, 1.5, float("nan"), float("inf"), -0.0, 1e308, "7", "", None, True,
           [], [1, 2], {}, {"a": 1}]


class Case:
    """A model being built and mutated: the sizes, the files' contents and the mutations applied (shown on replay)."""

    def __init__(self, maker):
        self.maker, self.done = maker, []

    def note(self, what):
        self.done.append(what)


def sizes(maker, family):
    heads = maker.pick([2, 4])
    kv = heads if family == "gpt2" else maker.pick([k for k in (1, 2, 4) if heads % k == 0])
    # an odd or small head_dim (llama's head_dim, GGUF's key_length) and few positions, with tensors that agree
    head_dim = 32 // heads if family == "gpt2" else maker.pick([32 // heads] * 8 + [6, 5, 1])
    return dict(vocab=maker.pick([24, 40]), hidden=32, layers=maker.pick([1, 2]), heads=heads, kv=kv,
                head_dim=head_dim, inner=maker.pick([32, 64]), positions=maker.pick([64, 64, 64, 4]))


def _weights(maker, config, recipe):
    """Random weights of every checkpoint tensor the config needs, by checkpoint name, float32."""
    out = {}
    for name in parameter_shapes(config):
        for part in recipe[name]:
            scale = 0.1 if len(part.shape) == 1 else 0.4 / np.sqrt(part.shape[-1])
            values = maker.rng.standard_normal(part.shape) * scale
            out[part.name] = (values + 1 if "norm" in part.name and part.name.endswith("weight") else values)
    return {k: v.astype(np.float32) for k, v in out.items()}


def _hostile_array(maker, a):
    """a with a hostile shape or values: transposed, one dimension more, less or zero, NaN or inf, or huge."""
    how = maker.pick(["transpose", "extra", "fewer", "zero", "nan", "inf", "huge", "empty"])
    if how == "transpose" and a.ndim == 2:
        return a.T.copy(), how
    if how == "extra":
        return a[..., None], how
    if how == "fewer":
        return a[:-1].copy(), how
    if how in ("zero", "empty"):
        return np.zeros((0,) + a.shape[1:] if how == "zero" else (0,), a.dtype), how
    values = a.copy()
    flat = values.reshape(-1)
    flat[maker.rng.integers(0, flat.size, max(1, flat.size // 8))] = {"nan": np.nan, "inf": np.inf}.get(how, 1e30)
    return values, how


# --- Hugging Face folders --------------------------------------------------------------------------------------------

def _hf_config(maker, family, s):
    if family == "gpt2":
        cfg = {"model_type": "gpt2", "vocab_size": s["vocab"], "n_embd": s["hidden"], "n_layer": s["layers"],
               "n_head": s["heads"], "n_positions": s["positions"], "n_inner": s["inner"]}
    else:
        cfg = {"model_type": family, "vocab_size": s["vocab"], "hidden_size": s["hidden"],
               "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"], "num_key_value_heads": s["kv"],
               "intermediate_size": s["inner"], "max_position_embeddings": s["positions"], "rms_norm_eps": 1e-5,
               "rope_theta": 10000.0, "tie_word_embeddings": maker.chance(0.5)}
        if s["head_dim"] != s["hidden"] // s["heads"]:
            cfg["head_dim"] = s["head_dim"]
        if family == "mistral":
            cfg["sliding_window"] = s["positions"]
    return {**cfg, "bos_token_id": 1, "eos_token_id": 2}


def _word_tokenizer(vocab):
    tok = Tokenizer(WordLevel({"<unk>": 0, "<s>": 1, "</s>": 2, **{f"w{i}": i for i in range(3, vocab)}},
                              unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return json.loads(tok.to_str())


def _mutate_config(case, cfg):
    maker = case.maker
    how = maker.pick(["value", "value", "drop", "rope", "extra"])
    key = maker.pick(sorted(cfg))
    if how == "value":
        cfg[key] = maker.pick(HOSTILE)
    elif how == "drop":
        del cfg[key]
    elif how == "rope":
        key = maker.pick(["rope_scaling", "rope_parameters"])
        cfg[key] = maker.pick([{"rope_type": "linear", "factor": maker.pick(HOSTILE)}, {"type": 3}, "x", [],
                               {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                "original_max_position_embeddings": maker.pick(HOSTILE)},
                               {"rope_type": "yarn", "factor": 2.0}, {"rope_theta": maker.pick(HOSTILE)}])
    else:
        key = maker.pick(["head_dim", "sliding_window", "use_sliding_window", "attention_bias", "mlp_bias",
                          "hidden_act", "activation_function", "scale_attn_by_inverse_layer_idx", "n_inner"])
        cfg[key] = maker.pick(HOSTILE + ["gelu", "silu"])
    case.note(f"config.json {how} {key}={cfg.get(key)!r}")


def _safetensors_bytes(case, tensors):
    """model.safetensors of the tensors, sometimes with a hostile header or cut short."""
    maker = case.maker
    dtype = maker.pick(["float16"] * 6 + ["float32", "bfloat16"])
    if dtype == "bfloat16":  # numpy has no bfloat16: the top halves of float32, labelled after saving
        data = save({k: (v.view(np.uint32) >> 16).astype(np.uint16) for k, v in tensors.items()})
        data = relabel_safetensors(data, lambda h: {k: {**e, "dtype": "BF16"} for k, e in h.items()})
    else:
        data = save({k: v.astype(dtype) for k, v in tensors.items()})
    if not maker.chance(0.3):
        return data
    how = maker.pick(["dtype", "shape", "offsets", "length", "cut", "not-object", "metadata"])
    case.note(f"safetensors {how}")
    if how == "length":
        return maker.pick([2**64 - 1, 2**40, 0, len(data)]).to_bytes(8, "little") + data[8:]
    if how == "cut":
        return data[:int(maker.rng.integers(0, len(data)))]

    def edit(header):
        if how == "not-object":
            return maker.pick([[1], "x", None, 3, b"[" * 100_000 + b"]" * 100_000])
        if how == "metadata":
            return {**header, "__metadata__": maker.pick(HOSTILE)}
        name = maker.pick(sorted(k for k in header if k != "__metadata__"))
        entry = dict(header[name])
        if how == "dtype":
            entry["dtype"] = maker.pick(["I32", "F64", "U8", "BOOL", "F8_E4M3", "X", 7, None])
        elif how == "shape":
            entry["shape"] = maker.pick([[], [0], [-1, 2], [2**40, 2**40], [2**63], "x", [1.5], None])
        else:
            begin, end = entry["data_offsets"]
            entry["data_offsets"] = maker.pick([[end, begin], [begin, end + 2], [-2, end], [begin, 2**64],
                                                [begin, begin], [begin], None])
        return {**header, name: entry}

    return relabel_safetensors(data, edit)


def relabel_safetensors(data, edit):
    """The safetensors bytes `data` with their JSON header replaced by edit(header) (a value, or its text as bytes)."""
    size = int.from_bytes(data[:8], "little")
    header = edit(json.loads(data[8:8 + size]))
    header = header if isinstance(header, bytes) else json.dumps(header).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + data[8 + size:]


def _mutate_tensors(case, tensors):
    maker = case.maker
    name = maker.pick(sorted(tensors))
    how = maker.pick(["array", "array", "drop", "extra"])
    if how == "array":
        tensors[name], how = _hostile_array(maker, tensors[name])
    elif how == "drop":
        del tensors[name]
    else:
        tensors[name + ".x" if maker.chance(0.5) else "lm_head.weight"] = maker.rng.standard_normal((3, 5))
    case.note(f"tensor {name}: {how}")


def _mutate_tokenizer(case, tok):
    """tokenizer.json's dict, mutated; a string when the mutation leaves no JSON object."""
    maker = case.maker
    how = maker.pick(["vocab-id", "vocab-id", "model-type", "drop", "unk", "added", "cut", "pre", "post", "empty"])
    case.note(f"tokenizer.json {how}")
    model = tok["model"]
    if how == "vocab-id":
        model["vocab"][maker.pick(sorted(model["vocab"]))] = maker.pick([-1, 2**31, 2**64, 100, "3", None, 1.5])
    elif how == "model-type":
        model["type"] = maker.pick(["BPE", "Unigram", "WordPiece", "X", 3, None])
    elif how == "drop":
        del tok[maker.pick(["model", "pre_tokenizer", "added_tokens", "version"])]
    elif how == "unk":
        model["unk_token"] = maker.pick(["<absent>", 3, None])
    elif how == "added":
        tok["added_tokens"] = [{"id": maker.pick([-1, 5, 2**40, 100]), "content": "w3", "special": True,
                                "single_word": False, "lstrip": False, "rstrip": False, "normalized": False}]
    elif how == "cut":
        text = json.dumps(tok)
        return text[:int(maker.rng.integers(0, len(text)))]
    elif how == "post":  # a template of the second sequence only, or of a special token it does not define
        piece = maker.pick([{"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "x", "type_id": 0}}])
        specials = maker.pick([{}, {"x": {"id": "x", "ids": [], "tokens": []}},
                               {"x": {"id": "x", "ids": [2**40], "tokens": ["x"]}}])
        tok["post_processor"] = {"type": "TemplateProcessing", "pair": [], "special_tokens": specials,
                                 "single": [piece, {"Sequence": {"id": "A", "type_id": 0}}]}
    elif how == "pre":
        tok["pre_tokenizer"] = maker.pick([{"type": "X"}, {"type": "Split", "pattern": {"Regex": "("},
                                                            "behavior": "Isolated", "invert": False}, 3])
    else:
        model["vocab"] = {}
    return tok


def hf_parts(maker, family, s):
    """(config.json's dict, {name: float32 weights}, tokenizer.json's dict) of a valid tiny model of `family`."""
    cfg = _hf_config(maker, family, s)
    config = from_hf(cfg)
    recipe = hf._gpt2_recipe(config, "transformer.") if family == "gpt2" else hf._llama_recipe(config)
    return cfg, _weights(maker, config, recipe), _word_tokenizer(s["vocab"])


def write_hf(folder, files, tensors, safetensors=None):
    """A checkpoint folder: the files {name: bytes, text, or a value written as JSON} and model.safetensors (the
    bytes given, else the tensors in float16)."""
    for name, content in files.items():
        if not isinstance(content, bytes):
            content = (content if isinstance(content, str) else json.dumps(content)).encode()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(content)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(save({k: v.astype(np.float16) for k, v in tensors.items()}) if safetensors is None else safetensors)
    return folder


def build_hf(case, folder):
    maker = case.maker
    family = maker.pick(["llama", "mistral", "qwen2", "gpt2"])
    s = sizes(maker, family)
    cfg, tensors, tok = hf_parts(maker, family, s)
    if maker.chance(0.1):  # more tokens than the model has, or fewer
        tok = _word_tokenizer(s["vocab"] + maker.pick([8, -10]))
    case.note(f"{family} folder {s}")
    for mutate, target in ((_mutate_config, cfg), (_mutate_tensors, tensors)):
        if maker.chance(0.4):
            mutate(case, target)
    if maker.chance(0.3):
        tok = _mutate_tokenizer(case, tok)
    files = {"config.json": cfg, "tokenizer.json": tok}
    if maker.chance(0.1):
        files.pop(maker.pick(sorted(files)))
        case.note("a file left out")
    if maker.chance(0.1):  # a JSON file that is no object, cut short, or not UTF-8
        name = maker.pick(["config.json", "tokenizer.json", "generation_config.json"])
        files[name] = maker.pick([[1], None, "x", b'{"a": "\xff"}', b"\xfe\xff{}", json.dumps(cfg)[:20],
                                  "[" * 100_000 + "]" * 100_000])
        case.note(f"{name} {files[name]!r}")
    if maker.chance(0.1):
        files["model.safetensors.index.json"] = maker.pick([
            {"weight_map": {"x": "absent.safetensors"}}, {"weight_map": {"x": "../model.safetensors"}},
            {"weight_map": {"x": 3}}, {"weight_map": []}, [], {"x": 1}, {"weight_map": {}}])
        case.note(f"index {files['model.safetensors.index.json']}")
    if maker.chance(0.1):
        files["generation_config.json"] = {"eos_token_id": maker.pick(HOSTILE)}
        case.note(f"generation_config {files['generation_config.json']}")
    write_hf(folder, files, tensors, _safetensors_bytes(case, tensors))
    return folder, "w3 w5 w4" if maker.chance(0.9) else maker.pick(["", "w0", "wzz " * 50])


# --- GGUF files ------------------------------------------------------------------------------------------------------

def _gguf_vocab(kind, n):
    """(tokens, merges) of a byte-level ("gpt2") or sentencepiece ("llama") vocabulary of n tokens."""
    letters = [chr(c) for c in range(ord("a"), ord("a") + 12)]
    pairs = [a + b for a in letters for b in letters]
    if kind == "gpt2":
        tokens = ["<|endoftext|>", "<s>", "</s>", "Ġ"] + letters
    else:
        tokens = ["<unk>", "<s>", "</s>", "▁"] + letters
    tokens += pairs[:n - len(tokens)]
    return tokens, [f"{p[0]} {p[1]}" for p in tokens if p in pairs]


def _gguf_fields(arch, s, kind):
    tokens, merges = _gguf_vocab(kind, s["vocab"])
    a = arch
    fields = {"general.architecture": arch, f"{a}.context_length": s["positions"],
              f"{a}.embedding_length": s["hidden"], f"{a}.block_count": s["layers"],
              f"{a}.feed_forward_length": s["inner"], f"{a}.attention.head_count": s["heads"],
              "tokenizer.ggml.model": kind, "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.bos_token_id": 1,
              "tokenizer.ggml.eos_token_id": 2}
    if arch == "gpt2":
        fields[f"{a}.attention.layer_norm_epsilon"] = 1e-5
    else:
        fields.update({f"{a}.attention.head_count_kv": s["kv"], f"{a}.attention.layer_norm_rms_epsilon": 1e-5,
                       f"{a}.rope.freq_base": 10000.0, f"{a}.attention.key_length": s["head_dim"]})
    if kind == "gpt2":
        fields["tokenizer.ggml.merges"] = merges
    else:
        fields["tokenizer.ggml.scores"] = [-float(i) for i in range(len(tokens))]
        fields["tokenizer.ggml.token_type"] = [2, 3, 3] + [1] * (len(tokens) - 3)
        fields["tokenizer.ggml.unknown_token_id"] = 0
    return fields


def _mutate_fields(case, fields):
    maker = case.maker
    how = maker.pick(["value", "value", "drop", "tokens", "list", "extra"])
    key = maker.pick(sorted(fields))
    if how == "value":
        fields[key] = maker.pick(HOSTILE[:-4] + ["llama", "bert", ["x"], [1.5], [True], [[1, 2]], [["a"]]])
    elif how == "drop":
        del fields[key]
    elif how == "tokens":  # fewer tokens, duplicates, a piece of a million characters, a BOS a template misreads
        key = "tokenizer.ggml.tokens"
        if maker.chance(0.2):
            fields[key][-1] = "ab" * 500_000
        elif maker.chance(0.3):
            fields[key][1] = maker.pick(["", "a b", "$A", "$B:1", "$", "\x00", "ab", "<s>" * 1000])
        else:
            fields[key] = fields[key][:int(maker.rng.integers(1, len(fields[key])))] + maker.pick([[], ["a"] * 9])
    elif how == "list" and isinstance(fields[key], list):
        fields[key] = fields[key][:maker.pick([1, -1])] + [maker.pick([-1, 2**40, 1.5, "x"])]
    else:
        arch = fields.get("general.architecture")
        key = maker.pick([f"{arch}.rope.scaling.type", f"{arch}.rope.scaling.factor", f"{arch}.attention.key_length",
                          "tokenizer.ggml.pre", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.unknown_token_id",
                          "general.alignment"])
        fields[key] = maker.pick(HOSTILE[:-4] + ["linear", "yarn", "llama-bpe", "qwen2", "x"])
    case.note(f"metadata {how} {key}={fields.get(key)!r}"[:200])  # (a million characters shown as 200)


def _value_type(maker, value):
    """The GGUF value type a hostile value is written as (several for an int or a float)."""
    if isinstance(value, bool):
        return V.BOOL, None
    if isinstance(value, int):
        signed = [V.INT32, V.INT64] if -2**31 <= value < 2**31 else [V.INT64]
        fits = signed + ([V.UINT32] if 0 <= value < 2**32 else []) + ([V.UINT64] if 0 <= value < 2**64 else [])
        return maker.pick([t for t in fits if value < 2**63 or t == V.UINT64]), None
    if isinstance(value, float):
        return maker.pick([V.FLOAT32, V.FLOAT64]) if abs(value) < 1e38 else V.FLOAT64, None
    if isinstance(value, list):
        return V.ARRAY, _value_type(maker, value[0])[0]
    return V.STRING, None


def _store(maker, name, a, qtype):
    """(data, raw type) of one GGUF tensor: norms in f32, matrices in qtype, or with qtype None mostly f16, else f32,
    bf16, Q8_0, Q4_0, or random bytes labelled with a type of another size."""
    if a.ndim == 1 or "norm" in name:
        return a.astype(np.float32), None
    kind = maker.pick([Q.F16] * 5 + [Q.F32, Q.BF16, Q.Q8_0, Q.Q4_0, "bytes"]) if qtype is None else qtype
    if kind == "bytes":
        qtype = maker.pick([Q.Q4_K, Q.Q6_K, Q.Q8_0, Q.I32, Q.F64, Q.Q2_K, Q.IQ2_XXS])
        size = gguf.GGML_QUANT_SIZES[qtype][1]
        return maker.rng.integers(0, 256, (a.shape[0], size * maker.pick([1, 2])), dtype=np.uint8), qtype
    if kind in (Q.F16, Q.F32):
        return quantize(a, kind), None
    if a.shape[-1] % 32:
        return a.astype(np.float16), None
    return quantize(a, kind), kind


def gguf_parts(maker, arch, s, kind="llama"):
    """(metadata {key: value}, {name: float32 weights}) of a valid tiny GGUF model of `arch` with a vocabulary of
    `kind` ("gpt2" or "llama")."""
    config = ModelConfig(arch, s["vocab"], s["hidden"], s["layers"], s["heads"], s["kv"], s["head_dim"],
                         s["inner"], s["positions"], 1e-5, maker.chance(0.5), qkv_bias=arch != "llama",
                         o_bias=arch == "gpt2", mlp_bias=arch == "gpt2")
    return _gguf_fields(arch, s, kind), _weights(maker, config, gguf_file._recipe(config, arch))


def write_gguf(maker, path, fields, tensors, qtype=Q.F16):
    """A GGUF file of the metadata and tensors (matrices in qtype, or of varied types with None: _store); None values
    and empty lists left out."""
    writer = gguf.GGUFWriter(path, None)
    for key, value in fields.items():
        if not (isinstance(value, (list, str)) and not value) and value is not None:
            writer.add_key_value(key, value, *_value_type(maker, value))
    for name, a in tensors.items():
        data, raw = _store(maker, name, a, qtype)
        writer.add_tensor(name, data, raw_dtype=raw)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def build_gguf(case, folder):
    maker = case.maker
    arch = maker.pick(["llama", "qwen2", "gpt2"])
    s = sizes(maker, arch)
    kind = maker.pick(["gpt2", "llama"])
    fields, tensors = gguf_parts(maker, arch, s, kind)
    case.note(f"{arch} gguf, {kind} vocabulary, {s}")
    if maker.chance(0.4):
        _mutate_fields(case, fields)
    if maker.chance(0.4):
        _mutate_tensors(case, tensors)
    if maker.chance(0.1):
        half = s["head_dim"] // 2
        divisors = maker.pick([np.ones(3), np.zeros(half), np.full(half, np.nan)])
        tensors["rope_freqs.weight"] = divisors.astype(np.float32)
        case.note(f"rope_freqs {tensors['rope_freqs.weight'][:2]}")
    path = write_gguf(maker, os.path.join(folder, "model.gguf"), fields, tensors, qtype=None)
    if maker.chance(0.3):
        _mutate_bytes(case, path)
    return path, "ab cd a" if maker.chance(0.9) else maker.pick(["", "\x00\xff", "zz" * 100])


def _mutate_bytes(case, path):
    """The file's bytes flipped, cut or overwritten, mostly in its header and metadata (before the tensor data)."""
    maker = case.maker
    with open(path, "rb") as f:
        data = bytearray(f.read())
    try:
        reader = gguf.GGUFReader(path)
    except ValueError:  # a hostile general.alignment already: the file stays as it is
        return
    end = reader.data_offset
    how = maker.pick(["flip", "flip", "count", "count", "tensor", "tensor", "cut", "version", "magic"])
    at = int(maker.rng.integers(0, end))
    if how == "tensor":  # a tensor's dimension count, a dimension, its type or its data offset
        parts = maker.pick(reader.tensors).field.parts[2:]
        part = maker.pick(parts)
        at = part.ctypes.data - reader.data.ctypes.data
        value = maker.pick([0, 1, 3, 5, 2**31, 2**32 - 1, len(data), len(data) * 2, 2**40, 2**63 + 1, 2**64 - 1])
        data[at:at + part.nbytes] = (value % 2**(8 * part.itemsize)).to_bytes(part.itemsize, "little") * part.size
    elif how == "flip":
        data[at] ^= int(maker.rng.integers(1, 256))
    elif how == "count":  # a count, a length or an offset (all little-endian u32 or u64) made huge or negative
        at = maker.pick([8, 16, at])
        data[at:at + 8] = maker.pick([b"\xff" * 8, b"\xff" * 7 + b"\x7f", (2**31).to_bytes(8, "little"),
                                      (2**40).to_bytes(8, "little"), b"\x00" * 8])
    elif how == "cut":
        del data[int(maker.rng.integers(0, len(data))):]
    elif how == "version":
        data[4:8] = maker.pick([0, 1, 2, 4, 2**32 - 1]).to_bytes(4, "little")
    else:
        data[0:4] = b"GGUF"[::-1]
    case.note(f"bytes {how} at {at}")
    with open(path, "wb") as f:
        f.write(data)
