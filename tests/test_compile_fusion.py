"""tl.compile's fusions (compile_fusion.py, backend "inductor" with options={"epilogue_fusion": True}; off by
default): a linear followed by the add of a residual replays as one GEMM whose epilogue adds it. Forward and backward against eager within f16 rounding over
several AdamW steps on every device (the oracle: the same model run eagerly, and PyTorch's float64 linear + add);
where the conditions fail (the linear's result read twice, a broadcast or non-contiguous residual, a number) the
ops replay as recorded, bit for bit eager's; backend "aot_eager" never fuses, nor the default options."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn
from tensorlogic.compile_fusion import _LinearAdd
from test_compile import Block
from test_compile_memory import GPT


FUSE = {"epilogue_fusion": True}


def _f32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def _close(a, b, scale=1.0):
    """Within f16 rounding: the fused GEMM rounds once where linear and add round twice."""
    np.testing.assert_allclose(_f32(a), _f32(b), rtol=2e-2, atol=2e-2 * scale)


def _fused_steps(compiled):
    (prog,) = compiled._compiled.cache.values()
    return sum(step[5] is _LinearAdd for step in prog.steps)


def _randn(rng, shape, device, grad=False):
    t = tl.tensor(rng.standard_normal(shape).astype(np.float16), device=device)
    t.requires_grad = grad
    return t


def test_linear_add_matches_float64(device, rng):
    """The fused op itself against PyTorch in float64: forward, and the gradients of all four operands."""
    lin = nn.Linear(24, 16).to(device)
    x, r = _randn(rng, (3, 5, 24), device, True), _randn(rng, (3, 5, 16), device, True)
    c = tl.compile(lambda x, r: lin(x) + r, options=FUSE)
    for _ in range(3):  # the capture, then replays
        x.grad = r.grad = lin.weight.grad = lin.bias.grad = None
        y = c(x, r)
        g = rng.standard_normal(y.shape).astype(np.float16)
        y.backward(tl.tensor(g, device=device))
        tx, tr, tw, tb = (torch.tensor(_f32(t).astype(np.float64), requires_grad=True)
                          for t in (x, r, lin.weight, lin.bias))
        ty = torch.nn.functional.linear(tx, tw, tb) + tr
        ty.backward(torch.tensor(g.astype(np.float64)))
        np.testing.assert_allclose(_f32(y), ty.detach().numpy(), rtol=2e-3, atol=2e-3)
        for ours, theirs in ((x, tx), (r, tr), (lin.weight, tw), (lin.bias, tb)):
            np.testing.assert_allclose(_f32(ours.grad), theirs.grad.numpy(), rtol=1e-2, atol=1e-2)
    assert _fused_steps(c) == 1 and c.eager_reasons == []


def test_gpt_training_fused_matches_eager(device, rng):
    """Every block's two residual adds fuse; losses, gradients and weights stay within f16 rounding of eager's over
    AdamW steps."""
    tl.manual_seed(int(rng.integers(1 << 31)))
    eager = GPT(width=32, block=16).to(device)
    twin = GPT(width=32, block=16).to(device)
    twin.load_state_dict(eager.state_dict())
    compiled = tl.compile(twin, options=FUSE)
    opts = [tl.optim.AdamW(m.parameters(), lr=1e-3) for m in (eager, twin)]
    for step in range(4):
        x, y = (tl.tensor(rng.integers(0, 96, (4, 16)).astype(np.int32), device=device) for _ in range(2))
        got = []
        for model, opt in ((eager, opts[0]), (compiled, opts[1])):
            opt.zero_grad()
            loss = model(x, y)
            loss.backward()
            got.append([loss] + [p.grad for p in model.parameters()])
            opt.step()
        _close(got[0][0], got[1][0])
        for a, b in zip(got[0][1:], got[1][1:]):
            _close(a, b, scale=max(float(np.abs(_f32(a)).max()), 1e-3))
    for p, q in zip(eager.parameters(), twin.parameters()):
        _close(p, q)
    assert _fused_steps(compiled) == 2 * len(twin.blocks) and compiled.eager_reasons == []


@pytest.mark.parametrize("case", ["read twice", "broadcast", "transposed", "number"])
def test_no_fusion_where_conditions_fail(case, device, rng):
    lin = nn.Linear(8, 8).to(device)
    def read_twice(x, r):
        h = lin(x)
        return h + r, h  # h is an output too: the linear's result must be written

    f = {"read twice": read_twice,
         "broadcast": lambda x, r: lin(x) + r[0],  # the residual broadcast over rows: add's gradient sums it
         "transposed": lambda x, r: lin(x) + r.mT,  # not contiguous: cuBLASLt's C would need a copy
         "number": lambda x, r: lin(x) + 1.0}[case]
    c = tl.compile(f, options=FUSE)
    x, r = _randn(rng, (8, 8), device, True), _randn(rng, (8, 8), device, True)
    for _ in range(2):
        out = c(x, r)
        want = f(x, r)
        for a, b in zip(out if isinstance(out, tuple) else (out,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_array_equal(_f32(a), _f32(b))
    assert _fused_steps(c) == 0 and c.eager_reasons == []


def test_residual_modified_in_place_after_the_add(device, rng):
    """add saves nothing, so eager lets the residual change in place after it; the fused node saves what linear
    saves, so backward still runs."""
    lin = nn.Linear(8, 8).to(device)

    def f(x, r):
        r = r * 1.0
        y = lin(x) + r
        r.mul_(2.0)
        return y * r

    c = tl.compile(f, options=FUSE)
    for _ in range(3):
        x = _randn(rng, (4, 8), device, True)
        r = _randn(rng, (4, 8), device)
        lin.zero_grad()
        c(x, r).sum().backward()
        got = [_f32(t.grad) for t in (x, lin.weight, lin.bias)]
        x.grad = None
        lin.zero_grad()
        f(x, r).sum().backward()
        for a, t in zip(got, (x, lin.weight, lin.bias)):
            np.testing.assert_allclose(a, _f32(t.grad), rtol=2e-2, atol=5e-2)
    assert _fused_steps(c) == 1 and c.eager_reasons == []


@pytest.mark.parametrize("kwargs", [{"backend": "aot_eager", "options": FUSE}, {}], ids=["aot_eager", "default"])
def test_no_fusion_unless_asked_of_inductor(kwargs, rng):
    block = Block(16, 4)
    c = tl.compile(block, **kwargs)
    x = _randn(rng, (2, 7, 16), "cpu", True)
    c(x).sum().backward()
    assert _fused_steps(c) == 0


def test_fused_training_graphs_on_cuda(rng):
    """mode="reduce-overhead" on CUDA: the fused program as the forward and backward CUDA graphs."""
    if "cuda" not in tl.available_devices():
        pytest.skip("no CUDA device")
    tl.manual_seed(int(rng.integers(1 << 31)))
    eager = GPT(width=32, block=16).to("cuda")
    twin = GPT(width=32, block=16).to("cuda")
    twin.load_state_dict(eager.state_dict())
    compiled = tl.compile(twin, options={**FUSE, "triton.cudagraphs": True})
    for _ in range(4):
        x, y = (tl.tensor(rng.integers(0, 96, (4, 16)).astype(np.int32), device="cuda") for _ in range(2))
        losses = []
        for model in (eager, compiled):
            model.zero_grad()
            loss = model(x, y)
            loss.backward()
            losses.append(loss)
        _close(*losses)
        for p, q in zip(eager.parameters(), twin.parameters()):
            _close(p.grad, q.grad, scale=max(float(np.abs(_f32(p.grad)).max()), 1e-3))
    (prog,) = compiled._compiled.cache.values()
    assert isinstance(prog.train_graph, tl.graphed_callables.TrainingGraph) and _fused_steps(compiled) == 4
