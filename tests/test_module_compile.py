"""nn.Module.compile (torch's): the module's call, hooks included, compiled in place with tl.compile; the module stays
itself, and its outputs and gradients are PyTorch's."""
import copy
import pickle

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn
from tensorlogic.autograd.function import Function

pytestmark = pytest.mark.usefixtures("cpu_default")


def _pair(rng):
    """A TensorLogic MLP and a float32 PyTorch copy with the same f16-rounded weights."""
    ours = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    for name, p in ours.named_parameters():
        value = rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float16)
        with tl.no_grad():
            p.copy_(tl.tensor(value))
        theirs.get_parameter(name).data = torch.tensor(value.astype(np.float32))
    return ours, theirs


def _inputs(rng):
    return rng.standard_normal((5, 6)).astype(np.float16)


def _close(ours, theirs):
    np.testing.assert_allclose(ours.detach().numpy().astype(np.float32), theirs.detach().numpy(), rtol=2e-2,
                               atol=2e-2)


def test_compile_in_place_keeps_the_module_and_matches_torch(rng):
    ours, theirs = _pair(rng)
    keys = list(ours.state_dict())
    assert ours.compile(backend="aot_eager") is None
    assert type(ours) is nn.Sequential and list(ours.state_dict()) == keys  # torch's compile() keeps both too
    ours.eval()
    with tl.no_grad():
        for _ in range(3):  # capture, then replays on fresh inputs
            x = _inputs(rng)
            _close(ours(tl.tensor(x)), theirs(torch.tensor(x.astype(np.float32))))
    assert ours._compiled_call_impl.func.eager_reasons == []


def test_compiled_call_replays_without_python_ops(monkeypatch, rng):
    ours, _ = _pair(rng)
    ours.eval().compile(backend="aot_eager")
    x = tl.tensor(_inputs(rng))
    calls = []
    original = Function.apply.__func__

    def counting(cls, *args, **kwargs):
        calls.append(cls.__name__)
        return original(cls, *args, **kwargs)

    with tl.no_grad():
        ours(x)  # capture
        expected = ours._call_impl(x)  # the uncompiled call, as eager
        monkeypatch.setattr(Function, "apply", classmethod(counting))
        got = ours(x)
    monkeypatch.undo()
    assert calls == []
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_training_gradients_and_hooks_match_torch(rng):
    ours, theirs = _pair(rng)
    for model in (ours, theirs):  # a forward hook that changes the output runs inside the compiled call
        model.register_forward_hook(lambda module, args, output: output * 2)
    ours.compile()
    for _ in range(3):
        x = _inputs(rng)
        ours.zero_grad()
        theirs.zero_grad()
        out, expected = ours(tl.tensor(x)), theirs(torch.tensor(x.astype(np.float32)))
        _close(out, expected)
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        for name, p in ours.named_parameters():
            _close(p.grad, theirs.get_parameter(name).grad)


def test_compile_arguments_are_torch_compiles(rng):
    ours, _ = _pair(rng)
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        ours.compile(mode="fastest")
    with pytest.raises(TypeError):
        ours.compile(True)  # torch.compile's options are keyword-only
    ours.compile(fullgraph=True)
    with pytest.raises(tl.compiler.CompileError, match="fullgraph"):
        ours([tl.tensor(_inputs(rng))])  # a list argument cannot be captured
    ours.compile(disable=True)  # a new compile() replaces the last: this one runs the module as it is
    x = tl.tensor(_inputs(rng))
    np.testing.assert_array_equal(ours(x).detach().numpy(), ours._call_impl(x).detach().numpy())


def test_copies_run_uncompiled_as_torchs(rng):
    """torch.nn.Module.__getstate__ drops _compiled_call_impl (importing torch's compiler here would cost seconds)."""
    ours, _ = _pair(rng)
    ours.eval().compile(backend="aot_eager")
    x = tl.tensor(_inputs(rng))
    with tl.no_grad():
        expected = ours(x).numpy()
        for clone in (pickle.loads(pickle.dumps(ours)), copy.deepcopy(ours)):
            assert "_compiled_call_impl" not in vars(clone) and "_compiled_call_impl" in vars(ours)
            np.testing.assert_array_equal(clone(x).numpy(), expected)
