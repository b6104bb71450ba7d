"""The placement planner's decisions (tensorlogic/planner.py), on any OS: the shape rules, the models it
builds for accepted shapes (specs checked with coremltools), the reasons it gives for Metal, and how
stats() reports them next to the native ane backend's call counts (faked here; on a Mac the macOS workflow
exercises the real ones in test_metal_device.py)."""
import json
import os

import pytest

import tensorlogic as tl
from tensorlogic import planner


@pytest.fixture(autouse=True)
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_COREML_CACHE", str(tmp_path))
    monkeypatch.setattr(planner, "_planned", {})


def conv(n=1, c=64, h=56, w=56, o=64, k=3, stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=True):
    return {"n": n, "in_shape": [c, h, w], "weight_shape": [o, c // groups, k, k], "stride": list(stride),
            "padding": list(padding), "dilation": list(dilation), "groups": groups, "bias": bias}


def matmul(m, k, n, batch=1):
    return {"batch": batch, "m": m, "k": k, "n": n}


def linear(m, k, n, batch=1, bias=True, activation="relu", residual=False):
    return {"batch": batch, "m": m, "in_features": k, "out_features": n, "bias": bias, "activation": activation,
            "residual": residual}


@pytest.mark.parametrize("op,shape,device,reason", [
    ("matmul", matmul(512, 512, 512), "ane", None),
    ("matmul", matmul(64, 64, 64), "metal", "too small"),
    ("matmul", matmul(512, 512, 512, batch=4), "metal", "batched"),
    ("matmul", matmul(20000, 128, 128), "metal", "above 16384"),
    ("linear", linear(256, 1024, 1024), "ane", None),
    ("linear", linear(2, 32, 16), "metal", "too small"),
    ("linear", linear(256, 1024, 1024, batch=3), "metal", "batched"),
    ("conv2d", conv(), "ane", None),
    ("conv2d", conv(n=8, c=32, o=64, groups=4), "ane", None),
    ("conv2d", conv(c=3, h=8, w=8, o=4), "metal", "too small"),
    ("conv2d", conv(dilation=(2, 2)), "metal", "dilat"),
    ("conv2d", conv(c=1, h=20000, w=8, o=64, k=1, padding=(0, 0)), "metal", "above 16384"),
])
def test_decide(op, shape, device, reason):
    d = planner.decide(op, shape)
    assert (d.op, d.shape, d.device, d.model) == (op, shape, device, None)
    assert (d.reason is None) if reason is None else (reason in d.reason)
    assert planner.stats()["decisions"] == []  # deciding records nothing


def test_decide_rejects_ops_it_does_not_place():
    with pytest.raises(ValueError, match="softmax"):
        planner.decide("softmax", {"shape": [3]})


def test_the_work_threshold_counts_output_pixels():
    # the same weights on a larger image cross the threshold: stride and padding enter the output size
    small = conv(c=16, h=16, w=16, o=16, stride=(2, 2), padding=(0, 0))
    assert planner.decide("conv2d", small).device == "metal"
    assert planner.decide("conv2d", dict(small, in_shape=[16, 64, 64])).device == "ane"


def spec_of(path):
    ct = pytest.importorskip("coremltools")
    return ct.models.MLModel(path, skip_model_load=True).get_spec()


def test_plan_builds_the_conv2d_model_the_ane_backend_feeds():
    pytest.importorskip("coremltools")
    shape = conv(n=2, c=32, h=28, w=28, o=48, stride=(2, 1), padding=(1, 0), groups=2)
    d = planner.plan("conv2d", shape)
    assert d.device == "ane" and d.reason is None and os.path.isdir(d.model)
    spec = spec_of(d.model)
    inputs = {f.name: list(f.type.multiArrayType.shape) for f in spec.description.input}
    assert inputs == {"x": [2, 32, 28, 28], "w": [48, 16, 3, 3], "b": [48]}  # what objc/ane_backend.mm binds
    assert [f.name for f in spec.description.output] == ["out"]
    function = spec.mlProgram.functions["main"]
    ops = [op.type for op in function.block_specializations[function.opset].operations if op.type != "const"]
    assert ops == ["conv", "reshape", "add", "identity"]
    assert spec.description.metadata.userDefined["tensorlogic.op"] == "conv2d"
    assert planner.plan("conv2d", shape).model == d.model  # cached on disk, not built again


def test_plan_builds_gemm_models_without_bias_inputs_it_was_not_given():
    pytest.importorskip("coremltools")
    d = planner.plan("linear", linear(256, 512, 1024, bias=False, activation="gelu"))
    inputs = {f.name for f in spec_of(d.model).description.input}
    assert d.device == "ane" and inputs == {"x", "w"}
    d = planner.plan("matmul", matmul(256, 512, 1024))
    assert {f.name for f in spec_of(d.model).description.input} == {"a", "b"}


def test_plan_without_coremltools_falls_back_with_the_reason(monkeypatch):
    def missing(op, **attrs):
        raise ImportError("no coremltools")

    monkeypatch.setattr(planner.coreml, "build", missing)
    d = planner.plan("conv2d", conv())
    assert d.device == "metal" and "coremltools is not installed" in d.reason and d.model is None
    assert planner.plan("matmul", matmul(8, 8, 8)).reason == "too small to pay for a Core ML call"  # never built


def test_plan_that_cannot_build_names_the_builders_reason(monkeypatch):
    def refuses(op, **attrs):
        raise ValueError("coreml.conv2d: something the builder cannot take")

    monkeypatch.setattr(planner.coreml, "build", refuses)
    d = planner.plan("conv2d", conv())
    assert d.device == "metal" and "something the builder cannot take" in d.reason


def test_the_native_question_and_answer(monkeypatch):
    monkeypatch.setattr(planner.coreml, "build", lambda op, **attrs: f"/models/{op}.mlpackage")
    assert planner._plan_native("conv2d", json.dumps(conv())) == ("/models/conv2d.mlpackage", "")
    assert planner._plan_native("matmul", json.dumps(matmul(4, 4, 4))) == ("", "too small to pay for a Core ML call")


def test_stats_reports_every_decision_with_the_native_counts(monkeypatch):
    monkeypatch.setattr(planner.coreml, "build", lambda op, **attrs: f"/models/{op}.mlpackage")
    big, small, dilated, unused = matmul(512, 512, 512), matmul(4, 4, 4), conv(dilation=(2, 2)), conv()
    for op, shape in (("matmul", big), ("matmul", small), ("conv2d", dilated), ("conv2d", unused)):
        planner.plan(op, shape)
    native = [
        # the shapes as the native side writes them: other key order and spacing
        {"op": "matmul", "shape": '{"batch": 1, "m": 512, "k": 512, "n": 512}', "device": "ane", "reason": "",
         "calls": 7},
        {"op": "matmul", "shape": '{"batch": 1, "m": 512, "k": 512, "n": 512}', "device": "metal",
         "reason": "the left operand's rows are not contiguous", "calls": 2},
        {"op": "matmul", "shape": json.dumps(small), "device": "metal", "reason": "too small to pay for a Core ML call",
         "calls": 5},
        {"op": "conv2d", "shape": json.dumps(dilated), "device": "metal", "reason": planner.decide("conv2d", dilated).reason,
         "calls": 1},
    ]
    monkeypatch.setattr(planner, "_native_decisions", lambda: native)
    stats = planner.stats()
    got = {(d["op"], json.dumps(d["shape"], sort_keys=True), d["device"], d["reason"]): (d["calls"], d["model"])
           for d in stats["decisions"]}
    key = lambda shape: json.dumps(shape, sort_keys=True)  # noqa: E731
    assert got == {
        ("matmul", key(big), "ane", None): (7, "/models/matmul.mlpackage"),
        ("matmul", key(big), "metal", "the left operand's rows are not contiguous"): (2, None),
        ("matmul", key(small), "metal", "too small to pay for a Core ML call"): (5, None),
        ("conv2d", key(dilated), "metal", planner.decide("conv2d", dilated).reason): (1, None),
        ("conv2d", key(unused), "ane", None): (0, "/models/conv2d.mlpackage"),  # planned, not yet run
    }
    assert stats["calls"] == {"ane": 7, "metal": 8}
    assert stats["fallbacks"] == {"the left operand's rows are not contiguous": 2,
                                  "too small to pay for a Core ML call": 5,
                                  planner.decide("conv2d", dilated).reason: 1}
    assert stats["devices"] == tl.available_devices()
