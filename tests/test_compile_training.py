"""tl.compile in training steps: the replay builds eager's backward graph, so losses and gradients equal eager's
bit for bit over several optimizer steps (an MLP whose input requires grad too, a small GPT with its loss, a
conv net); what a replay cannot reproduce (dropout's masks, batch norm's running statistics, buffers updated in
place, gradient hooks) runs eagerly with its reason."""
import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import nn
from tensorlogic import compiler
import tensorlogic.nn.functional as F
from test_compile import TinyGPT, _mlp, _randn, _same

pytestmark = pytest.mark.usefixtures("cpu_default")


class Counted(nn.Module):
    """Counts the Python calls of its forward: a replay runs none."""

    def __init__(self, inner, loss):
        super().__init__()
        self.inner, self.loss, self.calls = inner, loss, []

    def forward(self, x, y):
        self.calls.append(1)
        out = self.inner(x)
        return self.loss(out.view(-1, out.shape[-1]), y.view(-1))


def _gpt(rng):
    model = Counted(TinyGPT(), F.cross_entropy)
    return model, lambda: (tl.tensor(rng.integers(0, 23, (2, 8)).astype(np.int32)),
                           tl.tensor(rng.integers(0, 23, 2).astype(np.int32)))


def _mlp_case(rng):
    model = Counted(_mlp()[0], F.cross_entropy)

    def batch():
        x = _randn(rng, (6, 12), "cpu")
        x.requires_grad = True  # the gradient reaches the caller's input too
        return x, tl.tensor(rng.integers(0, 5, 6).astype(np.int32))
    return model, batch


def _conv(rng):
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6, track_running_stats=False), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(6, 4, 3), nn.Flatten(), nn.Dropout(0.0), nn.Linear(16, 3))
    return Counted(net, F.cross_entropy), lambda: (_randn(rng, (2, 3, 8, 8), "cpu"),
                                                   tl.tensor(rng.integers(0, 3, 2).astype(np.int32)))


@pytest.mark.parametrize("make", [_mlp_case, _gpt, _conv], ids=["mlp", "gpt", "convnet"])
def test_training_replay_equals_eager(make, rng):
    tl.manual_seed(int(rng.integers(1 << 31)))
    eager, batch = make(rng)
    twin, _ = make(rng)
    twin.load_state_dict(eager.state_dict())
    compiled = tl.compile(twin, backend="aot_eager")  # no fusions: eager's gradients bit for bit (test_compile_fusion)
    opts = [tl.optim.AdamW(m.parameters(), lr=1e-2) for m in (eager, twin)]
    for step in range(4):
        x, y = batch()
        x2 = x.detach()
        x2.requires_grad = x.requires_grad
        losses, grads = [], []
        for model, opt, inp in ((eager, opts[0], x), (compiled, opts[1], x2)):
            opt.zero_grad()
            loss = model(inp, y)
            loss.backward()
            losses.append(loss.item())
            grads.append([p.grad for p in model.parameters()] + ([inp.grad] if inp.requires_grad else []))
            opt.step()
        assert losses[0] == losses[1], step
        for a, b in zip(*grads):
            _same(a, b)
    assert compiled.eager_reasons == []
    assert len(twin.calls) == 2  # the capture and its check on other values; every step replayed
    assert isinstance(next(iter(compiled._compiled.cache.values())), compiler._Program)


class Stats(nn.Module):
    """Updates a buffer in place outside the recorded ops (a running mean of its inputs)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.register_buffer("seen", tl.zeros(4))

    def forward(self, x):
        with tl.no_grad():
            self.seen.add_(x.detach().mean(0))
        return self.lin(x)


class Hooked(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        h = self.lin(x)
        h.register_hook(lambda g: g * 2)
        return h.relu()


@pytest.mark.parametrize("make, reason", [  # made in the test, on its (CPU) default device
    (lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.3)), "dropout in training mode"),
    (lambda: nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), "batch norm in training mode"),
    (Stats, "updates a module buffer in place"),
    (Hooked, "gradient hook"),
], ids=["dropout", "batch_norm", "buffer", "hook"])
def test_training_fallbacks_train_as_eager(make, reason, rng):
    model = make()
    compiled = tl.compile(model)
    x = _randn(rng, (3, 4), "cpu")
    seed = int(rng.integers(1 << 31))
    tl.manual_seed(seed)
    with pytest.warns(compiler.CompileWarning, match=reason):
        compiled(x).sum().backward()
    got = [p.grad for p in model.parameters()]
    assert len(compiled.eager_reasons) == 1 and reason in compiled.eager_reasons[0]
    model.zero_grad()
    tl.manual_seed(seed)  # dropout draws the same mask: the reason was found before any capture ran
    model(x).sum().backward()
    for g, p in zip(got, model.parameters()):
        _same(g, p.grad)
