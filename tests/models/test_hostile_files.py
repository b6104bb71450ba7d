"""Hostile model files found by tests/fuzz_models.py: each was a crash of the loader or of generation inside numpy,
struct or the decoder (a ValueError, TypeError, KeyError, MemoryError or IndexError from inside the library, or a
bare Exception from `tokenizers`), and is now a typed error naming the file, raised by the loader or before any
token is generated. The models are the fuzzer's tiny valid ones (random weights) with one thing made hostile."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from gguf import GGMLQuantizationType as Q

from fuzz_model_files import gguf_parts, hf_parts, relabel_safetensors, write_gguf, write_hf
from fuzz_ops import Maker
from tensorlogic import models
from tensorlogic.lang.cli import main
from tensorlogic.models import rope

SIZES = dict(vocab=24, hidden=32, layers=1, heads=2, kv=2, head_dim=16, inner=32, positions=64)


def _folder(rng, path, family="llama", sizes=SIZES, edit=None):
    """A tiny checkpoint folder; edit(cfg, tensors, tokenizer) changes its parts before they are written."""
    cfg, tensors, tokenizer = hf_parts(Maker(rng), family, dict(sizes))
    if edit is not None:
        edit(cfg, tensors, tokenizer)
    return write_hf(str(path), {"config.json": cfg, "tokenizer.json": tokenizer}, tensors)


def _gguf(rng, path, arch="llama", sizes=SIZES, edit=None, qtype=Q.F16):
    """A tiny GGUF file in a new folder under `path` (a file the reader mapped is never rewritten)."""
    maker = Maker(rng)
    fields, tensors = gguf_parts(maker, arch, dict(sizes))
    if edit is not None:
        edit(fields, tensors)
    return write_gguf(maker, os.path.join(tempfile.mkdtemp(dir=path), "model.gguf"), fields, tensors, qtype)


def _safetensors(folder):
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        return f.read()


def test_the_unmutated_files_load_and_generate(rng, tmp_path):
    for path in (_folder(rng, tmp_path), _gguf(rng, tmp_path)):
        model, tokenizer = models.load(path, "cpu")
        tokens = models.generate(model, [tokenizer.encode("w3 w4" if os.path.isdir(path) else "ab")], 3).tokens[0]
        assert len(tokens) == 3 and all(0 <= t < 24 for t in tokens)


@pytest.mark.parametrize("length", [2**40, 2**64 - 1])
def test_a_safetensors_header_length_past_the_end_of_the_file(rng, tmp_path, length):
    """Was a MemoryError (2^40: a terabyte read asked for) or an OverflowError (2^64 - 1)."""
    folder = _folder(rng, tmp_path)
    data = _safetensors(folder)
    write_hf(folder, {}, {}, length.to_bytes(8, "little") + data[8:])
    with pytest.raises(models.ModelLoadError, match=f"header length {length} runs past the end of the file"):
        models.load_model(folder, "cpu")


@pytest.mark.parametrize("dtype", ["F32", "F64"])
def test_a_safetensors_entry_whose_bytes_disagree_with_its_dtype_and_shape(rng, tmp_path, dtype):
    """f16 data labelled F32: numpy's 'cannot reshape array of size 512 into shape (16, 32)'."""
    folder = _folder(rng, tmp_path)
    name = "model.layers.0.mlp.up_proj.weight"
    write_hf(folder, {}, {}, relabel_safetensors(_safetensors(folder),
                                                 lambda header: {**header, name: {**header[name], "dtype": dtype}}))
    with pytest.raises(models.ModelLoadError, match=f"'{name}' has 2048 bytes of data, but {dtype} of shape "
                                                    r"\[32, 32\] takes"):
        models.load_model(folder, "cpu")


@pytest.mark.parametrize("index", [{"weight_map": []}, [], {"x": 1}, {"weight_map": {"x": 3}},
                                   {"weight_map": {"x": "../model.safetensors"}}])
def test_an_index_json_that_names_no_shard_files(rng, tmp_path, index):
    """Were AttributeError ('list' object has no attribute 'values'), TypeError, KeyError and os.path.join's
    TypeError; a path outside the folder was read."""
    folder = _folder(rng, tmp_path)
    write_hf(folder, {"model.safetensors.index.json": index}, {}, _safetensors(folder))
    with pytest.raises(models.ModelLoadError, match="'weight_map' must map tensor names to file names in the folder"):
        models.load_model(folder, "cpu")


@pytest.mark.parametrize("content, says", [([1], "not a JSON object of settings"),
                                           (None, "not a JSON object of settings"),
                                           (b"\xfe\xff{}", "not valid JSON .*can't decode byte 0xfe"),
                                           ("[" * 100_000 + "]" * 100_000, "not valid JSON .*recursion")])
def test_a_config_json_that_is_no_object_or_not_utf8(rng, tmp_path, content, says):
    """Were AttributeError ('list' object has no attribute 'get'), an uncaught UnicodeDecodeError and, for JSON
    nested 100,000 deep, json's RecursionError."""
    folder = _folder(rng, tmp_path)
    write_hf(folder, {"config.json": content}, {}, _safetensors(folder))
    with pytest.raises(models.ModelLoadError, match=says):
        models.load_model(folder, "cpu")


def test_a_safetensors_header_nested_past_the_stack(rng, tmp_path):
    folder = _folder(rng, tmp_path)
    write_hf(folder, {}, {}, relabel_safetensors(_safetensors(folder), lambda header: b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(models.ModelLoadError, match="not a safetensors file .*recursion"):
        models.load_model(folder, "cpu")


def test_a_tokenizer_whose_unknown_token_is_not_in_its_vocabulary(rng, tmp_path, capsys):
    """tokenizers reads the file, then encode raised a bare Exception ('WordLevel error: Missing [UNK] token')."""
    folder = _folder(rng, tmp_path, edit=lambda cfg, tensors, tokenizer: tokenizer["model"].update(vocab={}))
    _, tokenizer = models.load(folder, "cpu")
    with pytest.raises(models.ModelLoadError, match=r"tokenizer\.json: the tokenizer cannot encode \(WordLevel"):
        tokenizer.encode("w3")
    assert main(["generate", folder, "--prompt", "w3", "--max-tokens", "2", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "the tokenizer cannot encode" in err


@pytest.mark.parametrize("piece", [{"SpecialToken": {"id": "x", "type_id": 0}},
                                   {"Sequence": {"id": "B", "type_id": 0}}])
def test_a_tokenizer_json_template_that_panics_inside_tokenizers(rng, tmp_path, capsys, piece):
    """A template naming a special token tokenizer.json does not define ('no entry found for key'), or the second
    sequence of a single text ('index out of bounds'): Rust panics, raised as pyo3's PanicException, a BaseException
    that ended `tl generate` in a traceback."""
    def template(cfg, tensors, tokenizer):
        tokenizer["post_processor"] = {"type": "TemplateProcessing", "single": [piece], "pair": [],
                                       "special_tokens": {}}
    folder = _folder(rng, tmp_path, edit=template)
    with pytest.raises(models.ModelLoadError, match=r"tokenizer\.json: the tokenizer cannot encode"):
        models.load_tokenizer(folder).encode("w3")
    assert main(["generate", folder, "--prompt", "w3", "--max-tokens", "2", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "the tokenizer cannot encode" in err


@pytest.mark.parametrize("key, value", [("attention.head_count", 0.0), ("block_count", 1.5),
                                        ("embedding_length", "32"), ("attention.head_count_kv", -1),
                                        ("attention.key_length", True)])
def test_gguf_sizes_are_positive_integers(rng, tmp_path, key, value):
    """A head count of 0.0 was a ZeroDivisionError; int() read 1.5 layers as 1 and the string '32' as 32."""
    path = _gguf(rng, tmp_path, edit=lambda fields, tensors: fields.update({f"llama.{key}": value}))
    with pytest.raises(models.ModelLoadError, match=f"'llama.{key}' must be a positive integer, got {value!r}"):
        models.load_model(path, "cpu")


@pytest.mark.parametrize("key, value, says", [
    ("llama.rope.freq_base", "x", "'llama.rope.freq_base' must be a positive number, got 'x'"),
    ("tokenizer.ggml.eos_token_id", "x", "'eos_token_id' must hold non-negative integer token ids, got 'x'"),
    ("tokenizer.ggml.bos_token_id", -1, "'tokenizer.ggml.bos_token_id' must hold non-negative integer token ids"),
    ("general.architecture", [1.5], r"unknown architecture general.architecture=\[1.5\]")])
def test_gguf_metadata_of_the_wrong_type(rng, tmp_path, key, value, says):
    """float('x') gave 'malformed metadata (ValueError: could not convert string to float: 'x')'; a stop token 'x'
    loaded (int('x') at generation); a list as the architecture was 'unhashable type: list'."""
    path = _gguf(rng, tmp_path, edit=lambda fields, tensors: fields.update({key: value}))
    with pytest.raises(models.ModelLoadError, match=says):
        models.load_model(path, "cpu")


@pytest.mark.parametrize("arch, key", [("llama", "llama.attention.layer_norm_rms_epsilon"),
                                       ("gpt2", "gpt2.attention.layer_norm_epsilon")])
def test_a_gguf_norm_epsilon_that_is_not_positive(rng, tmp_path, arch, key):
    """A NaN epsilon loaded, then generation failed in layer_norm ('eps must be non-negative, got nan')."""
    for value in (float("nan"), -1e-5):
        path = _gguf(rng, tmp_path, arch, edit=lambda fields, tensors: fields.update({key: value}))
        with pytest.raises(models.ModelLoadError, match=f"'{key}' must be a positive number"):
            models.load_model(path, "cpu")


def test_an_odd_head_dim_with_rope(rng, tmp_path):
    """Tensors that agree with head_dim 5: GGUF's q and k row order failed in numpy's reshape, a checkpoint folder
    loaded and its first forward raised view's ShapeMismatchError on the rotation tables."""
    sizes = {**SIZES, "head_dim": 5}
    with pytest.raises(models.ModelLoadError, match="head_dim 5 is odd; RoPE rotates pairs"):
        models.load_model(_gguf(rng, tmp_path, sizes=sizes), "cpu")
    with pytest.raises(models.ModelLoadError, match="head_dim 5 is odd; RoPE rotates pairs"):
        models.load_model(_folder(rng, tmp_path, sizes=sizes), "cpu")


def test_a_quantised_tensor_of_no_rows(rng, tmp_path):
    """A Q8_0 weight kept quantised was cut into rows before its shape was checked: numpy's 'cannot reshape array of
    size 0 into shape (0,newaxis)'."""
    empty = np.zeros((0, 32), np.float32)
    path = _gguf(rng, tmp_path, edit=lambda fields, tensors: tensors.update({"blk.0.attn_v.weight": empty}),
                 qtype=Q.Q8_0)
    with pytest.raises(models.TensorShapeError, match=r"'blk\.0\.attn_v\.weight' has shape \[0, 32\]"):
        models.load_model(path, "cpu", keep_quantized=True)


def test_a_gguf_piece_of_a_million_characters_is_read_in_linear_time(rng, tmp_path):
    """Building sentencepiece merges tried every cut of every piece, each a slice as long as the piece: a million
    characters took about 40 minutes (a hang). The merges are those of the pieces the vocabulary has."""
    def lengthen(fields, tensors):
        fields["tokenizer.ggml.tokens"][-1] = "ab" * 500_000
    path = _gguf(rng, tmp_path, edit=lengthen)
    start = time.perf_counter()
    tokenizer = models.load_tokenizer(path)
    assert time.perf_counter() - start < 10  # about 0.05 s
    assert tokenizer.encode("ab ab", add_special_tokens=False) == tokenizer.encode("ab ab", False)
    merges = json.loads(tokenizer.tokenizer.to_str())["model"]["merges"]
    assert ["a", "b"] in merges and not any("ab" * 500 in "".join(m) for m in merges)


def test_tl_generate_out_of_memory_is_a_message(rng, tmp_path, capsys, monkeypatch):
    """`tl generate --max-tokens 300000000` under a memory limit (head_dim 2: the KV cache fits, the rotation tables
    do not): numpy's MemoryError ('Unable to allocate 2.24 GiB for an array with shape (300000002,)') ended in a
    traceback. Here the tables of a short run (1 + 5 positions) raise it, so that the test allocates nothing large.
    The prompt printed before generating ends its line before the error (attack round 9: it did not)."""
    def tables(config, length):
        raise MemoryError(f"Unable to allocate tables of {length} positions")
    monkeypatch.setattr(rope, "tables", tables)
    folder = _folder(rng, tmp_path)
    assert main(["generate", folder, "--prompt", "w3", "--max-tokens", "5", "--device", "cpu"]) == 1
    out, err = capsys.readouterr()
    assert out == "w3\n" and err == "tl generate: out of memory (Unable to allocate tables of 6 positions)\n"


@pytest.mark.parametrize("bos", ["$A", "$B:1", "a b"])
def test_a_gguf_bos_token_whose_text_reads_as_a_template(rng, tmp_path, bos):
    """The BOS template was built from the BOS's text: "$A" encoded every prompt twice, "$B:1" panicked inside
    tokenizers (a PanicException, not an Exception), "a b" was two unknown specials (a ModelLoadError)."""
    def rename(fields, tensors):
        fields["tokenizer.ggml.tokens"][1] = bos
    plain = models.load_tokenizer(_gguf(rng, tmp_path)).encode("ab a")
    assert plain[0] == 1
    assert models.load_tokenizer(_gguf(rng, tmp_path, edit=rename)).encode("ab a") == plain


def test_a_gguf_vocabulary_unlike_its_embedding(rng, tmp_path):
    def shorten(fields, tensors):
        fields["tokenizer.ggml.tokens"] = fields["tokenizer.ggml.tokens"][:20]
    with pytest.raises(models.ModelLoadError, match="the vocabulary has 20 tokens .*token_embd.weight embeds 24"):
        models.load_model(_gguf(rng, tmp_path, edit=shorten), "cpu")


@pytest.mark.parametrize("edit, says", [
    (lambda data: data[:300], "it ends early, or a count, length or offset in it is out of range"),
    (lambda data: data[:8] + b"\xff" * 7 + b"\x7f" + data[16:], "it ends early, or a count"),
    (lambda data: data[:4] + (7).to_bytes(4, "little") + data[8:], "version 7")])
def test_gguf_reader_errors_are_told_in_the_files_terms(rng, tmp_path, edit, says):
    """Numpy's messages ('index 9 is out of bounds for axis 0 with size 3', 'cannot reshape array of size ...') said
    nothing a user could act on; the reader's own (the version) are kept."""
    path = _gguf(rng, tmp_path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(edit(data))
    with pytest.raises(models.ModelLoadError, match="not a readable GGUF file") as caught:
        models.load_model(path, "cpu")
    assert says in str(caught.value) and "axis" not in str(caught.value) and "array" not in str(caught.value)


def test_gpt2_generation_past_its_learned_positions_is_refused_before_it_starts(rng, tmp_path):
    """A GPT-2 of 4 positions generating from 3 tokens: an IndexError from the embedding after the first tokens had
    streamed out. Four positions hold a prompt of 3 and 2 new tokens (the last one is never fed back)."""
    model, _ = models.load(_folder(rng, tmp_path, "gpt2", {**SIZES, "positions": 4, "head_dim": 16}), "cpu")
    assert len(models.generate(model, [[3, 4, 5]], 2).tokens[0]) == 2
    with pytest.raises(ValueError, match="generate: a prompt of 3 tokens and max_new_tokens=3 make 5; gpt2 has "
                                         "learned positions for 4 tokens"):
        models.generate(model, [[3, 4, 5]], 3)


def test_mistral_generation_past_its_sliding_window_is_refused_before_it_starts(rng, tmp_path):
    def window(cfg, tensors, tokenizer):
        cfg["sliding_window"] = 4
    model, _ = models.load(_folder(rng, tmp_path, "mistral", edit=window), "cpu")
    calls = []
    with pytest.raises(ValueError, match="mistral attends over a sliding window of 4 tokens"):
        models.generate(model, [[3, 4, 5]], 3, callback=lambda row, token: calls.append(token))
    assert calls == []  # before any token streamed



@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
@pytest.mark.parametrize("name", ["config.json", "generation_config.json", "model.safetensors",
                                  "model.safetensors.index.json", "tokenizer.json"])
def test_a_named_pipe_in_a_checkpoint_folder_is_refused_instead_of_waiting_for_a_writer(rng, tmp_path, capsys, name):
    """Found by attack round 9: open() of a FIFO blocks until something writes to it, so a checkpoint folder holding
    one under a name the loaders read hung load() and `tl generate` for ever."""
    folder = _folder(rng, tmp_path)
    fifo = os.path.join(folder, name)
    if os.path.exists(fifo):
        os.remove(fifo)
    os.mkfifo(fifo)
    says = f"{fifo}: not a regular file (a named pipe)"
    with pytest.raises(models.ModelLoadError, match=re.escape(says)):
        models.load(folder, "cpu")
    assert main(["generate", folder, "--prompt", "w3", "--max-tokens", "2", "--device", "cpu"]) == 1
    assert capsys.readouterr().err == f"tl generate: {says}\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_named_pipe_or_folder_given_as_a_model_file_is_refused(tmp_path):
    fifo = str(tmp_path / "model.gguf")
    os.mkfifo(fifo)
    for read in (models.load_tokenizer, models.Tokenizer.from_file):
        with pytest.raises(models.ModelLoadError, match=re.escape(f"{fifo}: not a regular file (a named pipe)")):
            read(fifo)
    with pytest.raises(models.ModelLoadError, match="neither a checkpoint folder .* nor a GGUF file"):
        models.load_model(fifo, "cpu")
    with pytest.raises(models.ModelLoadError, match=re.escape(f"{tmp_path}: not a regular file (a folder)")):
        models.Tokenizer.from_file(tmp_path)


def test_a_gguf_count_past_memory_is_a_load_error(tmp_path):
    """Fuzz case 43 of batch 1381860855: a flipped header byte made a metadata array's count huge, and gguf's reader
    took reads past the end of the file as empty arrays, looping over them until the batches' memory cap ended it
    (a MemoryError, then a SystemError), where the file is malformed."""
    script = ("import sys, fuzz_models, fuzz_ops\n"
              "case, build, run = fuzz_models.make_case(1381860855, 43)\n"
              "path, prompt = build(sys.argv[1])\n"
              "fuzz_ops.limit_memory(256 << 20)\n"
              "try:\n"
              "    run(path, prompt)\n"
              "except fuzz_models.models.ModelLoadError as error:\n"
              "    print(error)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(__file__)),
                                                      os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not a readable GGUF file" in done.stdout
