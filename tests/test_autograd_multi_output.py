"""Ops with several differentiable outputs (split, chunk, unbind, tensor_split, and a custom multi_output
Function): one backward node gathers every output's gradient. Checked against PyTorch autograd in float64
on f16-rounded random inputs: outputs left unused or used twice, second derivatives, retain_graph, hooks
and retain_grad on outputs, in-place ops on an output, and gradcheck."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close

# (name, f(lib, x) -> a scalar-free result built from some outputs of the op), written once for both libraries
CASES = [
    ("split_unused", lambda lib, x: x.split(2, 1)[0] * 3.0),
    ("split_sizes_twice", lambda lib, x: (lambda a, b, c: a * a + c.sum(1, keepdim=True) * a)(*x.split([1, 3, 1], 1))),
    ("split_negative_dim", lambda lib, x: lib.cat(x.split(3, -1)[::-1], -1) * x),
    ("split_empty_piece", lambda lib, x: x.split([0, 5, 0], 1)[1] ** 2),
    ("chunk_uneven", lambda lib, x: (lambda a, b: a.sum() * b)(*x.chunk(2, 2))),
    ("chunk_last_unused", lambda lib, x: (lambda a, b, c: a * b)(*x.chunk(3, 0))),
    ("unbind_some", lambda lib, x: (lambda s: s[0] * s[3] + s[0])(x.unbind(1))),
    ("unbind_negative_dim", lambda lib, x: lib.stack(x.unbind(-1)[1:3], 0) ** 2),
    ("iterate_rows", lambda lib, x: sum(row * (k + 1.0) for k, row in enumerate(x) if k != 1)),
    ("tensor_split_sections", lambda lib, x: lib.tensor_split(x, 3, 1)[2] * 2.0),
    ("tensor_split_indices", lambda lib, x: (lambda a, b, c: b.exp() + c.sum())(*lib.tensor_split(x, [1, 4], 2))),
]
SHAPE = (3, 5, 6)


def _pair(rng, device):
    x = rng.uniform(-2, 2, SHAPE).astype(np.float16)
    ours = tl.tensor(x, device=device, requires_grad=True)
    theirs = torch.tensor(x.astype(np.float64), requires_grad=True)
    return x, ours, theirs


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_gradients_and_second_derivatives_match_torch(name, fn, device, rng):
    _, x, tx = _pair(rng, device)
    out, ref = fn(tl, x), fn(torch, tx)
    assert_grad_close(out, ref, 5e-3, "forward")
    v = rng.uniform(0.5, 1.5, tuple(ref.shape)).astype(np.float16)
    (g,) = tl.autograd.grad(out, [x], tl.tensor(v, device=device), create_graph=True)
    (rg,) = torch.autograd.grad(ref, [tx], torch.tensor(v.astype(np.float64)), create_graph=True)
    assert_grad_close(g, rg, 5e-3, "gradient")
    if not rg.requires_grad:  # linear in x: no second derivative
        return
    w = rng.uniform(-1, 1, SHAPE).astype(np.float16)
    (g2,) = tl.autograd.grad((g * tl.tensor(w, device=device)).sum(), [x], allow_unused=True)
    (rg2,) = torch.autograd.grad((rg * torch.tensor(w.astype(np.float64))).sum(), [tx], allow_unused=True)
    assert_grad_close(g2, rg2 if rg2 is not None else torch.zeros(SHAPE), 2e-2, "second derivative")


@pytest.mark.parametrize("op", ["split", "chunk", "unbind"])
def test_gradcheck(op, device, rng):
    x = tl.tensor(rng.uniform(-2, 2, (4, 6)).astype(np.float16), device=device, requires_grad=True)
    fn = {"split": lambda t: t.split([2, 1, 3], 1), "chunk": lambda t: t.chunk(3, 0), "unbind": lambda t: t.unbind(1)}
    reference = {"split": lambda a: np.split(a, [2, 3], 1), "chunk": lambda a: np.split(a, [2], 0),
                 "unbind": lambda a: [a[:, i] for i in range(6)]}
    assert tl.autograd.gradcheck(lambda t: tuple(o * o for o in fn[op](t)), (x,),
                                 reference=lambda a: [o * o for o in reference[op](a)])


def test_cat_with_constants(device, rng):
    # the backward of split with an unused output joins a zero piece (a constant) by cat: cat's own backward
    # needs the sizes of its constant inputs too
    _, x, tx = _pair(rng, device)
    c = rng.uniform(-1, 1, (3, 2, 6)).astype(np.float16)
    for lib, t in ((tl, x), (torch, tx)):
        const = lib.tensor(c, device=device) if lib is tl else torch.tensor(c.astype(np.float64))
        (lib.cat([const, t, const], 1) ** 2).sum().backward()
    assert_grad_close(x.grad, tx.grad, 5e-3, "gradient of cat's non-constant input")


def test_one_node_serves_every_output_and_the_input_is_a_view(device, rng):
    _, x, _ = _pair(rng, device)
    y = x * 1.0
    pieces = y.split(2, 2)
    assert len({id(p.grad_fn.parent) for p in pieces}) == 1 and len({id(p.grad_fn) for p in pieces}) == 3
    assert pieces[1].grad_fn.name == "split" and y.unbind(0)[0].grad_fn.name == "_Unbind"
    with tl.no_grad():
        pieces[1].fill_(7.0)  # a view: writes reach y
    assert (y.numpy()[:, :, 2:4] == 7.0).all()


def test_retain_graph_runs_the_gathering_node_again(device, rng):
    _, x, tx = _pair(rng, device)
    for lib, t in ((tl, x), (torch, tx)):
        a, b, c = t.chunk(3, 1)
        loss = (a * c).sum() + b.sum()
        loss.backward(retain_graph=True)
        loss.backward()
    assert_grad_close(x.grad, tx.grad, 5e-3, "gradient after two backward passes")


def test_hooks_and_retain_grad_on_outputs(device, rng):
    _, x, tx = _pair(rng, device)
    seen = {}
    for lib, t in ((tl, x), (torch, tx)):
        a, b, c = t.split([1, 2, 2], 1)
        b.register_hook(lambda g: g * 3.0)
        c.retain_grad()
        c.register_hook(lambda g, lib=lib: seen.__setitem__(lib, g))
        ((a * b.sum(1, keepdim=True)).sum() + (c * c).sum() + (b * 2.0).sum()).backward()
        seen[lib, "c.grad"] = c.grad
    assert_grad_close(x.grad, tx.grad, 5e-3, "input gradient with a hook replacing an output's gradient")
    assert_grad_close(seen[tl], seen[torch], 5e-3, "the gradient a hook saw")
    assert_grad_close(seen[tl, "c.grad"], seen[torch, "c.grad"], 5e-3, "retained gradient of an output")


def test_grad_with_respect_to_an_output(device, rng):
    _, x, tx = _pair(rng, device)
    got = []
    for lib, t in ((tl, x), (torch, tx)):
        a, b = t.unbind(0)[:2]
        got.append(lib.autograd.grad((a * b * b).sum(), [b, t]))
    for ours, theirs in zip(*got):
        assert_grad_close(ours, theirs, 5e-3, "autograd.grad of an output and of the input")


def test_in_place_op_on_an_output(device, rng):
    # PyTorch refuses in-place ops on split's views (tests/test_inplace_multi_output_views.py); on copies of them they
    # are ordinary in-place ops
    _, x, tx = _pair(rng, device)
    for lib, leaf in ((tl, x), (torch, tx)):
        # (PyTorch before 2.13 names the node SplitBackward0)
        with pytest.raises(RuntimeError, match="Output 2 of Split(Backward0)? is a view and is being modified inplace"):
            (leaf * 1.0).split(2, 1)[2].exp_()
        a, b, c = (t.clone() for t in (leaf * 1.0).split(2, 1))
        a.mul_(2.0)
        c.exp_()
        ((a * c).sum() + b.sum()).backward()
    assert_grad_close(x.grad, tx.grad, 5e-3, "gradient through copies of the outputs changed in place")


class _ExpPair(tl.autograd.Function):
    """(exp x, exp -x), both differentiable, saving its outputs."""

    multi_output = True

    @staticmethod
    def forward(ctx, x):
        e, f = x.exp(), (-x).exp()
        ctx.save_for_backward(e, f)
        return e, f

    @staticmethod
    def backward(ctx, ge, gf):
        e, f = ctx.saved_tensors
        return (ge * e if ge is not None else 0.0) - (gf * f if gf is not None else 0.0)


def test_custom_multi_output_function(device, rng):
    x = tl.tensor(rng.uniform(-1, 1, (5,)).astype(np.float16), device=device, requires_grad=True)
    e, f = _ExpPair.apply(x)
    (e * 2.0 + f * f).sum().backward()
    xv = x.numpy().astype(np.float64)
    # the two terms (each up to 2e^2) cancel near x = 0, leaving their f16 roundings (up to 2^-9 each): atol 8e-3
    # (seed 680030210 differed by 2.1e-3)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(xv) - 2 * np.exp(-2 * xv), rtol=5e-3, atol=8e-3)
    x.grad = None
    _, f = _ExpPair.apply(x)  # the first output unused: its gradient is None
    f.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.exp(-xv), rtol=5e-3, atol=2e-3)
    e, f = _ExpPair.apply(x)
    f.add_(1.0)  # a saved output changed in place: backward refuses, as for single-output Functions
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        e.sum().backward()


def test_multihead_attention_in_proj_gradients(device, rng):
    # MultiheadAttention takes q, k, v's projections as chunks of in_proj_weight / in_proj_bias
    ours = tl.nn.MultiheadAttention(8, 2).to(device)
    theirs = torch.nn.MultiheadAttention(8, 2).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(dict(ours.named_parameters())[name].numpy().astype(np.float64)))
    q, kv = (rng.uniform(-1, 1, (5, 2, 8)).astype(np.float16) for _ in range(2))
    out, _ = ours(*(tl.tensor(a, device=device) for a in (q, kv, kv)))
    ref, _ = theirs(*(torch.tensor(a.astype(np.float64)) for a in (q, kv, kv)))
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    assert_grad_close(ours.in_proj_weight.grad, theirs.in_proj_weight.grad, 2e-2, "in_proj_weight's gradient")
    assert_grad_close(ours.in_proj_bias.grad, theirs.in_proj_bias.grad, 2e-2, "in_proj_bias's gradient")


def test_profiler_sees_one_op_and_one_backward_node(device, rng):
    _, x, _ = _pair(rng, device)
    with tl.profiler.profile() as prof:
        a, b, c = x.chunk(3, 1)
        (a * c + b).sum().backward()
    names = [e.name for e in prof.events()]
    assert names.count("chunk") == 1 and names.count("chunkBackward") == 1 and names.count("cat") == 1
