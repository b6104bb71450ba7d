"""The fused backward kernels of layer_norm / rms_norm and softmax cross-entropy, on every device, against
PyTorch's float64 gradients on the same f16 inputs; and against the composed form that create_graph takes."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn.functional as F
from tensorlogic import _core
from oracle import assert_grad_close, f16_randn
from tensorlogic.tensor import _wrap


@pytest.mark.parametrize("shape,normalized", [((4, 1), (1,)), ((37, 3, 50), (3, 50)), ((5, 8, 2304), (2304,)),
                                              ((40, 8), (8,)), ((20, 2, 256), (2, 256)), ((2500, 768), (768,)),
                                              ((9, 1024), (1024,))])
@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [False, True])
def test_norm_backward(device, rng, shape, normalized, rms, affine):
    x, g = f16_randn(rng, shape, 2.0), f16_randn(rng, shape)
    w, b = f16_randn(rng, normalized), f16_randn(rng, normalized)
    ours = [tl.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in (x, w, b)]

    def run(lib, fn, t):
        weight, bias = (t[1], t[2]) if affine else (None, None)
        if rms:
            return lib.rms_norm(t[0], normalized, weight, eps=1e-5)
        return lib.layer_norm(t[0], normalized, weight, bias)

    run(F, None, ours).backward(tl.tensor(g, device=device))
    run(torch.nn.functional, None, theirs).backward(torch.tensor(g.astype(np.float64)))
    for i, what in enumerate(["x", "weight", "bias"][: (2 if rms else 3) if affine else 1]):
        assert_grad_close(ours[i].grad, theirs[i].grad, 2e-2, f"{'rms' if rms else 'layer'}_norm d{what}")


def test_norm_backward_of_a_view_at_an_unaligned_offset(device, rng):
    # rows of 16-byte vectors that do not start on a 16-byte boundary take the general kernels on the GPU
    flat = f16_randn(rng, (1 + 6 * 64,), 2.0)
    g = f16_randn(rng, (6, 64))
    x = tl.tensor(flat, device=device)[1:].view(6, 64).detach().requires_grad_()
    w = tl.tensor(f16_randn(rng, (64,)), device=device, requires_grad=True)
    tx = torch.tensor(flat[1:].reshape(6, 64).astype(np.float64), requires_grad=True)
    tw = torch.tensor(w.detach().numpy().astype(np.float64), requires_grad=True)
    F.layer_norm(x, (64,), w).backward(tl.tensor(g, device=device))
    torch.nn.functional.layer_norm(tx, (64,), tw).backward(torch.tensor(g.astype(np.float64)))
    assert_grad_close(x.grad, tx.grad, 2e-2, "layer_norm dx")
    assert_grad_close(w.grad, tw.grad, 2e-2, "layer_norm dweight")


def test_norm_backward_equals_the_composed_form(device, rng):
    x, g = f16_randn(rng, (6, 40)), f16_randn(rng, (6, 40))
    t = tl.tensor(x, device=device, requires_grad=True)
    (fused,) = tl.autograd.grad(F.layer_norm(t, (40,)), t, tl.tensor(g, device=device))
    (composed,) = tl.autograd.grad(F.layer_norm(t, (40,)), t, tl.tensor(g, device=device), create_graph=True)
    np.testing.assert_allclose(fused.numpy().astype(np.float32), composed.detach().numpy().astype(np.float32),
                               rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("classes", [1, 10, 5000, 4099])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_backward(device, rng, classes, smoothing, reduction):
    rows = 33
    logits = f16_randn(rng, (rows, classes), 3.0)
    target = rng.integers(0, classes, rows)
    target[rng.integers(0, rows, 4)] = -100  # ignored rows
    ours = tl.tensor(logits, device=device, requires_grad=True)
    theirs = torch.tensor(logits.astype(np.float64), requires_grad=True)
    loss = F.cross_entropy(ours, tl.tensor(target, device=device), reduction=reduction, label_smoothing=smoothing)
    ref = torch.nn.functional.cross_entropy(theirs, torch.tensor(target), reduction=reduction,
                                            label_smoothing=smoothing)
    grad = f16_randn(rng, (rows,)) if reduction == "none" else np.array(1.0, np.float16)
    loss.backward(tl.tensor(grad, device=device))
    ref.backward(torch.tensor(grad.astype(np.float64)))
    assert_grad_close(ours.grad, theirs.grad, 2e-2, "cross_entropy dlogits")


@pytest.mark.parametrize("classes", [16, 19])
def test_cross_entropy_backward_infinite_and_nan_logits(device, rng, classes):
    """Rows whose first logits are -inf, that are all -inf, or that hold a NaN among -inf values give PyTorch's
    gradients, NaN rows included (the GPU's online max/sum starts from such groups of 8 or 1)."""
    logits = f16_randn(rng, (4, classes), 3.0)
    logits[0, :8] = -np.inf
    logits[1] = -np.inf
    logits[2, :8] = -np.inf
    logits[2, 1] = np.nan
    target = np.array([9, 3, 10, 5])
    ours = tl.tensor(logits, device=device, requires_grad=True)
    theirs = torch.tensor(logits.astype(np.float64), requires_grad=True)
    F.cross_entropy(ours, tl.tensor(target, device=device), reduction="sum").backward()
    torch.nn.functional.cross_entropy(theirs, torch.tensor(target), reduction="sum").backward()
    got, want = ours.grad.numpy().astype(np.float64), theirs.grad.numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=2e-2, atol=1e-3)


@pytest.mark.parametrize("classes", [7, 3144])
def test_cross_entropy_backward_from_kept_statistics(device, rng, classes):
    """The forward keeps each counted row's log-sum-exp (f32 bits) for the backward, which then reads each row once:
    the gradient equals the one whose backward recomputes them, ignored rows and label smoothing included."""
    rows = 21
    logits = f16_randn(rng, (rows, classes), 4.0)
    target = rng.integers(0, classes, rows)
    target[rng.integers(0, rows, 3)] = -100
    x, t = tl.tensor(logits, device=device), tl.tensor(target, device=device)
    g = tl.tensor(f16_randn(rng, (rows,)), device=device)
    loss, stats = _core.softmax_cross_entropy_keeping_stats(x._a, t._a, -100, 0.1)
    plain = _core.softmax_cross_entropy(x._a, t._a, -100, 0.1)
    np.testing.assert_array_equal(_wrap(loss).numpy(), _wrap(plain).numpy())
    if stats is None:  # a device whose backward is composed keeps none
        return
    counted = target != -100
    lse = _wrap(stats).numpy().view(np.float32)[counted]
    wide = logits.astype(np.float64)[counted]
    top = wide.max(axis=1)
    np.testing.assert_allclose(lse, top + np.log(np.exp(wide - top[:, None]).sum(axis=1)), rtol=1e-6, atol=1e-5)
    kept = _wrap(_core.softmax_cross_entropy_backward(x._a, t._a, g._a, -100, 0.1, stats)).numpy().astype(np.float32)
    again = _wrap(_core.softmax_cross_entropy_backward(x._a, t._a, g._a, -100, 0.1)).numpy().astype(np.float32)
    np.testing.assert_allclose(kept, again, rtol=2e-3, atol=1e-7)
    assert not kept[~counted].any()
    with pytest.raises(tl.ShapeMismatchError, match="saved statistics"):
        _core.softmax_cross_entropy_backward(x._a, t._a, g._a, -100, 0.1, _core.reshape(stats, [rows, 1]))


def test_cross_entropy_mean_with_every_target_ignored_is_nan(device):
    logits = tl.tensor(np.ones((3, 4), np.float16), device=device)
    loss = F.cross_entropy(logits, tl.tensor([-100, -100, -100], device=device))
    assert np.isnan(loss.item())


@pytest.mark.parametrize("shape", [(2500, 768), (37, 3, 50), (9, 1024)])
@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("retain", [False, True])
def test_norm_backward_into_a_residual_streams_gradient(device, rng, monkeypatch, shape, rms, retain):
    """h = 1.5 x; y = h + norm(h) W: h's two gradients are summed by the norm's backward in its own pass
    (backward_into), unless the sum is visible elsewhere (retain_grad keeps it), where the engine adds them."""
    normalized = shape[-1:]
    x, g = f16_randn(rng, shape, 2.0), f16_randn(rng, shape)
    w, b = f16_randn(rng, normalized), f16_randn(rng, normalized)
    mix = f16_randn(rng, normalized)  # (a per-column scale as the residual branch's "f")
    calls = []
    into = tl.ops.rows._Norm.backward_into
    monkeypatch.setattr(tl.ops.rows._Norm, "backward_into", staticmethod(lambda *a: calls.append(1) or into(*a)))

    def run(lib, F_, t, weight, bias, scale):
        h = t * 1.5
        if retain:
            h.retain_grad()
        normed = F_.rms_norm(h, normalized, weight, eps=1e-5) if rms else F_.layer_norm(h, normalized, weight, bias)
        return h, h + normed * scale

    ours = [tl.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in (x, w, b)]
    h, y = run(tl, F, *ours, tl.tensor(mix, device=device))
    th, ty = run(torch, torch.nn.functional, *theirs, torch.tensor(mix.astype(np.float64)))
    (y * tl.tensor(g, device=device)).sum().backward()  # (the root's own gradient is the caller's: never summed into)
    (ty * torch.tensor(g.astype(np.float64))).sum().backward()
    for i, what in enumerate(["x", "weight", "bias"][: 2 if rms else 3]):
        assert_grad_close(ours[i].grad, theirs[i].grad, 2e-2, f"{'rms' if rms else 'layer'}_norm d{what}")
    if retain:
        assert_grad_close(h.grad, th.grad, 2e-2, "the residual stream's gradient")
    assert len(calls) == 1


_ACTIVATIONS = {"gelu": (F.gelu, torch.nn.functional.gelu), "silu": (F.silu, torch.nn.functional.silu),
                "tanh": (tl.tanh, torch.tanh),
                "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                              lambda t: torch.nn.functional.gelu(t, approximate="tanh"))}


def _mlp_grads(lib, act, x, w1, b1, w2, g, extra=None):
    """Gradients of linear(act(linear(x, w1, b1)), w2) (+ extra(h), where given: a second use of the hidden
    pre-activation h) for x, w1, b1, w2."""
    h = lib.nn.functional.linear(x, w1, b1)
    y = lib.nn.functional.linear(act(h), w2)
    if extra is not None:
        y = y + extra(h)
    y.backward(g)
    return [t.grad for t in (x, w1, b1, w2)]


def _leaves(device, arrays):
    return ([tl.tensor(a, device=device, requires_grad=True) for a in arrays],
            [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays])


@pytest.mark.parametrize("activation", sorted(_ACTIVATIONS))
@pytest.mark.parametrize("shape", [(64, 48, 32), (2, 37, 24, 16), (20, 12, 8), (300, 256, 64)])
def test_activation_backward_sums_the_linear_bias_gradient(device, rng, activation, shape):
    # the activation's backward sums its result's columns for the bias gradient of the linear before it (one
    # pass on CUDA and the CPU); against PyTorch float64 on the same inputs, batch dims included
    *batch, hidden, width = shape
    x = f16_randn(rng, (*batch, width))
    w1, b1, w2 = f16_randn(rng, (hidden, width), 0.3), f16_randn(rng, (hidden,)), f16_randn(rng, (width, hidden), 0.3)
    g = f16_randn(rng, (*batch, width))
    ours, theirs = _leaves(device, (x, w1, b1, w2))
    ours_act, theirs_act = _ACTIVATIONS[activation]
    got = _mlp_grads(tl, ours_act, *ours, tl.tensor(g, device=device))
    want = _mlp_grads(torch, theirs_act, *theirs, torch.tensor(g.astype(np.float64)))
    for name, a, b in zip(("dx", "dw1", "db1", "dw2"), got, want):
        assert_grad_close(a, b, 3e-2, f"{activation} {shape} {name}")


def test_activation_column_sums_are_the_sums_of_its_gradient(device, rng):
    g, x = f16_randn(rng, (3, 70, 40)), f16_randn(rng, (3, 70, 40), 2.0)
    got = tl._core.activation_backward_column_sums(tl._core.BinaryOp.gelu_backward,
                                                    tl.tensor(g, device=device)._a, tl.tensor(x, device=device)._a)
    assert got is not None, f"{device}: no fused activation backward"
    dx, sums = (_wrap(a).numpy() for a in got)
    t = tl.tensor(x, device=device, requires_grad=True)
    F.gelu(t).backward(tl.tensor(g, device=device))
    np.testing.assert_array_equal(dx, t.grad.numpy())  # the same kernel math, rounded once
    np.testing.assert_allclose(sums.astype(np.float64), dx.astype(np.float64).reshape(-1, 40).sum(0), rtol=2e-3,
                               atol=1e-2)


@pytest.mark.parametrize("second_use", ["consumer", "hook", "inplace_hook"])
def test_activation_column_sums_follow_later_changes_to_the_gradient(device, rng, second_use):
    # the pre-activation h's gradient changes after the activation's backward made it: another consumer's gradient
    # summed into it (in place, by the engine), a hook replacing it or one changing it in place. The bias gradient
    # must be the changed gradient's column sums, not the kept ones.
    x, g = f16_randn(rng, (40, 16)), f16_randn(rng, (40, 16))
    w1, b1, w2 = f16_randn(rng, (24, 16), 0.3), f16_randn(rng, (24,)), f16_randn(rng, (16, 24), 0.3)
    ours, theirs = _leaves(device, (x, w1, b1, w2))

    def run(lib, t):
        h = lib.nn.functional.linear(t[0], t[1], t[2])
        out = lib.nn.functional.linear(lib.nn.functional.gelu(h), t[3])
        if second_use == "consumer":
            out = out + lib.nn.functional.linear(h * h, t[3])
        elif second_use == "hook":
            h.register_hook(lambda grad: grad * 3.0)
        else:
            h.register_hook(lambda grad: grad.mul_(3.0))
        return out

    run(tl, ours).backward(tl.tensor(g, device=device))
    run(torch, theirs).backward(torch.tensor(g.astype(np.float64)))
    for name, a, b in zip(("dx", "dw1", "db1", "dw2"), (t.grad for t in ours), (t.grad for t in theirs)):
        assert_grad_close(a, b, 3e-2, f"{second_use} {name}")


def test_activation_backward_with_create_graph_stays_differentiable(device, rng):
    # with create_graph the bias gradient comes from the composed (differentiable) form: its own gradient agrees
    x, w, b = f16_randn(rng, (12, 8)), f16_randn(rng, (16, 8), 0.3), f16_randn(rng, (16,))
    ours, theirs = _leaves(device, (x, w, b))

    def run(lib, t):
        out = lib.nn.functional.gelu(lib.nn.functional.linear(t[0], t[1], t[2])).sum()
        (gb,) = lib.autograd.grad(out, t[2], create_graph=True)
        (gb * gb).sum().backward()
        return t[0].grad

    assert_grad_close(run(tl, ours), run(torch, theirs), 3e-2, "d(|db|^2)/dx")
