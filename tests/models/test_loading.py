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
