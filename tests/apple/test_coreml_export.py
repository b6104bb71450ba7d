"""tl.coreml.export of plain functions and modules through the tracer: the written ML programs' specs (ops,
fp16 inputs and outputs, shapes, constants) on any OS; prediction against the engine on macOS only."""
import os
import sys

import numpy as np
import pytest

ct = pytest.importorskip("coremltools")
import tensorlogic as tl  # noqa: E402
import tensorlogic.nn.functional as F  # noqa: E402
from tensorlogic import coreml  # noqa: E402

FLOAT16 = ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT16


@pytest.fixture
def rng():
    return np.random.default_rng(int.from_bytes(os.urandom(4), "little"))


def t(rng, *shape, scale=1.0):
    return tl.tensor((rng.standard_normal(shape) * scale).astype(np.float16))


def export(tmp_path, fn, *examples):
    path = coreml.export(fn, examples, tmp_path / "m.mlpackage")
    assert path == str(tmp_path / "m.mlpackage") and os.path.isdir(path)
    return ct.models.MLModel(path, skip_model_load=True).get_spec(), path


def operations(spec):
    function = spec.mlProgram.functions["main"]
    return list(function.block_specializations[function.opset].operations)


def ops_of(spec):
    return [op.type for op in operations(spec) if op.type != "const"]


def io(spec):
    def one(f):
        assert f.type.multiArrayType.dataType == FLOAT16
        return list(f.type.multiArrayType.shape)
    return {f.name: one(f) for f in spec.description.input}, {f.name: one(f) for f in spec.description.output}


def constants(spec):
    """Shapes of the fp16 tensor constants (weights) the program holds."""
    out = []
    for op in operations(spec):
        tensor_type = op.attributes["val"].type.tensorType if op.type == "const" else None
        if tensor_type is not None and tensor_type.dataType == ct.proto.MIL_pb2.DataType.FLOAT16 and tensor_type.rank:
            out.append([d.constant.size for d in tensor_type.dimensions])
    return out


def predict_on_macos(path, fn, examples):
    if sys.platform != "darwin":
        return
    names = ["x"] if len(examples) == 1 else [f"x{i}" for i in range(len(examples))]
    got = ct.models.MLModel(path).predict({n: x.numpy() for n, x in zip(names, examples)})["out"]
    np.testing.assert_allclose(got.astype(np.float32), fn(*examples).detach().numpy().astype(np.float32),
                               rtol=2e-2, atol=2e-2)


def test_function_of_two_inputs(tmp_path, rng):
    def fn(a, b):
        return tl.softmax(a @ b.T * 0.5, -1).sum(0, keepdim=True) + tl.relu(a).mean()

    a, b = t(rng, 4, 6), t(rng, 5, 6)
    spec, path = export(tmp_path, fn, a, b)
    inputs, outputs = io(spec)
    assert inputs == {"x0": [4, 6], "x1": [5, 6]} and outputs == {"out": [1, 5]}
    assert spec.specificationVersion == 7 and spec.description.metadata.userDefined["tensorlogic.op"] == "export"
    ops = ops_of(spec)
    assert ops[-1] == "identity" and ops.count("matmul") == 1
    assert {"softmax", "reduce_sum", "relu", "reduce_mean", "add"} <= set(ops)
    predict_on_macos(path, fn, [a, b])


def test_captured_tensors_and_module_parameters_become_constants(tmp_path, rng):
    w, bias = t(rng, 16, 3, 3, 3, scale=0.3), t(rng, 16)
    head = tl.nn.Linear(16 * 4 * 4, 10)

    def cnn(x):
        y = F.relu(F.conv2d(x, w, bias, stride=1, padding=1))
        y = F.max_pool2d(y, 2)
        return head(y.flatten(1))

    x = t(rng, 2, 3, 8, 8)
    spec, path = export(tmp_path, cnn, x)
    assert io(spec) == ({"x": [2, 3, 8, 8]}, {"out": [2, 10]})
    assert ops_of(spec) == ["conv", "relu", "max_pool", "reshape", "linear", "identity"]
    assert sorted(constants(spec)) == sorted([[16, 3, 3, 3], [16], [10, 256], [10]])  # the bias folded into conv
    predict_on_macos(path, cnn, [x])


def test_elementwise_rows_and_shapes(tmp_path, rng):
    g = t(rng, 8)
    keep = tl.tensor(rng.uniform(size=(2, 3, 8)) < 0.5)  # a captured bool mask: a constant

    def fn(x, y):
        z = tl.where(keep, tl.exp(x), tl.sigmoid(y) * 2 - 1)
        z = tl.cat([z, x.permute(0, 2, 1).reshape(2, 3, 8)], 1)
        z = F.layer_norm(z, (8,), g, None, 1e-5) + tl.clamp(y, -1, 1).mean(1, keepdim=True).expand(2, 3, 8).sum(1, True)
        return tl.log_softmax(F.gelu(z, approximate="tanh"), -1) / 3.0

    x, y = t(rng, 2, 3, 8), t(rng, 2, 3, 8)
    spec, path = export(tmp_path, fn, x, y)
    assert io(spec) == ({"x0": [2, 3, 8], "x1": [2, 3, 8]}, {"out": [2, 6, 8]})
    ops = ops_of(spec)
    for op in ("select", "exp", "sigmoid", "concat", "layer_norm", "clip", "tile", "gelu",
               "reduce_log_sum_exp"):
        assert op in ops, (op, ops)
    predict_on_macos(path, fn, [x, y])


def test_in_place_ops_keep_their_place_in_the_graph(tmp_path, rng):
    def fn(x):
        y = x * 2
        y.add_(1)
        return y.relu()

    spec, _ = export(tmp_path, fn, t(rng, 3, 5))
    assert ops_of(spec) == ["mul", "add", "relu", "identity"]


def test_identity_and_eval_mode(tmp_path, rng):
    spec, _ = export(tmp_path, lambda x: x, t(rng, 2, 2))
    assert ops_of(spec) == ["identity"]
    model = tl.nn.Sequential(tl.nn.Linear(4, 4), tl.nn.Dropout(0.5))
    model[1].eval()  # a submodule in its own mode stays so
    model.train()
    model[1].training = False
    spec, _ = export(tmp_path, model, t(rng, 3, 4))
    assert ops_of(spec) == ["linear", "identity"]  # dropout is the identity at inference
    assert model.training and model[0].training and not model[1].training


def test_unsupported_op_is_named_and_nothing_is_written(tmp_path, rng):
    x = t(rng, 3, 4)
    with pytest.raises(coreml.UnsupportedOpError, match="einsum") as info:
        coreml.export(lambda a: tl.einsum("ij,kj->ik", a, a), (x,), tmp_path / "e.mlpackage")
    assert info.value.op == "einsum" and isinstance(info.value, TypeError)
    with pytest.raises(coreml.UnsupportedOpError, match="remainder"):
        coreml.export(lambda a: a % 2.0, (x,), tmp_path / "r.mlpackage")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fn,match", [
    (lambda x: x * float(x.max().item()), "outside the recorded ops"),
    (lambda x: x + x.argmax(-1, keepdim=True), "int64"),
    (lambda x: tl.ones(3), "does not depend on the inputs"),
    (lambda x: tl.where(x > 0, x, 0.0), "outside the recorded ops"),  # comparison masks are not recorded
    (lambda x: (x, x), "one Tensor"),
])
def test_functions_that_cannot_be_traced(tmp_path, rng, fn, match):
    with pytest.raises(coreml.TraceError, match=match):
        coreml.export(fn, t(rng, 3, 4), tmp_path / "f.mlpackage")
    assert os.listdir(tmp_path) == []


def test_a_mask_the_example_fills_uniformly_is_still_found(tmp_path, rng):
    """An all-positive example (and its redraw of the same mean and spread) gives `x > 0` an all-true mask both
    times: the negated trace must still see that the mask depends on the inputs (it exported an identity)."""
    positive = tl.tensor((np.abs(rng.standard_normal((3, 4))) + 4.0).astype(np.float16))
    with pytest.raises(coreml.TraceError, match="outside the recorded ops"):
        coreml.export(lambda x: tl.where(x > 0, x, 0.0), (positive,), tmp_path / "p.mlpackage")
    assert os.listdir(tmp_path) == []


def test_examples_must_be_float16_tensors(tmp_path):
    with pytest.raises(coreml.TraceError, match="float16"):
        coreml.export(lambda x: x, (tl.zeros(3, dtype=tl.int32),), tmp_path / "i.mlpackage")
    with pytest.raises(TypeError, match="function"):
        coreml.export(42, (tl.zeros(3),), tmp_path / "n.mlpackage")


W4 = np.random.default_rng(7).standard_normal((4, 4)).astype(np.float16)


@pytest.mark.parametrize("fn,expected", [
    (lambda x: tl.rms_norm(x, (4,), tl.tensor(W4[0]), 1e-5), {"reduce_mean", "rsqrt", "mul"}),
    (lambda x: F.layer_norm(x * 1, (4,)), {"layer_norm"}),
    (lambda x: F.layer_norm(x, (4,), x.sum(0) * 0.1, x.mean(0)), {"layer_norm", "mul", "add"}),  # traced affine
    (lambda x: F.linear(x, tl.tensor(W4), x.mean(0)), {"matmul", "add"}),  # a traced bias
    (lambda x: tl.stack([x, x.unsqueeze(0).squeeze(0)], 1).sum((0, 2)), {"stack", "reduce_sum"}),
    (lambda x: F.softplus(x) + tl.square(x) - tl.abs(x).sqrt() * tl.rsqrt(x * x + 1), {"softplus", "sqrt", "rsqrt"}),
    (lambda x: tl.maximum(x, tl.tensor(W4)).abs() ** 1.7 + tl.fused.affine(x, 2.0, 1.0), {"maximum", "pow"}),
    (lambda x: tl.fused.add_relu(x, x.T) + tl.fused.mul_relu(x, x), {"relu"}),
    (lambda x: F.linear(x, x, None), {"matmul"}),  # a traced weight: matmul, not a constant-weight linear
    (lambda x: tl.fused.linear_act(x, tl.tensor(W4), None, activation="silu"), {"linear", "silu"}),
    (lambda x: (x.amax(1) - x.amin(0)).logsumexp(0, keepdim=True) + x.prod(), {"reduce_max", "reduce_min",
                                                                               "reduce_log_sum_exp", "reduce_prod"}),
    (lambda x: x.contiguous().clone().exp().log().sin().cos().tanh().sigmoid().floor().ceil().round().sign(),
     {"exp", "log", "sin", "cos", "tanh", "sigmoid", "floor", "ceil", "round", "sign"}),
    (lambda x: F.avg_pool2d(x.reshape(1, 1, 4, 4), 2, count_include_pad=False, padding=1), {"avg_pool"}),
    (lambda x: F.conv2d(x.reshape(1, 1, 4, 4), tl.tensor(W4[:2, :2].reshape(1, 1, 2, 2)), None, dilation=2), {"conv"}),
    (lambda x: tl.reciprocal(x * x + 1) - x.neg(), {"inverse"}),
])
def test_every_lowering_family_builds(tmp_path, rng, fn, expected):
    spec, _ = export(tmp_path, fn, t(rng, 4, 4))
    ops = set(ops_of(spec))
    assert expected <= ops, (expected - ops, ops)
    assert io(spec)[1]["out"]  # an fp16 output with a shape
