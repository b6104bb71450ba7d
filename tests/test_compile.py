"""tl.compile: replayed results equal eager's bit for bit; what cannot be captured runs eagerly with a reason;
replay makes no Python op calls; a training loop through the compiled module trains exactly as eager."""
import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import nn
from tensorlogic import compiler
from tensorlogic.autograd.function import Function
import tensorlogic.nn.functional as F

# Modules are built on the default device; the tests that name "cpu" for their inputs need it to be the CPU.
pytestmark = pytest.mark.usefixtures("cpu_default")


class Block(nn.Module):
    """A GPT block in nanoGPT's style: pre-norm causal self-attention and a GELU MLP."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


def _mlp():
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.LayerNorm(32), nn.Linear(32, 5)), (6, 12)


def _block():
    return Block(16, 4), (2, 7, 16)


def _convnet():
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 4, 3), nn.Flatten(), nn.Linear(4 * 2 * 2, 3))
    return net, (2, 3, 8, 8)


def _randn(rng, shape, device):
    return tl.tensor(rng.standard_normal(shape).astype(np.float16), device=device)


def _same(a, b):
    """Bit for bit on the CPU (replay runs the same kernels); elsewhere eager's no-grad path may pick a fused
    kernel where the recorded path does not, so within f16 rounding."""
    if a.device.type == "cpu":
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        np.testing.assert_allclose(a.numpy().astype(np.float32), b.numpy().astype(np.float32), rtol=4e-3, atol=4e-3)


@pytest.mark.parametrize("make", [_mlp, _block, _convnet], ids=["mlp", "block", "convnet"])
def test_compiled_module_equals_eager(make, device, rng):
    tl.manual_seed(int(rng.integers(1 << 31)))
    model, shape = make()
    model = model.to(device).eval()
    compiled = tl.compile(model, backend="aot_eager")  # no fusions: eager's ops, bit for bit (test_compile_fusion)
    with tl.no_grad():
        for _ in range(4):  # capture, then replays, each on fresh inputs
            x = _randn(rng, shape, device)
            y = compiled(x)
            assert not y.requires_grad
            _same(y, model(x))
    assert compiled.eager_reasons == []
    assert len(compiled._compiled.cache) == 1


def test_replay_makes_no_python_op_calls(monkeypatch, rng):
    model, shape = _block()
    model.eval()
    compiled = tl.compile(model, backend="aot_eager")
    x = _randn(rng, shape, "cpu")
    calls = []
    original = Function.apply.__func__

    def counting(cls, *args, **kwargs):
        calls.append(cls.__name__)
        return original(cls, *args, **kwargs)

    with tl.no_grad():
        compiled(x)  # capture
        monkeypatch.setattr(Function, "apply", classmethod(counting))
        model(x)
        assert calls, "the counter sees eager's ops"
        calls.clear()
        y = compiled(x)
    assert calls == []
    monkeypatch.undo()
    with tl.no_grad():
        _same(y, model(x))


def test_decorator_forms_and_functions(rng):
    @tl.compile
    def f(x, y):
        """doc"""
        return tl.tanh(x @ y) + 1

    @tl.compile(mode="reduce-overhead", fullgraph=True)
    def g(x, scale=2.0):
        return F.softmax(x * scale, dim=-1), x.sum(0)

    assert f.__name__ == "f" and f.__doc__ == "doc"
    for _ in range(3):
        x, y = _randn(rng, (3, 4), "cpu"), _randn(rng, (4, 2), "cpu")
        _same(f(x, y), tl.tanh(x @ y) + 1)
        a, b = g(x, scale=0.5)
        _same(a, F.softmax(x * 0.5, dim=-1))
        _same(b, x.sum(0))
    assert f.eager_reasons == [] and g.eager_reasons == []
    assert len(g._compiled.cache) == 1


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_inputs_replay(dtype, rng):
    model = nn.Sequential(nn.Embedding(11, 8), nn.Linear(8, 3)).eval()
    compiled = tl.compile(model)
    with tl.no_grad():
        for _ in range(3):
            idx = tl.tensor(rng.integers(0, 11, (2, 5)).astype(dtype))
            _same(compiled(idx), model(idx))
    assert compiled.eager_reasons == []


def test_new_shapes_capture_again_up_to_the_limit(rng):
    calls = []

    def f(x):
        calls.append(1)
        return x * 3 - 1

    c = tl.compile(f)
    for n in range(1, compiler.RECOMPILE_LIMIT + 1):
        for _ in range(2):
            x = _randn(rng, (n,), "cpu")
            _same(c(x), f(x))
    assert len(c._compiled.cache) == compiler.RECOMPILE_LIMIT
    calls.clear()
    x = _randn(rng, (3,), "cpu")
    y = c(x)
    assert calls == []  # a replay does not run the Python function
    _same(y, f(x))
    with pytest.warns(compiler.CompileWarning, match="recompile limit"):
        x = _randn(rng, (99,), "cpu")
        _same(c(x), f(x))


def test_value_dependent_control_flow_runs_eagerly(rng):
    def f(x):
        return x * 2 if x.sum() > 0 else x - 1

    c = tl.compile(f)
    with pytest.warns(compiler.CompileWarning, match="host"):
        c(_randn(rng, (4,), "cpu"))
    for sign in (1, -1, 1, -1):
        x = tl.tensor(sign * np.abs(rng.standard_normal(4)).astype(np.float16))
        _same(c(x), f(x))
    assert len(c.eager_reasons) == 1


def test_item_runs_eagerly_and_fullgraph_raises(rng):
    calls = []

    def f(x):
        calls.append(1)
        return x * x.mean().item()

    c = tl.compile(f)
    with pytest.warns(compiler.CompileWarning, match=r"\.item\(\)"), tl.no_grad():
        x = _randn(rng, (5,), "cpu")
        y = c(x)
    assert len(calls) == 1  # the capture was the call
    _same(y, f(x))
    x = _randn(rng, (5,), "cpu")
    _same(c(x), f(x))
    with pytest.raises(compiler.CompileError, match="host"):
        tl.compile(f, fullgraph=True)(x)


def test_values_computed_outside_the_recorded_ops_run_eagerly(rng):
    def f(x):  # the mask is computed from x by an op autograd does not record
        return x * (x > 0).to(tl.float16)

    c = tl.compile(f)
    with pytest.warns(compiler.CompileWarning, match="changes with the inputs"):
        c(_randn(rng, (3, 4), "cpu"))
    for _ in range(3):
        x = _randn(rng, (3, 4), "cpu")
        _same(c(x), f(x))


def test_module_wrapper_is_the_module(rng):
    model, _ = _mlp()
    c = tl.compile(model)
    assert c._orig_mod is model
    assert list(c.state_dict()) == list(model.state_dict())
    assert [id(p) for p in c.parameters()] == [id(p) for p in model.parameters()]
    assert c.eval() is c and not model.training
    assert c.train() is c and model.training
    assert c.to("cpu") is c
    assert c[0] is model[0]  # Sequential indexing reaches the module
    assert tl.compile(model, disable=True) is model
    with pytest.raises(RuntimeError, match="mode"):
        tl.compile(model, mode="fastest")
    with pytest.raises(RuntimeError, match="both"):
        tl.compile(model, mode="default", options={})
    with pytest.raises(TypeError, match="fullgraph"):
        tl.compile(model, fullgraph=tl.ones(2))
    with pytest.raises(RuntimeError, match="mode"):
        tl.compile(model, mode=tl.ones(2))
    with pytest.raises(ValueError, match="backend"):
        tl.compile(model, backend="tvm")
    with pytest.raises(TypeError, match="function or an nn.Module"):
        tl.compile(tl.ones(2))


def _train(model, data, steps):
    opt = tl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in data[:steps]:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_training_loop_through_compile_trains_as_eager(rng):
    tl.manual_seed(int(rng.integers(1 << 31)))
    eager, _ = _mlp()
    twin, _ = _mlp()
    twin.load_state_dict(eager.state_dict())
    compiled = tl.compile(twin)
    data = [(_randn(rng, (6, 12), "cpu"), tl.tensor(rng.integers(0, 5, 6).astype(np.int32))) for _ in range(5)]
    probe = _randn(rng, (6, 12), "cpu")
    compiled.eval()
    with tl.no_grad():
        compiled(probe)  # captured before training: its replays must read the trained weights
    compiled.train()
    got = _train(compiled, data, 5)  # captured once more (training mode is another signature), then replayed
    assert got == _train(eager, data, 5)
    assert compiled.eager_reasons == [] and len(compiled._compiled.cache) == 2
    eager.eval()
    compiled.eval()
    with tl.no_grad():
        _same(compiled(probe), eager(probe))
    assert isinstance(compiled._compiled.cache[next(iter(compiled._compiled.cache))], compiler._Program)


def test_state_dict_load_is_seen_by_replay(rng):
    model, shape = _mlp()
    model.eval()
    c = tl.compile(model)
    x = _randn(rng, shape, "cpu")
    with tl.no_grad():
        c(x)
        other, _ = _mlp()
        model.load_state_dict(other.state_dict())
        _same(c(x), model(x))
        model[0].weight = nn.Parameter(tl.zeros(32, 12))  # a new parameter object: captured again
        _same(c(x), model(x))
    assert len(c._compiled.cache) == 2


def test_train_mode_module_runs_eagerly(rng):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    c = tl.compile(model)
    with tl.no_grad(), pytest.warns(compiler.CompileWarning, match="dropout in training mode"):
        c(_randn(rng, (2, 4), "cpu"))


def test_unfrozen_parameters_are_seen(rng):
    model, shape = _mlp()
    model.eval().requires_grad_(False)
    c = tl.compile(model)
    x = _randn(rng, shape, "cpu")
    c(x)
    y = c(x)  # grad enabled, but nothing requires grad: replayed
    assert not y.requires_grad and c.eager_reasons == []
    model.requires_grad_(True)
    y = c(x)  # ops on the parameters alone were not recorded while they were frozen: captured again
    assert y.requires_grad
    y.sum().backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for g, p in zip(grads, model.parameters()):
        _same(g, p.grad)
    assert c.eager_reasons == [] and len(c._compiled.cache) == 1


def test_strides_are_part_of_the_signature(rng):
    def f(x):
        return x.contiguous().view(-1) * 2  # contiguous() records nothing on a contiguous tensor

    c = tl.compile(f)
    for _ in range(2):
        x = _randn(rng, (4, 4), "cpu")
        _same(c(x), f(x))
        _same(c(x.t()), f(x.t()))
    assert len(c._compiled.cache) == 2 and c.eager_reasons == []


class TinyGPT(nn.Module):
    """nanoGPT's inference path: token and position embeddings (an arange made in forward), blocks, the
    logits of the last position only."""

    def __init__(self, vocab=23, d=16):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(8, d)
        self.blocks = nn.ModuleList([Block(d, 2), Block(d, 2)])
        self.head = nn.Linear(d, vocab, bias=False)
        self.wte.weight = self.head.weight

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(tl.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(x[:, [-1], :])


def test_gpt_inference_replays(rng):
    model = TinyGPT().eval()
    c = tl.compile(model, backend="aot_eager")
    with tl.no_grad():
        for _ in range(3):
            idx = tl.tensor(rng.integers(0, 23, (2, 8)).astype(np.int32))
            _same(c(idx), model(idx))
    assert c.eager_reasons == []


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.temperature = 2.0

    def forward(self, x):
        return self.lin(x) / self.temperature


def test_scalar_attributes_are_guarded(rng):
    model = Scaled().eval()
    c = tl.compile(model)
    x = _randn(rng, (3, 4), "cpu")
    with tl.no_grad():
        c(x)
        c(x)
        model.temperature = 0.5
        _same(c(x), model(x))
    assert len(c._compiled.cache) == 2 and c.eager_reasons == []


class DecoratedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(5, 3)

    @tl.compile
    def forward(self, x):
        return tl.relu(self.lin(x))


def test_compiled_forward_method(rng):
    a, b = DecoratedForward().eval(), DecoratedForward().eval()
    with tl.no_grad():
        for _ in range(3):
            x = _randn(rng, (2, 5), "cpu")
            for m in (a, b):  # one cache, a signature per instance
                _same(m(x), tl.relu(m.lin(x)))
    assert DecoratedForward.forward.eager_reasons == []
    assert len(DecoratedForward.forward._compiled.cache) == 2


def test_compiled_forward_method_in_training_replays(rng):
    m = DecoratedForward()  # training mode, parameters require grad
    for _ in range(3):
        x = _randn(rng, (2, 5), "cpu")
        m.zero_grad()
        m(x).sum().backward()
        got = m.lin.weight.grad
        m.zero_grad()
        tl.relu(m.lin(x)).sum().backward()
        _same(got, m.lin.weight.grad)
    assert DecoratedForward.forward.eager_reasons == []


def test_keyword_tensors_list_outputs_and_returned_inputs(rng):
    @tl.compile
    def f(x, *, y, alpha=1.0):
        return [x + y * alpha, x, None]

    for _ in range(3):
        x, y = _randn(rng, (3,), "cpu"), _randn(rng, (3,), "cpu")
        out = f(x, y=y, alpha=0.5)
        assert isinstance(out, list) and out[1] is x and out[2] is None
        _same(out[0], x + y * 0.5)
        assert not out[0].requires_grad
    assert f.eager_reasons == [] and len(f._compiled.cache) == 1
