"""tl.cuda.CUDAGraph / tl.cuda.graph and tl.cuda.make_graphed_callables on CUDA: replays equal eager's results bit
for bit (the same kernels), training through graphed callables gives eager's gradients and parameters over
several AdamW steps (an MLP whose input requires grad, a small GPT with its loss inside the graph), and both
follow PyTorch within f16 tolerance; random draws and host reads in a capture are refused. Skipped without
CUDA (tests/test_cuda_graphs_api.py checks the errors that need no GPU)."""
import pathlib
import sys

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import nn
import tensorlogic.nn.functional as F

torch = pytest.importorskip("torch")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
from gpt_step import build_gpt, init_weights  # noqa: E402  (one GPT written over either library's nn)

pytestmark = pytest.mark.skipif("cuda" not in tl.available_devices(), reason="needs a CUDA device")


def _h(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float16)


def _np(t):
    return t.cpu().numpy()


def test_capture_and_replay_equal_eager_and_torch(rng):
    w = tl.tensor(_h(rng, (16, 8), 0.3), device="cuda")
    static_x = tl.tensor(_h(rng, (4, 16)), device="cuda")
    tl.tanh(static_x @ w) + 1  # warm-up: the matmul's lazy setup waits for the device
    g = tl.cuda.CUDAGraph()
    with tl.cuda.graph(g):
        static_y = tl.tanh(static_x @ w) + 1
    for _ in range(3):
        x = _h(rng, (4, 16))
        static_x.copy_(tl.tensor(x, device="cuda"))
        g.replay()
        np.testing.assert_array_equal(_np(static_y), _np(tl.tanh(static_x @ w) + 1))
        want = torch.tanh(torch.tensor(x, dtype=torch.float32) @ torch.tensor(_np(w), dtype=torch.float32)) + 1
        np.testing.assert_allclose(_np(static_y).astype(np.float32), want.numpy(), rtol=4e-3, atol=4e-3)


def test_graphs_sharing_a_pool_replay_in_capture_order(rng):
    x = tl.tensor(_h(rng, (5, 7)), device="cuda")
    first, second = tl.cuda.CUDAGraph(), tl.cuda.CUDAGraph()
    with tl.cuda.graph(first):
        y = x * 2
    with tl.cuda.graph(second, pool=first.pool()):
        z = y.exp() + y
    for _ in range(2):
        x.copy_(tl.tensor(_h(rng, (5, 7)), device="cuda"))
        first.replay()
        second.replay()
        np.testing.assert_array_equal(_np(z), _np((x * 2).exp() + x * 2))


def test_random_draws_are_refused():
    g = tl.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="random numbers"):
        with tl.cuda.graph(g):
            tl.rand(8, device="cuda")
    with pytest.raises(RuntimeError, match="not been captured"):
        g.replay()


def test_host_read_fails_the_capture_and_work_goes_on(rng):
    x = tl.tensor(_h(rng, (3, 3)), device="cuda")
    g = tl.cuda.CUDAGraph()
    with pytest.raises(tl.DeviceError, match="while capturing"):
        with tl.cuda.graph(g):
            (x * 2).sum().item()
    np.testing.assert_array_equal(_np(x * 2), _np(x) * 2)
    with tl.cuda.graph(g):  # reset by the failure: capturable again
        y = x + 1
    g.replay()
    np.testing.assert_array_equal(_np(y), _np(x + 1))


def test_capture_error_modes():
    with pytest.raises(ValueError, match="not supported"):
        tl.cuda.CUDAGraph().capture_begin(capture_error_mode="global")
    with pytest.raises(ValueError, match="must be one of"):
        tl.cuda.CUDAGraph().capture_begin(capture_error_mode="strict")


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(12, 32), lib.nn.GELU(), lib.nn.LayerNorm(32), lib.nn.Linear(32, 5))


def _twins(make_tl, make_torch, rng):
    """Two TensorLogic models (eager, to be graphed) and a PyTorch float32 one, all with the same f16 weights."""
    a, b, t = make_tl(), make_tl(), make_torch()
    weights = {k: _h(rng, tuple(v.shape), 0.2) for k, v in t.state_dict().items()}
    for m in (a, b):
        m.load_state_dict({k: tl.tensor(v) for k, v in weights.items()})
        m.to("cuda")
    t.load_state_dict({k: torch.tensor(v.astype(np.float32)) for k, v in weights.items()})
    return a, b, t.to("cuda")


def _check_against_torch(ours, theirs, lr, steps):
    """Gradients of the first step within f16 rounding; parameters within what AdamW's bounded steps allow."""
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(_np(p).astype(np.float32), q.detach().cpu().numpy(), rtol=0,
                                   atol=2 * steps * lr + 2e-3, err_msg=name)


def test_graphed_mlp_trains_as_eager_and_torch(rng):
    eager, graphed, reference = _twins(lambda: _mlp(tl), lambda: _mlp(torch), rng)
    lr = 1e-3
    sample = tl.tensor(_h(rng, (6, 12)), device="cuda")
    sample.requires_grad = True
    graphed = tl.cuda.make_graphed_callables(graphed, (sample,))
    opts = [tl.optim.AdamW(m.parameters(), lr=lr) for m in (eager, graphed)]
    topt = torch.optim.AdamW(reference.parameters(), lr=lr)
    for step in range(4):
        x_np, y_np = _h(rng, (6, 12)), rng.integers(0, 5, 6)
        y = tl.tensor(y_np.astype(np.int32), device="cuda")
        grads = []
        for model, opt in zip((eager, graphed), opts):
            x = tl.tensor(x_np, device="cuda")
            x.requires_grad = True
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            grads.append([_np(p.grad) for p in model.parameters()] + [_np(x.grad)])
            opt.step()
        for a, b in zip(*grads):
            np.testing.assert_array_equal(a, b)
        tx = torch.tensor(x_np.astype(np.float32), device="cuda", requires_grad=True)
        topt.zero_grad()
        torch.nn.functional.cross_entropy(reference(tx), torch.tensor(y_np, device="cuda")).backward()
        if step == 0:
            for g, q in zip(grads[1], [*reference.parameters(), tx]):
                want = q.grad.cpu().numpy()
                np.testing.assert_allclose(g.astype(np.float32), want, rtol=2e-2, atol=2e-2 * np.abs(want).max())
        topt.step()
    for p, q in zip(eager.parameters(), graphed.parameters()):
        np.testing.assert_array_equal(_np(p), _np(q))
    _check_against_torch(graphed, reference, lr, 4)


def test_graphed_gpt_with_its_loss_trains_as_eager_and_torch(rng):
    shape = dict(vocab=64, block=16, layers=2, width=32, heads=4)
    weights = init_weights(build_gpt(torch, **shape), int(rng.integers(1 << 31)))
    models = []
    for lib in (tl, tl, torch):
        m = build_gpt(lib, **shape)
        if lib is tl:
            m.load_state_dict({k: tl.tensor(v) for k, v in weights.items()})
            m.to("cuda")
            m.positions = tl.arange(16, dtype=tl.int32, device="cuda")
        else:
            m.load_state_dict({k: torch.tensor(v.astype(np.float32)) for k, v in weights.items()})
            m.to("cuda")
            m.positions = torch.arange(16, device="cuda")
        models.append(m)
    eager, graphed, reference = models

    def batch():
        x, y = rng.integers(0, 64, (2, 16)), rng.integers(0, 64, (2, 16))
        return x, y, (tl.tensor(x.astype(np.int32), device="cuda"), tl.tensor(y.astype(np.int32), device="cuda"))

    graphed = tl.cuda.make_graphed_callables(graphed, batch()[2])
    lr = 1e-3
    opts = [tl.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.1) for m in (eager, graphed)]
    topt = torch.optim.AdamW(reference.parameters(), lr=lr, weight_decay=0.1)
    for step in range(3):
        x, y, inputs = batch()
        losses = []
        for model, opt in zip((eager, graphed), opts):
            opt.zero_grad(set_to_none=True)
            loss = model(*inputs)
            loss.backward()
            losses.append(loss.item())
            opt.step()
        assert losses[0] == losses[1], step
        topt.zero_grad()
        tloss = reference(torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda"))
        tloss.backward()
        topt.step()
        assert abs(losses[1] - tloss.item()) < 2e-2 * abs(tloss.item()), step
        for (name, p), q in zip(eager.named_parameters(), graphed.parameters()):
            np.testing.assert_array_equal(_np(p), _np(q), err_msg=name)
    _check_against_torch(graphed, reference, lr, 3)


def test_out_of_range_target_raises_at_the_next_read(rng):
    model = build_gpt(tl, vocab=32, block=8, layers=1, width=16, heads=2).to("cuda")
    model.positions = tl.arange(8, dtype=tl.int32, device="cuda")
    x = tl.tensor(rng.integers(0, 32, (1, 8)).astype(np.int32), device="cuda")
    graphed = tl.cuda.make_graphed_callables(model, (x, x.clone()))
    bad = x.clone()
    bad[0, 3] = 40
    loss = graphed(x, bad)  # the device records the error; the graph's replay re-armed the record
    with pytest.raises(IndexError, match="out of bounds"):
        loss.item()
    assert np.isfinite(graphed(x, x).item())  # the record was cleared: later replays run on


def test_graphed_function_with_two_outputs(rng):
    def f(x, w):
        h = x @ w
        return h.relu(), h.sigmoid() * x.sum()

    x = tl.tensor(_h(rng, (4, 6)), device="cuda", requires_grad=True)
    w = tl.tensor(_h(rng, (6, 3)), device="cuda", requires_grad=True)
    g = tl.cuda.make_graphed_callables(f, (x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()))
    for _ in range(2):
        xs, ws = (tl.tensor(_h(rng, s), device="cuda", requires_grad=True) for s in ((4, 6), (6, 3)))
        a, b = g(xs, ws)
        (a.sum() + (b * 3).sum()).backward()
        xe, we = (t.detach().clone().requires_grad_() for t in (xs, ws))
        ae, be = f(xe, we)
        (ae.sum() + (be * 3).sum()).backward()
        np.testing.assert_array_equal(_np(a), _np(ae))
        np.testing.assert_array_equal(_np(xs.grad), _np(xe.grad))
        np.testing.assert_array_equal(_np(ws.grad), _np(we.grad))


def test_module_in_the_other_mode_runs_its_own_forward(rng):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).to("cuda").eval()
    x = tl.tensor(_h(rng, (2, 4)), device="cuda")
    graphed = tl.cuda.make_graphed_callables(model, (x,))  # eval: dropout draws nothing, so it is capturable
    np.testing.assert_array_equal(_np(graphed(x)), _np(model[0](x)))
    graphed.train()
    graphed(x)  # dropout draws: its own forward, not the graph


def test_errors_of_graphed_callables(rng):
    x = tl.tensor(_h(rng, (2, 4)), device="cuda")
    with pytest.raises(RuntimeError, match="random numbers"):
        tl.cuda.make_graphed_callables(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).to("cuda"), (x,))
    g = tl.cuda.make_graphed_callables(nn.Linear(4, 3).to("cuda"), (x,))
    with pytest.raises(tl.ShapeMismatchError, match=r"\(3, 4\)"):
        g(tl.tensor(_h(rng, (3, 4)), device="cuda"))
    x2 = tl.tensor(_h(rng, (2, 4)), device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match="its sample did not"):
        g(x2)  # the backward graph has no gradient for it
    g = tl.cuda.make_graphed_callables(nn.Linear(4, 3).to("cuda"), (x.clone().requires_grad_(),))
    out = g(x2).sum()
    with pytest.raises(RuntimeError, match="differentiated again"):
        tl.autograd.grad(out, x2, create_graph=True)
