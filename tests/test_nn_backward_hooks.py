"""Module backward hooks (register_full_backward_hook, register_full_backward_pre_hook) and the global module hooks
of nn.modules.module against PyTorch: the same scenario, written once against a module `lib` (torch or
tensorlogic) on the same f16-rounded weights and inputs, gives the same trace of hook calls (order, which
arguments are None, the gradients' values) and the same gradients after hooks replace some."""
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import compiler
from oracle import assert_close_f16, f16_randn, host


def _array(lib, t):
    if t is None:
        return None
    return t.detach().numpy() if lib is torch else host(t)


class _Scenario:
    """A model and inputs built the same way in either library, and the trace its hooks leave."""

    def __init__(self, lib, weights, x, device):
        nn, self.lib, self.trace = lib.nn, lib, []
        dev = {} if lib is torch else {"device": device}

        class Split(nn.Module):
            """Two outputs from a tensor that requires grad, one that does not, an int index and a scalar."""

            def forward(self, a, b, index, scale):
                return a[index] * scale, (a * b).tanh()

        self.linear, self.split = nn.Linear(4, 4), Split()
        self.linear.load_state_dict({k: lib.tensor(v, **dev) for k, v in weights.items()})
        self.x = lib.tensor(x, requires_grad=True, **dev)
        self.b = lib.tensor(x[::-1].copy(), **dev)
        self.index = lib.tensor([2, 0, 1], **dev)

    def record(self, label, *groups):
        self.trace.append((label, [[_array(self.lib, g) for g in group] for group in groups]))

    def hook(self, label, replace=None):
        def full(module, grad_input, grad_output):
            self.record(label, grad_input, grad_output)
            return replace(grad_input) if replace else None
        return full

    def pre_hook(self, label, replace=None):
        def pre(module, grad_output):
            self.record(label, grad_output)
            return replace(grad_output) if replace else None
        return pre

    def run(self, gy):
        h = self.linear(self.x)
        first, second = self.split(h, self.b, self.index, 3.0)
        (first.sum() * 0.5 + (second * self.lib.tensor(gy, device=second.device)).sum()).backward()
        return [_array(self.lib, t.grad) for t in (self.x, self.linear.weight, self.linear.bias)]


def _both(rng, device, setup):
    """(trace, gradients) of each library after setup(scenario) registers its hooks."""
    weights = {"weight": f16_randn(rng, (4, 4)), "bias": f16_randn(rng, (4,))}
    x, gy = f16_randn(rng, (3, 4)), f16_randn(rng, (3, 4))
    out = []
    for lib in (torch, tl):
        s = _Scenario(lib, {k: v.astype(np.float32) if lib is torch else v for k, v in weights.items()},
                      x.astype(np.float32) if lib is torch else x, device)
        handles = setup(s) or ()
        try:
            grads = s.run(gy.astype(np.float32) if lib is torch else gy)
        finally:
            for handle in handles:
                handle.remove()
        out.append((s.trace, grads))
    return out


def _assert_same(theirs, ours):
    (trace_t, grads_t), (trace_l, grads_l) = theirs, ours
    assert [label for label, _ in trace_l] == [label for label, _ in trace_t]
    for (label, groups_l), (_, groups_t) in zip(trace_l, trace_t):
        assert [[g is None for g in group] for group in groups_l] == [[g is None for g in group] for group in groups_t]
        for group_l, group_t in zip(groups_l, groups_t):
            for g_l, g_t in zip(group_l, group_t):
                if g_t is not None:
                    assert g_l.dtype.kind == g_t.dtype.kind, label
                    assert_close_f16(g_l, g_t, rtol=4e-3, atol=4e-3)
    for g_l, g_t in zip(grads_l, grads_t):
        assert_close_f16(g_l, g_t, rtol=4e-3, atol=4e-3)


def test_hook_order_and_arguments_like_torch(rng, device):
    """Pre-hooks run when the outputs' gradients are known, full hooks when the inputs' are: the later module's
    first. grad_output has None for an output that got no gradient; grad_input has None for a non-tensor argument
    and zeros for a tensor that does not require grad (an int index too, of its dtype)."""
    def setup(s):
        s.split.register_full_backward_pre_hook(s.pre_hook("split pre"))
        s.split.register_full_backward_hook(s.hook("split full"))
        s.linear.register_full_backward_hook(s.hook("linear full"))
        s.linear.register_full_backward_pre_hook(s.pre_hook("linear pre"))
        s.linear.register_full_backward_pre_hook(s.pre_hook("linear pre first"), prepend=True)
    _assert_same(*_both(rng, device, setup))


def test_hooks_replace_gradients_like_torch(rng, device):
    """A pre-hook's result replaces grad_output before it flows into the module; a full hook's result replaces
    grad_input (None stops a gradient); later hooks see what earlier ones returned."""
    def setup(s):
        s.split.register_full_backward_pre_hook(s.pre_hook("scale", lambda go: (go[0] * 2, go[1] * -1)))
        s.split.register_full_backward_hook(s.hook("drop b", lambda gi: (gi[0] * 0.5, None, None, None)))
        s.split.register_full_backward_hook(s.hook("sees"))
        s.linear.register_full_backward_hook(s.hook("input", lambda gi: (gi[0] + 1,)))
    _assert_same(*_both(rng, device, setup))


def test_global_hooks_and_handles_like_torch(rng, device):
    """Global hooks run for every module before its own (forward pre-hooks and hooks too); a removed handle stops
    its hook, and a second remove does nothing."""
    def setup(s):
        glob = s.lib.nn.modules.module
        s.linear.register_full_backward_hook(s.hook("removed")).remove()
        s.split.register_full_backward_hook(s.hook("own"))
        handle = s.split.register_full_backward_pre_hook(s.pre_hook("removed pre"))
        handle.remove()
        handle.remove()
        return [glob.register_module_full_backward_hook(s.hook("global full")),
                glob.register_module_full_backward_pre_hook(s.pre_hook("global pre")),
                glob.register_module_forward_hook(lambda m, args, out: s.record(f"forward {type(m).__name__}")),
                glob.register_module_forward_pre_hook(lambda m, args: s.record(f"forward pre {len(args)}"))]
    _assert_same(*_both(rng, device, setup))
    calls = []
    tl.nn.modules.module.register_module_full_backward_hook(lambda *a: calls.append(1)).remove()
    tl.nn.Linear(2, 2)(tl.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == []


def _unused_parts(lib, record, x):
    """A module whose second output gets no gradient and whose second input is not used."""
    class Pair(lib.nn.Module):
        def forward(self, a, unused):
            return a * 2, a * 3

    m = Pair()
    m.register_full_backward_pre_hook(lambda mod, go: record("pre", go))
    m.register_full_backward_hook(lambda mod, gi, go: record("full", gi, go))
    a, u = lib.tensor(x, requires_grad=True), lib.tensor(x[:1], requires_grad=True)
    first, _ = m(a, u)
    first.sum().backward()
    record("grads", (a.grad, u.grad))


def _no_input_requires_grad(lib, record, x):
    m = lib.nn.Linear(x.shape[1], 2)
    m.register_full_backward_hook(lambda mod, gi, go: record("full", gi, go))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m(lib.tensor(x)).sum().backward()
    record(f"warned {any('no inputs require gradients' in str(w.message) for w in caught)}")


def _retained_and_reused(lib, record, x):
    """Each call has its own hooks' state: a module called twice runs its hooks once per call, and a second
    backward through a retained graph runs them again."""
    m = lib.nn.Tanh()
    m.register_full_backward_hook(lambda mod, gi, go: record("full", gi, go))
    a = lib.tensor(x, requires_grad=True)
    loss = (m(a) * m(a * 2)).sum()
    loss.backward(retain_graph=True)
    loss.backward()


@pytest.mark.parametrize("scenario", [_unused_parts, _no_input_requires_grad, _retained_and_reused])
def test_scenarios_like_torch(rng, scenario):
    x = f16_randn(rng, (3, 4))
    traces = []
    for lib in (torch, tl):
        trace = []

        def record(label, *groups, lib=lib, trace=trace):
            trace.append((label, [[_array(lib, g) for g in group] for group in groups]))
        scenario(lib, record, x.astype(np.float32) if lib is torch else x)
        traces.append(trace)
    theirs, ours = traces
    if scenario is _no_input_requires_grad:  # the weights differ: compare which gradients are there
        assert [(label, [[g is None for g in group] for group in groups]) for label, groups in ours] == \
            [(label, [[g is None for g in group] for group in groups]) for label, groups in theirs]
        return
    _assert_same((theirs, []), (ours, []))


def test_hook_results_checked():
    x = tl.ones(2, 3, requires_grad=True)
    cases = [(lambda m, gi, go: (gi[0], gi[0]), RuntimeError, "invalid number of grad_input, got 2, but expected 1"),
             (lambda m, gi, go: (5,), TypeError, "Tensor or None"),
             (lambda m, gi, go: (tl.ones(3),), RuntimeError, r"changed gradient 0 from shape \(2, 3\)"),
             (lambda m, gi, go: gi[0], TypeError, "a tuple of grad_input")]
    for hook, error, words in cases:
        m = tl.nn.Tanh()
        m.register_full_backward_hook(hook)
        with pytest.raises(error, match=words):
            m(x).sum().backward()
    m = tl.nn.Tanh()
    m.register_full_backward_pre_hook(lambda mod, go: (go[0], 1))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
        m(x).sum().backward()
    m = tl.nn.Linear(3, 1)
    m.register_full_backward_hook(lambda mod, gi, go: (tl.ones(2, 3),))
    with pytest.warns(UserWarning, match="no inputs require gradients"), \
            pytest.raises(RuntimeError, match="should always return None or None for all gradients"):
        m(tl.ones(2, 3)).sum().backward()
    with pytest.raises(TypeError, match="callable"):
        m.register_full_backward_hook(3)


def test_in_place_on_hooked_tensors_raises_as_torch():
    """The hooked inputs and outputs share memory with the tensors they stand for: in place ops on them raise
    PyTorch's error, before any change."""
    for lib in (torch, tl):
        m = lib.nn.Linear(3, 3)
        m.register_full_backward_hook(lambda *a: None)
        out = m(lib.ones(2, 3, requires_grad=True))
        with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view and is being modified"):
            out.mul_(2)

        class Doubles(lib.nn.Module):
            def forward(self, a):
                return a.mul_(2)

        d = Doubles()
        d.register_full_backward_pre_hook(lambda *a: None)
        x = lib.ones(2, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
            d(x)
        assert x.tolist() == [1.0, 1.0]


def test_when_hooks_do_not_run():
    """No identity nodes under no_grad (the output does not require grad); an output that is not a tensor or a
    tuple warns and runs no hook."""
    calls = []
    m = tl.nn.Tanh()
    m.register_full_backward_hook(lambda *a: calls.append("full"))
    with tl.no_grad():
        assert not m(tl.ones(2, requires_grad=True)).requires_grad

    class Dict(tl.nn.Module):
        def forward(self, a):
            return {"out": a * 2}

    d = Dict()
    d.register_full_backward_hook(lambda *a: calls.append("dict"))
    with pytest.warns(UserWarning, match="should be a Tensor or a tuple of Tensors"):
        out = d(tl.ones(2, requires_grad=True))
    out["out"].sum().backward()
    assert calls == []
    with pytest.raises(NotImplementedError, match="register_full_backward_hook"):
        m.register_backward_hook(lambda *a: None)
    with pytest.raises(NotImplementedError, match="register_module_full_backward_hook"):
        tl.nn.modules.module.register_module_backward_hook(lambda *a: None)


def test_compiled_training_call_with_hooks_runs_eagerly():
    calls = []
    m = tl.nn.Sequential(tl.nn.Linear(3, 3), tl.nn.Tanh())
    m[0].register_full_backward_hook(lambda mod, gi, go: calls.append(len(gi)))
    compiled = tl.compile(m)
    x = tl.ones(2, 3, requires_grad=True)
    with pytest.warns(compiler.CompileWarning, match="backward hooks"):
        compiled(x).sum().backward()
    compiled(x).sum().backward()
    assert calls == [1, 1]
