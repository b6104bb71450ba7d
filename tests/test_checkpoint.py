"""tl.utils.checkpoint against the same computation without checkpointing (gradients bit for bit: the recomputation runs
the same ops on the same values, dropout's mask included) and against PyTorch's gradients (which torch.utils.checkpoint
leaves as they are); the memory it saves; its errors."""
import warnings
import weakref

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16_randn
from tensorlogic.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential


def _leaves(rng, device, *shapes, scale=0.5):
    return [tl.tensor(f16_randn(rng, s, scale), device=device).requires_grad_() for s in shapes]


def _grads(ts):
    out = [t.grad.numpy().copy() for t in ts]
    for t in ts:
        t.grad = None
    return out


def _block(weights, p=0.0):
    def f(h, scale=1.0, *, extra=None):
        for w in weights:
            h = tl.tanh(h @ w)
            h = tl.nn.functional.dropout(h, p)
        if extra is not None:
            h = h + extra
        return {"out": h * scale, "aux": (h.sum(), "label", 3)}
    return f


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_gradients_equal_plain_run_bit_for_bit(device, rng, p):
    """Kwargs, a non-tensor argument, a dict and tuple of outputs with non-tensors among them; dropout replays the
    forward's mask (the stream restored for the recomputation, and where it was afterwards)."""
    x, w1, w2, extra = _leaves(rng, device, (4, 8), (8, 8), (8, 8), (8,))
    f = _block([w1, w2], p)
    seed = int(rng.integers(1 << 31))
    tl.manual_seed(seed)
    ref = f(x, 2.0, extra=extra)
    (ref["out"].sum() * ref["aux"][0]).backward()
    after_plain = tl.rand(4).numpy()
    want = _grads([x, w1, w2, extra])
    tl.manual_seed(seed)
    got = checkpoint(f, x, 2.0, use_reentrant=False, extra=extra)
    assert got["aux"][1:] == ("label", 3)
    np.testing.assert_array_equal(got["out"].numpy(), ref["out"].numpy())
    (got["out"].sum() * got["aux"][0]).backward()
    np.testing.assert_array_equal(tl.rand(4).numpy(), after_plain)
    for a, b in zip(_grads([x, w1, w2, extra]), want):
        np.testing.assert_array_equal(a, b)


def test_without_preserved_rng_the_recomputation_draws_anew(device, rng):
    x, w = _leaves(rng, device, (8, 16), (16, 16))
    f = _block([w], 0.5)
    tl.manual_seed(7)
    f(x)["out"].sum().backward()
    want = _grads([w])[0]
    tl.manual_seed(7)
    checkpoint(f, x, use_reentrant=False, preserve_rng_state=False)["out"].sum().backward()
    assert not np.array_equal(_grads([w])[0], want)  # another mask of 128 elements


def test_matches_torch_checkpoint_and_sequential(device, rng):
    layers = [tl.nn.Linear(6, 6) for _ in range(5)]
    model = tl.nn.Sequential(*[m for layer in layers for m in (layer, tl.nn.Tanh())])
    ref = torch.nn.Sequential(*[m for _ in layers for m in (torch.nn.Linear(6, 6), torch.nn.Tanh())])
    with torch.no_grad():
        for ours, theirs in zip(layers, ref[::2]):
            ours.weight.data = tl.tensor(f16_randn(rng, (6, 6), 0.5))
            ours.bias.data = tl.tensor(f16_randn(rng, (6,), 0.5))
            theirs.weight.copy_(torch.tensor(ours.weight.numpy().astype(np.float32)))
            theirs.bias.copy_(torch.tensor(ours.bias.numpy().astype(np.float32)))
    model.to(device)
    xs = f16_randn(rng, (3, 6))
    x = tl.tensor(xs, device=device).requires_grad_()
    tx = torch.tensor(xs.astype(np.float32), requires_grad=True)
    out = checkpoint_sequential(model, 3, x, use_reentrant=False)
    t_out = ref(tx)  # (torch.utils.checkpoint gives torch's plain gradients; its first call takes 4 s: dynamo)
    (out ** 2).sum().backward()
    (t_out ** 2).sum().backward()
    assert_grad_close(x.grad, tx.grad, 1e-2, "input")
    for ours, theirs in zip(layers, ref[::2]):
        assert_grad_close(ours.weight.grad, theirs.weight.grad, 1e-2, "weight")
    # one segment of it through checkpoint, against torch's
    model.zero_grad()
    ref.zero_grad()
    y = checkpoint(model[0:4], x, use_reentrant=True)
    ty = ref[0:4](tx)
    y.sum().backward()
    ty.sum().backward()
    assert_grad_close(layers[0].weight.grad, ref[0].weight.grad, 1e-2, "weight")


def test_activations_are_not_kept(device, rng):
    """After the forward, the segment's intermediate tensors are gone (only its output was allocated); without
    checkpointing each layer's activations stay for backward."""
    weights = _leaves(rng, device, *[(128, 128)] * 6, scale=0.05)
    x = _leaves(rng, device, (128, 128))[0]
    seen = []

    def f(h):
        for w in weights:
            h = tl.tanh(h @ w)
            seen.append(weakref.ref(h))
        return h

    def growth(run):
        before = tl.memory.stats(device)["active_bytes"]
        out = run()
        return out, tl.memory.stats(device)["active_bytes"] - before

    plain, plain_bytes = growth(lambda: f(x))
    assert all(r() is not None for r in seen[:-1])
    del plain
    seen.clear()
    out, ckpt_bytes = growth(lambda: checkpoint(f, x, use_reentrant=False))
    assert [r() for r in seen[:-1]] == [None] * 5
    layer = 128 * 128 * 2
    assert ckpt_bytes <= layer and plain_bytes >= 5 * layer, (ckpt_bytes, plain_bytes)
    out.sum().backward()
    assert all(w.grad is not None for w in weights)


def test_autograd_grad_nested_captured_and_double_backward(device, rng):
    """tl.autograd.grad through a checkpoint (gradients returned, no .grad touched); a checkpoint inside a checkpoint;
    a captured non-leaf whose own graph must survive; create_graph (a gradient penalty) through the cut."""
    x0, w1, w2 = _leaves(rng, device, (3, 5), (5, 5), (5, 5))
    c = x0 * 1.5  # captured by the closures, a non-leaf of the caller's graph

    def inner(h):
        return tl.sin(h @ w2) * c

    def outer(h):
        return checkpoint(inner, tl.tanh(h @ w1), use_reentrant=False) + c

    def loss(run):
        x = x0 * 1.0
        y = run(x)
        (g,) = tl.autograd.grad(y.sum(), x, create_graph=True)
        return (y ** 2).sum() + (g ** 2).sum()

    want = tl.autograd.grad(loss(outer), [x0, w1, w2], retain_graph=True)
    got = tl.autograd.grad(loss(lambda h: checkpoint(outer, h, use_reentrant=False)), [x0, w1, w2], retain_graph=True)
    assert x0.grad is None and w1.grad is None
    for a, b in zip(got, want):  # the same terms, summed in another order
        b = b.numpy().astype(np.float64)
        np.testing.assert_allclose(a.numpy(), b, rtol=4e-3, atol=4e-3 * np.abs(b).max())
    c.sum().backward()  # the captured tensor's graph is intact
    assert x0.grad is not None


def test_gradcheck_through_checkpoint(device, rng):
    """gradcheck (f16 finite differences) of a checkpointed function of two inputs with a captured weight."""
    x, y, w = _leaves(rng, device, (2, 3), (3,), (3, 3))
    f = lambda a, b: checkpoint(lambda p, q: tl.tanh(p @ w + q) * q, a, b, use_reentrant=False)  # noqa: E731
    assert tl.autograd.gradcheck(f, (x, y))


def test_retain_graph_and_second_backward(device, rng):
    x, w = _leaves(rng, device, (2, 4), (4, 4))
    y = checkpoint(lambda h: tl.tanh(h @ w), x, use_reentrant=False).sum()
    y.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_inputs_returned_unchanged_and_no_grad(device, rng):
    x, w = _leaves(rng, device, (2, 3), (3, 3))
    a, b = checkpoint(lambda h: (h, h @ w), x, use_reentrant=False)
    assert a is x
    (a.sum() + b.sum()).backward()
    assert x.grad is not None
    with tl.no_grad():
        out = checkpoint(lambda h: h @ w, x, use_reentrant=False)
    assert not out.requires_grad


def test_errors(device, rng):
    x, w = _leaves(rng, device, (2, 3), (3, 3))
    calls = []

    def varying(h):
        calls.append(1)
        return (h @ w)[: len(calls)]

    y = checkpoint(varying, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="shapes"):
        y.sum().backward()
    calls.clear()
    y = checkpoint(varying, x, use_reentrant=False, debug=True)
    with pytest.raises(CheckpointError, match="Ops recorded in the forward"):
        y.sum().backward()

    z = x * 1.0
    y = checkpoint(lambda h: h @ w, z, use_reentrant=False)
    with tl.no_grad():
        z.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()

    def boom(h):
        h @ w
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):  # the function's own error, and the tracer is gone
        checkpoint(boom, x, use_reentrant=False)
    assert tl.autograd.grad_mode.mode.trace is None

    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda h, scale: h, x, use_reentrant=True, scale=2)
    with pytest.raises(ValueError, match="determinism_check"):
        checkpoint(lambda h: h, x, use_reentrant=False, determinism_check="strict")
    with pytest.raises(TypeError, match="context_fn"):
        checkpoint(lambda h: h @ w, x, use_reentrant=False, context_fn=lambda: None)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda h: h @ w, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(lambda h: h @ w, x.detach(), use_reentrant=True)
    assert not out.requires_grad
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential([tl.nn.Tanh()], 2, x, use_reentrant=False)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([tl.nn.Tanh()], 1, x, use_reentrant=False, foo=1)


def test_context_fn_runs_around_each_pass(device, rng):
    x, w = _leaves(rng, device, (2, 3), (3, 3))
    log = []

    class Note:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            log.append(self.name)

        def __exit__(self, *exc):
            return False

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = checkpoint(lambda h: tl.tanh(h @ w), x, use_reentrant=False,
                       context_fn=lambda: (Note("forward"), Note("recompute")))
    y.sum().backward()
    assert log == ["forward", "recompute"]
