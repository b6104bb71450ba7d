"""nn.utils.spectral_norm (the forward pre-hook form) and nn.utils.parametrizations.spectral_norm against PyTorch:
the same state_dict keys and shapes; from the same f16-rounded weights and power-iteration vectors (loaded from
PyTorch's float64 module), the same vectors after each training step, the same normalised weights, outputs and
gradients in training and evaluation mode; checkpoints load both ways; removal leaves the normalised weight."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest, f16_randn, host

FORMS = {"hook": lambda nn, m, **kw: nn.utils.spectral_norm(m, **kw),
         "parametrizations": lambda nn, m, **kw: nn.utils.parametrizations.spectral_norm(m, **kw)}
KINDS = {"linear": (lambda nn: nn.Linear(5, 3), (2, 5)),
         "conv2d": (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
         "conv_transpose1d": (lambda nn: nn.ConvTranspose1d(3, 2, 3), (2, 3, 4))}  # dim 1 by default


def _with_spectral_gap(module, dim):
    """The largest singular value of the weight (seen as a matrix along dim) made at least twice the next. Where the
    two are close the power iteration's vectors hardly converge, and f16 rounding moves them, and the gradients
    through them, by about 11 ulps (seed 620242875): a conditioning problem of the input, not an error of either."""
    with torch.no_grad():
        w = module.weight.double().movedim(dim, 0)
        u, s, vh = torch.linalg.svd(w.reshape(w.shape[0], -1), full_matrices=False)
        s[0] = torch.maximum(s[0], 2 * s[1])
        module.weight.copy_(((u * s) @ vh).reshape(w.shape).movedim(0, dim))
    return module


def _pair(rng, form, kind, **kw):
    """(PyTorch's module in float64, ours) with the same f16-rounded state, and an f16 input."""
    make, shape = KINDS[kind]
    dim = kw.get("dim", 1 if kind.startswith("conv_transpose") else 0)
    theirs = FORMS[form](torch.nn, _with_spectral_gap(make(torch.nn), dim), **kw).double()
    with torch.no_grad():
        for t in theirs.state_dict().values():
            t.copy_(t.half().double())  # u and v rounded too: both start from the same vectors
    ours = FORMS[form](tl.nn, make(tl.nn), **kw)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return theirs, ours, f16_randn(rng, shape)


def _weight(module, form):
    return getattr(module, "weight") if form == "parametrizations" else module.weight


def _assert_state_close(ours, theirs, ulps=4):
    for key, value in theirs.state_dict().items():
        assert_close_to_largest(ours.state_dict()[key], value.numpy(), ulps=ulps)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_state_dict_keys_like_torch(form, kind):
    make, _ = KINDS[kind]
    theirs, ours = FORMS[form](torch.nn, make(torch.nn)), FORMS[form](tl.nn, make(tl.nn))
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert type(ours).__name__ == type(theirs).__name__
    u = ours.state_dict()["weight_u" if form == "hook" else "parametrizations.weight.0._u"]
    np.testing.assert_allclose(np.linalg.norm(host(u).astype(np.float64)), 1.0, atol=2e-3)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_training_and_evaluation_like_torch(rng, device, form, kind):
    """Three training steps (each stepping the power iteration, then backward), then evaluation (vectors fixed)."""
    theirs, ours, x = _pair(rng, form, kind, n_power_iterations=2)
    ours.to(device)
    for step in range(4):
        if step == 3:
            theirs.eval(), ours.eval()
        got, want = ours(tl.tensor(x, device=device)), theirs(torch.tensor(x.astype(np.float64)))
        assert_close_to_largest(got, want.detach().numpy(), ulps=4)
        assert_close_to_largest(_weight(ours, form), _weight(theirs, form).detach().numpy(), ulps=4)
        _assert_state_close(ours, theirs)
        g = f16_randn(rng, tuple(want.shape))
        ours.zero_grad(), theirs.zero_grad()
        (got * tl.tensor(g, device=device)).sum().backward()
        (want * torch.tensor(g.astype(np.float64))).sum().backward()
        theirs_grads = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert_close_to_largest(p.grad, theirs_grads[name].grad.numpy(), ulps=4)
    before = {k: host(v) for k, v in ours.state_dict().items()}
    ours(tl.tensor(x, device=device))
    assert all(np.array_equal(host(v), before[k]) for k, v in ours.state_dict().items())  # eval: no iteration


@pytest.mark.parametrize("form", list(FORMS))
def test_options_like_torch(rng, form):
    """dim, eps and several power iterations per step, on a conv weight seen along its second dimension."""
    theirs, ours, x = _pair(rng, form, "conv2d", n_power_iterations=3, dim=1, eps=1e-4)
    for _ in range(2):
        got, want = ours(tl.tensor(x)), theirs(torch.tensor(x.astype(np.float64)))
        assert_close_to_largest(got, want.detach().numpy(), ulps=4)
        _assert_state_close(ours, theirs)


@pytest.mark.parametrize("form", list(FORMS))
def test_checkpoints_load_both_ways(rng, form):
    """A trained module's state_dict loads into a fresh module of the other library (strictly), and both compute
    the same output in evaluation mode."""
    theirs, ours, x = _pair(rng, form, "linear")
    ours(tl.tensor(x)), theirs(torch.tensor(x.astype(np.float64)))  # a training step moves u and v
    fresh_theirs = FORMS[form](torch.nn, torch.nn.Linear(5, 3)).double().eval()
    fresh_theirs.load_state_dict({k: torch.tensor(host(v).astype(np.float64)) for k, v in ours.state_dict().items()})
    fresh_ours = FORMS[form](tl.nn, tl.nn.Linear(5, 3)).eval()
    fresh_ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    want = fresh_theirs(torch.tensor(x.astype(np.float64))).detach().numpy()
    assert_close_to_largest(fresh_ours(tl.tensor(x)), want, ulps=4)
    assert_close_to_largest(ours.eval()(tl.tensor(x)), want, ulps=4)


def test_remove_leaves_the_normalised_weight(rng):
    theirs, ours, x = _pair(rng, "hook", "linear")
    ours(tl.tensor(x)), theirs(torch.tensor(x.astype(np.float64)))
    tl.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["bias", "weight"]
    assert not ours._forward_pre_hooks and list(ours.state_dict()) == list(theirs.state_dict())
    assert_close_to_largest(ours.weight, theirs.weight.detach().numpy(), ulps=4)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        tl.nn.utils.remove_spectral_norm(ours)
    theirs, ours, x = _pair(rng, "parametrizations", "linear")
    ours.eval(), theirs.eval()  # (in training mode, reading the weight on removal would step the iteration)
    tl.nn.utils.parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours) is tl.nn.Linear and list(ours.state_dict()) == list(theirs.state_dict())
    assert_close_to_largest(ours.weight, theirs.weight.detach().numpy(), ulps=4)


def test_vector_parametrization_is_its_direction(rng):
    m = tl.nn.utils.parametrizations.spectral_norm(tl.nn.Linear(4, 3), name="bias")
    b = host(m.parametrizations.bias.original).astype(np.float64)
    assert_close_f16(m.bias, b / np.linalg.norm(b))
    assert list(m.state_dict()) == ["weight", "parametrizations.bias.original"]


def test_errors():
    m = tl.nn.utils.spectral_norm(tl.nn.Linear(4, 3))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        tl.nn.utils.spectral_norm(m)
    for form in FORMS.values():
        with pytest.raises(ValueError, match="n_power_iterations to be positive"):
            form(tl.nn, tl.nn.Linear(4, 3), n_power_iterations=0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            form(tl.nn, tl.nn.Linear(4, 3), dim=2)
    with pytest.raises(KeyError):
        tl.nn.utils.spectral_norm(tl.nn.Linear(4, 3), name="kernel")
    with pytest.raises(ValueError, match="no parameter or buffer with name 'kernel'"):
        tl.nn.utils.parametrizations.spectral_norm(tl.nn.Linear(4, 3), name="kernel")
    with pytest.raises(ValueError, match="cannot be applied as parameter `bias` is None"):
        tl.nn.utils.spectral_norm(tl.nn.Linear(4, 3, bias=False), name="bias")
