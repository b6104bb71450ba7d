"""Checkpoint variants (sharded with an index, bfloat16, float32) and the typed errors of loading: unknown
architecture, missing tensor, wrong shape, unsupported RoPE scaling, a path that is no checkpoint."""
import json
import os
import secrets

import pytest
import tiny
from tiny import torch
from safetensors.numpy import load_file, save_file

import tensorlogic as tl
from tensorlogic import models
from test_hf_models import assert_logits_close, run


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama")
    return str(folder), tiny.build("llama", secrets.randbits(31), folder)


def _edit_config(folder, **changes):
    path = f"{folder}/config.json"
    with open(path) as f:
        cfg = json.load(f)
    cfg.update(changes)
    with open(path, "w") as f:
        json.dump(cfg, f)


def test_sharded_float32_and_bfloat16_checkpoints(tmp_path, device, rng):
    ref = tiny.build("qwen2", secrets.randbits(31))
    ids = rng.integers(3, 96, (1, 8))
    ref.save_pretrained(tmp_path / "f32", max_shard_size="40KB")  # several files and an index json
    assert (tmp_path / "f32" / "model.safetensors.index.json").exists()
    assert_logits_close(run(models.load_model(tmp_path / "f32", device), ids), tiny.reference_logits(ref, ids))
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(p.bfloat16().float())  # the weights a bfloat16 checkpoint holds
    ref.bfloat16().save_pretrained(tmp_path / "bf16")
    ref.float()
    assert_logits_close(run(models.load_model(tmp_path / "bf16", device), ids), tiny.reference_logits(ref, ids))


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads Linux's table of mappings")
def test_f16_weights_are_mapped_not_copied(llama):
    model = models.load_model(llama[0], "cpu")
    path = os.path.realpath(f"{llama[0]}/model.safetensors")
    with open("/proc/self/maps") as f:
        ranges = [[int(a, 16) for a in line.split()[0].split("-")] for line in f if line.rstrip().endswith(path)]
    for t in (model.embed, model.layers[1].down_weight, model.norm_weight):  # the file's pages are the tensors
        assert any(lo <= t.data_ptr() < hi for lo, hi in ranges)
    assert not any(lo <= model.layers[0].qkv_weight.data_ptr() < hi for lo, hi in ranges)  # q, k, v concatenated


def test_unknown_architecture(llama, tmp_path):
    folder = tmp_path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    with pytest.raises(models.UnknownArchitectureError, match="bert"):
        models.load_model(folder)
    with pytest.raises(ValueError):
        models.load_model(folder)


def test_missing_tensor_names_it(llama, tmp_path):
    tensors = load_file(f"{llama[0]}/model.safetensors")
    del tensors["model.layers.1.mlp.up_proj.weight"]
    save_file(tensors, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(open(f"{llama[0]}/config.json").read())
    with pytest.raises(models.MissingTensorError, match=r"model\.layers\.1\.mlp\.up_proj\.weight"):
        models.load_model(tmp_path)


def test_wrong_shape_names_tensor_and_shapes(llama, tmp_path):
    tensors = load_file(f"{llama[0]}/model.safetensors")
    save_file(tensors, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(open(f"{llama[0]}/config.json").read())
    _edit_config(tmp_path, intermediate_size=80)
    shapes = r"model\.layers\.0\.mlp\.up_proj\.weight' has shape \[96, 64\].*\[80, 64\]"
    with pytest.raises(models.TensorShapeError, match=shapes):
        models.load_model(tmp_path)
    with pytest.raises(tl.ShapeMismatchError):
        models.load_model(tmp_path)


def test_unsupported_rope_scaling(llama, tmp_path):
    (tmp_path / "config.json").write_text(open(f"{llama[0]}/config.json").read())
    save_file(load_file(f"{llama[0]}/model.safetensors"), str(tmp_path / "model.safetensors"))
    _edit_config(tmp_path, rope_parameters={"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0})
    with pytest.raises(models.UnknownArchitectureError, match="yarn"):
        models.load_model(tmp_path)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(models.ModelLoadError, match="no config.json"):
        models.load_model(tmp_path)
    with pytest.raises(models.ModelLoadError, match="neither"):
        models.load_model(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError):
        models.load_model(tmp_path / "absent")


def _copy(llama, folder):
    (folder / "config.json").write_text(open(f"{llama[0]}/config.json").read())
    save_file(load_file(f"{llama[0]}/model.safetensors"), str(folder / "model.safetensors"))


@pytest.mark.parametrize("key, value, says", [
    ("hidden_size", "64", "'hidden_size' must be a positive integer"), ("num_hidden_layers", -1, "positive integer"),
    ("num_attention_heads", 2.5, "positive integer"), ("rms_norm_eps", None, "'rms_norm_eps' must be a positive"),
    ("rope_parameters", {"rope_type": "default", "rope_theta": float("nan")}, "'rope_theta' must be a positive"),
    ("rope_parameters", [1], "'rope_parameters' must be an object"),
    # found by attack round 4: a factor of 0 or NaN gave NaN rotation tables (every token 0), a missing key a KeyError
    ("rope_parameters", {"rope_type": "linear", "factor": 0, "rope_theta": 1e4}, "'factor' must be a positive"),
    ("rope_parameters", {"rope_type": "linear", "factor": float("nan"), "rope_theta": 1e4}, "'factor' must be a"),
    ("rope_parameters", {"rope_type": "llama3", "rope_theta": 1e4}, "llama3 RoPE scaling needs 'factor'"),
    ("rope_parameters", {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 16, "rope_theta": 1e4}, "high_freq_factor >"),
    ("eos_token_id", [1, "x"], "token ids"), ("model_type", {"a": 1}, "unknown architecture"),
    ("num_key_value_heads", 3, "do not divide"),
    ("num_hidden_layers", 2**62, "4611686018427387904 layers, but the checkpoint holds only")])
def test_hostile_config_values_are_typed_errors_naming_the_key(llama, tmp_path, key, value, says):
    """Found by mutating config.json: TypeErrors from inside the loader ("'int' object is not iterable"), and 2^62
    layers read as a recipe of that many layers (a hang)."""
    _copy(llama, tmp_path)
    _edit_config(tmp_path, **{key: value})
    with pytest.raises(models.ModelLoadError, match=says.replace("(", r"\(")):
        models.load_model(tmp_path)


def test_malformed_files_are_typed_errors(llama, tmp_path):
    """A truncated GGUF whose counts point past its end (numpy's IndexError from the gguf reader), a safetensors
    header entry without offsets, and a generation_config.json that is not JSON."""
    gguf = tmp_path / "evil.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 7 + b"\x7f" + b"\x00" * 8)
    with pytest.raises(models.ModelLoadError, match="not a readable GGUF file"):
        models.load_model(gguf)
    _copy(llama, tmp_path)
    raw = open(tmp_path / "model.safetensors", "rb").read()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"] = [0, 10**12]
    text = json.dumps(header).encode()
    (tmp_path / "model.safetensors").write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + size:])
    with pytest.raises(models.ModelLoadError, match="malformed header entry"):
        models.load_model(tmp_path)
    _copy(llama, tmp_path)
    (tmp_path / "generation_config.json").write_text("{not json")
    with pytest.raises(models.ModelLoadError, match="not valid JSON"):
        models.load_model(tmp_path)
