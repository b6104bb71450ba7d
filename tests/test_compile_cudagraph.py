"""tl.compile(mode="reduce-overhead") on CUDA: inference replays launch one CUDA graph, with outputs equal to
the plain replay's bit for bit (the same kernels) and to eager's; outputs are copies (a later call does not
overwrite an earlier result); training replays launch a forward and a backward graph, with eager's losses,
gradients and parameters over AdamW steps; what cannot be a graph replays without one and says why. Skipped
without CUDA."""
import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import nn
from tensorlogic.cudagraph_replay import GraphReplay
from test_compile import Block, TinyGPT, _same

pytestmark = [pytest.mark.skipif("cuda" not in tl.available_devices(), reason="needs a CUDA device"),
              pytest.mark.usefixtures("cuda_default")]


@pytest.fixture
def cuda_default():
    """Modules and the tensors their forwards make (TinyGPT's arange) on the GPU."""
    previous = tl.get_default_device()
    tl.set_default_device("cuda")
    yield
    tl.set_default_device(previous)


class SliceGPT(TinyGPT):
    """TinyGPT with the last position taken by a slice: its list index (x[:, [-1], :]) copies the index to the
    device at every call, which a graph cannot capture (see test_list_index_replays_without_a_graph)."""

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(tl.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(x[:, -1:, :])


def _graph_of(compiled):
    (prog,) = compiled._compiled.cache.values()
    return prog.graph


@pytest.mark.parametrize("make, shape, ints", [(SliceGPT, (1, 8), True), (lambda: Block(16, 4), (1, 7, 16), False),
                                               (lambda: nn.Sequential(nn.Linear(12, 32), nn.GELU(),
                                                                      nn.Linear(32, 5)), (1, 12), False)],
                         ids=["gpt", "block", "mlp"])
def test_graph_replay_equals_plain_replay_and_eager(make, shape, ints, rng):
    tl.manual_seed(int(rng.integers(1 << 31)))
    model = make().to("cuda").eval()
    graphed, plain = tl.compile(model, mode="reduce-overhead"), tl.compile(model)
    results = []
    with tl.no_grad():
        for _ in range(5):  # capture, the graph's warm-up and capture, then launches
            if ints:
                x = tl.tensor(rng.integers(0, 23, shape).astype(np.int32), device="cuda")
            else:
                x = tl.tensor(rng.standard_normal(shape).astype(np.float16), device="cuda")
            y = graphed(x)
            np.testing.assert_array_equal(y.cpu().numpy(), plain(x).cpu().numpy())
            _same(y, model(x))
            results.append((x, y.cpu().numpy(), y))
    assert graphed.eager_reasons == [] and graphed.cudagraph_reasons == []
    assert isinstance(_graph_of(graphed), GraphReplay)
    for x, first, y in results:  # each call's result is its own copy, not the graph's static output
        np.testing.assert_array_equal(y.cpu().numpy(), first)


def test_tuple_outputs_and_returned_inputs(rng):
    @tl.compile(mode="reduce-overhead")
    def f(x, w):
        return tl.tanh(x @ w), x, None

    for _ in range(4):
        x = tl.tensor(rng.standard_normal((3, 4)).astype(np.float16), device="cuda")
        w = tl.tensor(rng.standard_normal((4, 2)).astype(np.float16), device="cuda")
        a, b, c = f(x, w)
        _same(a, tl.tanh(x @ w))
        assert b is x and c is None
    assert f.cudagraph_reasons == [] and isinstance(_graph_of(f), GraphReplay)


def test_non_contiguous_input_replays_without_a_graph(rng):
    @tl.compile(mode="reduce-overhead")
    def f(x):
        return x * 2 + 1

    with pytest.warns(tl.compiler.CompileWarning, match="without a CUDA graph"):
        for _ in range(3):
            x = tl.tensor(rng.standard_normal((4, 5)).astype(np.float16), device="cuda").t()
            _same(f(x), x * 2 + 1)
    assert "strides" in f.cudagraph_reasons[0] and _graph_of(f) is None


def _twin_steps(make, batch, steps, rng):
    """(eager model, compiled twin): the same weights, trained side by side with AdamW; losses, gradients (inputs'
    too) and parameters equal bit for bit at every step."""
    eager, twin = make().to("cuda"), make().to("cuda")
    twin.load_state_dict(eager.state_dict())
    compiled = tl.compile(twin, backend="cudagraphs")  # graphs without fusions: eager's bits
    opts = [tl.optim.AdamW(m.parameters(), lr=1e-2) for m in (eager, twin)]
    for step in range(steps):
        inputs = batch()
        got = []
        for model, opt in ((eager, opts[0]), (compiled, opts[1])):
            xs = [x.detach().clone() for x in inputs]
            for x, x0 in zip(xs, inputs):
                x.requires_grad = x0.requires_grad
            opt.zero_grad()
            loss = model(*xs)
            loss.backward()
            got.append([loss] + [p.grad for p in model.parameters()] + [x.grad for x in xs if x.requires_grad])
            opt.step()
        for a, b in zip(*got):
            np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy(), err_msg=f"step {step}")
    for p, q in zip(eager.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.cpu().numpy(), q.cpu().numpy())
    return compiled


class Loss(nn.Module):
    """A model and its cross-entropy, so that the compiled call returns the loss."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x, y):
        out = self.inner(x)
        return tl.nn.functional.cross_entropy(out.view(-1, out.shape[-1]), y.view(-1))


@pytest.mark.parametrize("case", ["mlp", "gpt"])
def test_training_replays_launch_forward_and_backward_graphs(case, rng):
    if case == "mlp":
        make = lambda: Loss(nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 3)))  # noqa: E731

        def batch():
            x = tl.tensor(rng.standard_normal((4, 6)).astype(np.float16), device="cuda")
            x.requires_grad = True  # its gradient comes from the backward graph too
            return x, tl.tensor(rng.integers(0, 3, 4).astype(np.int32), device="cuda")
    else:
        make = lambda: Loss(SliceGPT())  # noqa: E731

        def batch():
            return (tl.tensor(rng.integers(0, 23, (2, 8)).astype(np.int32), device="cuda"),
                    tl.tensor(rng.integers(0, 23, 2).astype(np.int32), device="cuda"))
    compiled = _twin_steps(make, batch, 4, rng)
    assert compiled.eager_reasons == [] and compiled.cudagraph_reasons == []
    (prog,) = compiled._compiled.cache.values()
    assert isinstance(prog.train_graph, tl.graphed_callables.TrainingGraph)


def test_a_second_forward_before_backward_keeps_the_first_activations(rng):
    model = nn.Sequential(nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 2)).to("cuda")
    c = tl.compile(model, mode="reduce-overhead")
    xs = [tl.tensor(rng.standard_normal((3, 6)).astype(np.float16), device="cuda") for _ in range(4)]
    c(xs[0]).sum().backward()
    c(xs[1]).sum().backward()  # the graphs from here
    model.zero_grad()
    first = c(xs[2])
    second = c(xs[3])  # first's backward is pending: a plain replay, not over first's activations
    (first.sum() + second.sum() * 2).backward()
    got = [p.grad.cpu().numpy() for p in model.parameters()]
    model.zero_grad()
    (model(xs[2]).sum() + model(xs[3]).sum() * 2).backward()
    for g, p in zip(got, model.parameters()):
        np.testing.assert_array_equal(g, p.grad.cpu().numpy())


def test_list_index_replays_without_a_graph(rng):
    model = TinyGPT().to("cuda").eval()
    c = tl.compile(model, mode="reduce-overhead")
    with tl.no_grad(), pytest.warns(tl.compiler.CompileWarning, match="while capturing"):
        for _ in range(3):
            idx = tl.tensor(rng.integers(0, 23, (1, 8)).astype(np.int32), device="cuda")
            _same(c(idx), model(idx))
    assert _graph_of(c) is None and c.eager_reasons == []
