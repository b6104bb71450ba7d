"""Tensor.register_post_accumulate_grad_hook against PyTorch CPU: when the hooks run (as soon as a leaf's
gradient is complete, before the rest of backward), what .grad they see, and the errors."""
import numpy as np
import pytest

import tensorlogic as tl

torch = pytest.importorskip("torch")


def _graph(lib, leaves, events):
    """loss = sum(exp(x * w1) * w2 + w3): w2 and w3 are complete before exp's backward runs, x and w1 last."""
    x, w1, w2, w3 = leaves
    h = x * w1
    h.register_hook(lambda g: events.append("h"))
    return (lib.exp(h) * w2 + w3).sum()


def _leaves(lib, values, **kw):
    return [lib.tensor(v, requires_grad=True, **kw) for v in values]


def _order(lib, values, **kw):
    """The events of two backward passes (the second accumulates) and the .grad each hook saw."""
    events, seen = [], {}
    leaves = _leaves(lib, values, **kw)
    for name, t in zip(("x", "w1", "w2", "w3"), leaves):
        def hook(tensor, name=name):
            events.append(name)
            seen.setdefault(name, []).append(np.asarray(tensor.grad.detach().cpu().numpy(), np.float64).copy())
        t.register_post_accumulate_grad_hook(hook)
    for _ in range(2):
        _graph(lib, leaves, events).backward()
    return events, seen


def test_hooks_run_when_the_leaf_is_complete_like_torch(device, rng):
    values = [rng.uniform(-1, 1, 3).astype(np.float16) for _ in range(4)]
    ours, ours_seen = _order(tl, values, device=device)
    theirs, theirs_seen = _order(torch, [v.astype(np.float32) for v in values])
    for events in (ours, theirs):
        for half in (events[:5], events[5:]):  # each backward: w2, w3 before h's hook; x, w1 after it
            assert set(half[:2]) == {"w2", "w3"} and half[2] == "h" and set(half[3:]) == {"x", "w1"}, events
    for name in theirs_seen:
        for got, want in zip(ours_seen[name], theirs_seen[name]):  # the second call sees the accumulated sum
            np.testing.assert_allclose(got, want, rtol=4e-3, atol=4e-3, err_msg=name)


def test_backward_with_inputs_runs_them_and_grad_does_not(device, rng):
    x = tl.tensor(rng.uniform(-1, 1, 4).astype(np.float16), requires_grad=True, device=device)
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    tl.autograd.grad((x * x).sum(), x)
    assert calls == []
    (x * 3).sum().backward(inputs=[x])
    np.testing.assert_array_equal(calls[0], np.full(4, 3, np.float16))
    handle.remove()
    (x * 3).sum().backward()
    assert len(calls) == 1


def test_bad_registrations_and_results_raise(device):
    x = tl.tensor([1.0, 2.0], device=device)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        x.register_post_accumulate_grad_hook(lambda t: None)
    x.requires_grad_()
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    x.register_post_accumulate_grad_hook(lambda t: t.grad)
    with pytest.raises(RuntimeError, match="should return None"):
        (x * 2).sum().backward()


def test_a_hook_changing_grad_in_place_leaves_other_gradients_alone(device, rng):
    """(h + b)'s backward hands b and h the same gradient; b's hook runs while h's backward is pending."""
    values = [rng.uniform(-1, 1, 4).astype(np.float16) for _ in range(3)]
    grads = {}

    def zero(t):
        t.grad.mul_(0)
    for lib, kw in ((tl, {"device": device}), (torch, {})):
        x, w, b = _leaves(lib, [v.astype(np.float32) if lib is torch else v for v in values], **kw)
        b.register_post_accumulate_grad_hook(zero)
        ((x * w + b) * 3).sum().backward()
        grads[lib] = [np.asarray(t.grad.detach().cpu().numpy(), np.float64) for t in (x, w, b)]
    for ours, theirs in zip(grads[tl], grads[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=4e-3, atol=4e-3)
