"""Module forward hooks, nn.utils.weight_norm (the pre-hook form), nn.utils.parametrize and
nn.utils.parametrizations.weight_norm against PyTorch: the same scenario written once against a module `torch`
gives the same call trace; weight-normalised layers have PyTorch's state_dict keys and shapes, load its
checkpoints, and match its outputs, gradients and optimizer steps (float64 oracle on f16-rounded weights)."""
import copy

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_to_largest, host


def _hook_trace(lib):
    """What forward pre-hooks and hooks see and change, in the order they run, as a list of strings."""
    nn, trace = lib.nn, []

    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            trace.append(f"forward factor={factor}")
            return x * factor

    m = Scale()
    h1 = m.register_forward_pre_hook(lambda mod, args: trace.append(f"pre {len(args)}"))
    m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # a non-tuple result becomes the args
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, args: trace.append("pre first"), prepend=True)
    h2 = m.register_forward_hook(lambda mod, args, out: out * 2)
    m.register_forward_hook(lambda mod, args, kwargs, out: trace.append(f"post {kwargs} {out.tolist()}"),
                            with_kwargs=True)
    trace.append(f"out {m(lib.tensor([1.0, 2.0])).tolist()}")
    h1.remove()
    h2.remove()
    h2.remove()  # a second remove does nothing
    trace.append(f"out {m(lib.tensor([1.0])).tolist()}")

    class Fails(nn.Module):
        def forward(self, x):
            raise KeyError("no")

    bad = Fails()
    bad.register_forward_hook(lambda mod, args, out: trace.append(f"always {out}"), always_call=True)
    bad.register_forward_hook(lambda mod, args, out: trace.append("not called"))
    try:
        bad(lib.ones(1))
    except KeyError:
        trace.append("raised")
    seq = nn.Sequential(nn.Identity(), nn.Identity())
    seq[1].register_forward_hook(lambda mod, args, out: trace.append("child hook"))
    seq(lib.ones(1))
    return trace


def test_forward_hooks_like_torch():
    assert _hook_trace(tl) == _hook_trace(torch)


def test_hook_errors():
    m = tl.nn.Identity()
    with pytest.raises(TypeError, match="callable"):
        m.register_forward_hook(3)
    m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="new_args, new_kwargs"):
        m(tl.ones(1))


def _layer(lib, kind):
    torch.manual_seed(0)
    return lib.nn.Linear(5, 3) if kind == "linear" else lib.nn.Conv1d(2, 4, 3)


def _loaded(kind, apply):
    """(torch layer with float64 f16-rounded weights, our layer with the same), both passed through apply(nn, m)
    after loading; and an input for them."""
    theirs, ours = _layer(torch, kind), _layer(tl, kind)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(p.half().float())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    theirs = apply(torch.nn, theirs.double())
    ours = apply(tl.nn, ours)
    x = np.random.default_rng(1).standard_normal((2, 5) if kind == "linear" else (2, 2, 7)).astype(np.float16)
    return theirs, ours, x


def _compare_forward_backward(theirs, ours, x, device):
    ours.to(device)
    got, want = ours(tl.tensor(x, device=device)), theirs(torch.tensor(x.astype(np.float64)))
    assert_close_to_largest(got, want.detach().numpy(), ulps=4)
    g = np.random.default_rng(2).standard_normal(tuple(want.shape)).astype(np.float16)
    (got * tl.tensor(g, device=device)).sum().backward()
    (want * torch.tensor(g.astype(np.float64))).sum().backward()
    theirs_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close_to_largest(p.grad, theirs_grads[name].grad.numpy(), ulps=8)


WEIGHT_NORMS = {"hook": lambda nn, m, dim: nn.utils.weight_norm(m, dim=dim),
                "parametrizations": lambda nn, m, dim: nn.utils.parametrizations.weight_norm(m, dim=dim)}


@pytest.mark.filterwarnings("ignore::FutureWarning")  # PyTorch deprecates the hook form
@pytest.mark.parametrize("form", list(WEIGHT_NORMS))
@pytest.mark.parametrize("kind", ["linear", "conv1d"])
@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
def test_weight_norm_against_torch(device, form, kind, dim):
    theirs, ours, x = _loaded(kind, lambda nn, m: WEIGHT_NORMS[form](nn, m, dim))
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert type(ours).__name__ == type(theirs).__name__ and isinstance(ours, tl.nn.Linear if kind == "linear"
                                                                      else tl.nn.Conv1d)
    for key, value in theirs.state_dict().items():  # g is the norm PyTorch computes, within one f16 rounding
        assert_close_to_largest(ours.state_dict()[key], value.numpy(), ulps=2)
    _compare_forward_backward(theirs, ours, x, device)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("form", list(WEIGHT_NORMS))
def test_weight_norm_trains_like_torch(form):
    """Three Adam steps on the weight-normalised layer: g and v follow PyTorch's."""
    theirs, ours, x = _loaded("linear", lambda nn, m: WEIGHT_NORMS[form](nn, m, 0))
    opt_t, opt_l = torch.optim.Adam(theirs.parameters(), lr=0.01), tl.optim.Adam(ours.parameters(), lr=0.01)
    for _ in range(3):
        for model, opt, lib, dtype in ((theirs, opt_t, torch, torch.float64), (ours, opt_l, tl, None)):
            opt.zero_grad()
            (model(lib.tensor(x.astype(np.float64), dtype=dtype)) ** 2).mean().backward()
            opt.step()
    for key, value in theirs.state_dict().items():
        assert_close_to_largest(ours.state_dict()[key], value.numpy(), ulps=8)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_weight_norm_hook_remove_and_errors():
    m = tl.nn.utils.weight_norm(tl.nn.Linear(4, 3))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        tl.nn.utils.weight_norm(m)
    with pytest.raises(AttributeError, match="no parameter 'bias2'"):
        tl.nn.utils.weight_norm(tl.nn.Linear(4, 3), name="bias2")
    with pytest.raises(IndexError, match="out of range"):
        tl.nn.utils.weight_norm(tl.nn.Linear(4, 3), dim=2)
    with tl.no_grad():
        m.weight_g.mul_(2.0)  # the hook recomputes the weight from g at the next call
    x = tl.ones(1, 4)
    before = host(m(x))
    tl.nn.utils.remove_weight_norm(m)
    assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight"] and not m._forward_pre_hooks
    np.testing.assert_array_equal(host(m(x)), before)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        tl.nn.utils.remove_weight_norm(m)


class Symmetric(tl.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class Double(tl.nn.Module):
    def forward(self, x):
        return 2 * x

    def right_inverse(self, a):
        return a / 2


def test_register_parametrization():
    P = tl.nn.utils.parametrize
    m = tl.nn.Linear(3, 3)
    original = m.weight
    P.register_parametrization(m, "weight", Symmetric())
    w = host(m.weight)
    np.testing.assert_array_equal(w, w.T)
    assert m.parametrizations.weight.original is original  # an optimizer holding it stays valid
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert P.type_before_parametrizations(m) is tl.nn.Linear and type(m).__name__ == "ParametrizedLinear"
    assert type(tl.nn.Linear(2, 2)) is tl.nn.Linear  # other Linears keep their class
    P.register_parametrization(m, "weight", Double())  # chained: Double(Symmetric(original))
    np.testing.assert_array_equal(host(m.weight), 2 * w)
    target = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]], np.float16)
    m.weight = tl.tensor(target)  # right_inverse of each, last first
    np.testing.assert_array_equal(host(m.weight), target)
    with P.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    clone = copy.deepcopy(m)
    with tl.no_grad():
        clone.parametrizations.weight.original.zero_()
    np.testing.assert_array_equal(host(m.weight), target)
    P.remove_parametrizations(m, "weight")
    assert type(m) is tl.nn.Linear and "parametrizations" not in dict(m.named_children())
    assert m.weight is original and isinstance(m.weight, tl.nn.Parameter)
    np.testing.assert_array_equal(host(m.weight), target)


def test_parametrize_buffer_and_state_dict():
    P = tl.nn.utils.parametrize
    m = tl.nn.BatchNorm1d(3)
    P.register_parametrization(m, "running_var", Double())
    assert "parametrizations.running_var.original" in m.state_dict()
    assert not any("running_var" in n for n, _ in m.named_parameters())
    P.remove_parametrizations(m, "running_var", leave_parametrized=False)
    assert "running_var" in dict(m.named_buffers())


def test_parametrize_errors():
    P = tl.nn.utils.parametrize

    class Shrink(tl.nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(tl.nn.Linear(2, 2), "kernel", Double())
    with pytest.raises(ValueError, match="may not change the dtype or shape"):
        P.register_parametrization(tl.nn.Linear(2, 2), "weight", Shrink())
    m = P.register_parametrization(tl.nn.Linear(2, 2), "weight", Shrink(), unsafe=True)
    assert tuple(m.weight.shape) == (1, 2)
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = tl.zeros(1, 2)
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        P.remove_parametrizations(m, "bias")
    n = tl.nn.utils.parametrizations.weight_norm(tl.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(n, "weight", leave_parametrized=False)
    P.remove_parametrizations(n, "weight")
    assert type(n) is tl.nn.Linear and tuple(n.weight.shape) == (2, 2)


def test_module_dict_delete_and_pop():
    d = tl.nn.ModuleDict({"a": tl.nn.Linear(1, 1), "b": tl.nn.ReLU()})
    relu = d.pop("b")
    assert isinstance(relu, tl.nn.ReLU) and list(d.keys()) == ["a"]
    del d["a"]
    assert len(d) == 0 and list(d.parameters()) == []
    with pytest.raises(KeyError):
        d.pop("a")
