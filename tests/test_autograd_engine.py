"""The autograd engine on its own (Functions written here on native calls): graph traversal, accumulation,
grad modes, hooks, retain_grad, version checks, autograd.grad, anomaly detection, gradcheck."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.autograd import Function
from tensorlogic.tensor import _wrap


def f16_values(rng, n):
    return rng.standard_normal(n).astype(np.float16)

B = _core.BinaryOp


def _bin(op, a, b):
    return _wrap(_core.binary(op, a._a, b._a))


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _bin(B.mul, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return Mul.apply(g, b), Mul.apply(g, a)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _bin(B.add, a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = _wrap(_core.unary(_core.UnaryOp.exp, a._a))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return Mul.apply(g, y)


def _t(values, requires_grad=False, device="cpu"):
    t = tl.Tensor(np.asarray(values, dtype=np.float16), device=device)
    return t.requires_grad_() if requires_grad else t


def test_accumulates_over_paths_and_calls(device, rng):
    xv, yv = rng.uniform(-2, 2, 5), rng.uniform(-2, 2, 5)
    x, y = _t(xv, True, device), _t(yv, True, device)
    z = Add.apply(Mul.apply(Mul.apply(x, x), y), x)  # x^2 y + x
    z.backward(_t(np.ones(5), device=device))
    xh, yh = xv.astype(np.float16).astype(np.float64), yv.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(x.grad.numpy(), 2 * xh * yh + 1, rtol=3e-3, atol=3e-3)
    np.testing.assert_allclose(y.grad.numpy(), xh * xh, rtol=3e-3, atol=3e-3)
    Mul.apply(x, y).backward(_t(np.ones(5), device=device))  # .grad accumulates across backward calls
    np.testing.assert_allclose(y.grad.numpy(), xh * xh + xh, rtol=3e-3, atol=3e-3)
    assert x.is_leaf and not z.is_leaf and z.grad_fn.name == "Add"


def test_second_derivative_and_hvp(device, rng):
    xv = rng.uniform(-1, 1, 4)
    x = _t(xv, True, device)
    y = Exp.apply(Mul.apply(x, x))  # exp(x^2)
    (g,) = tl.autograd.grad(y, x, _t(np.ones(4), device=device), create_graph=True)
    v = _t(rng.uniform(-1, 1, 4), device=device)
    (hv,) = tl.autograd.grad(g, x, v)  # diagonal Hessian: (2 + 4x^2) exp(x^2)
    xh = xv.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(g.numpy(), 2 * xh * np.exp(xh**2), rtol=5e-3, atol=5e-3)
    np.testing.assert_allclose(hv.numpy(), v.numpy() * (2 + 4 * xh**2) * np.exp(xh**2), rtol=1e-2, atol=1e-2)


def test_grad_does_not_touch_leaves_and_allow_unused(device):
    x, y, w = _t([1.0, 2.0], True, device), _t([3.0, 4.0], True, device), _t([5.0, 6.0], True, device)
    z = Mul.apply(x, y)
    gx, gw = tl.autograd.grad(z, (x, w), _t([1.0, 1.0], device=device), retain_graph=True, allow_unused=True)
    assert gw is None and x.grad is None and y.grad is None
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tl.autograd.grad(z, (x, w), _t([1.0, 1.0], device=device))


def test_grad_of_a_non_leaf_leaves_its_graph_alone(device):
    """autograd.grad w.r.t. a non-leaf captures the gradient reaching it and runs nothing beyond it (PyTorch too): its
    own node's saved tensors stay for a later backward through it."""
    x = _t([0.5, -1.0, 2.0], requires_grad=True, device=device)
    h = Exp.apply(x)
    (g,) = tl.autograd.grad(Mul.apply(h, h), h, grad_outputs=_t([1.0, 1.0, 1.0], device=device))
    np.testing.assert_allclose(g.numpy(), 2 * h.numpy(), rtol=1e-3)
    assert x.grad is None
    h.backward(_t([1.0, 1.0, 1.0], device=device))
    np.testing.assert_allclose(x.grad.numpy(), h.numpy(), rtol=1e-3)


def test_scalar_output_needs_no_gradient_but_vectors_do(device):
    x = _t([3.0], True, device)
    Mul.apply(x, x).backward()
    assert x.grad.item() == 6.0
    with pytest.raises(RuntimeError, match="implicitly"):
        Mul.apply(_t([1.0, 2.0], True, device), _t([1.0, 2.0], device=device)).backward()


@pytest.mark.parametrize("case", ["a * 2.0", "2.0 * a", "a * c", "c * a", "a / 2.0", "a / c"])
def test_products_save_only_what_the_other_gradient_reads(device, rng, case):
    """As PyTorch: a product keeps a factor only for the other factor's gradient and a quotient its numerator only
    for the denominator's, so an in-place op on an operand nothing needs leaves backward valid (a * 2.0 saved a)."""
    x, k = f16_values(rng, 4), f16_values(rng, 4) + 2.0
    grads = []
    for lib, dev in ((torch, "cpu"), (tl, device)):
        leaf = lib.tensor(x, device=dev, requires_grad=True)
        a, c = leaf * 1.0, lib.tensor(k, device=dev)  # c requires no grad
        y = eval(case, {"a": a, "c": c})
        a.add_(1.0)  # its value is read by no gradient: c requires none
        y.sum().backward()
        grads.append(np.asarray(leaf.grad.tolist(), np.float64))
    np.testing.assert_allclose(grads[1], grads[0], rtol=2e-3)


def test_modified_saved_tensor_raises_naming_the_op(device):
    a = _t([1.0, 2.0], True, device)
    b = Mul.apply(a, a)
    c = Mul.apply(b, b)
    _core.binary_scalar_(B.add, b._a, 1.0)
    b._version += 1  # what every in-place op does
    with pytest.raises(RuntimeError, match=r"Mul: .*modified by an in-place operation"):
        c.backward(_t([1.0, 1.0], device=device))
    e = Exp.apply(a)
    e._version += 1  # a saved output counts too
    with pytest.raises(RuntimeError, match="Exp"):
        e.backward(_t([1.0, 1.0], device=device))


def test_backward_twice_needs_retain_graph(device):
    a = _t([1.0, 2.0], True, device)
    c = Mul.apply(a, a)
    c.backward(_t([1.0, 1.0], device=device), retain_graph=True)
    c.backward(_t([1.0, 1.0], device=device))
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        c.backward(_t([1.0, 1.0], device=device))
    d = Add.apply(a, a)  # saves nothing: a second backward is allowed, as in PyTorch
    d.backward(_t([1.0, 1.0], device=device))
    d.backward(_t([1.0, 1.0], device=device))


def test_no_grad_enable_grad_and_decorators(device):
    a = _t([1.0], True, device)
    with tl.no_grad():
        assert not Mul.apply(a, a).requires_grad
        with tl.enable_grad():
            assert Mul.apply(a, a).requires_grad
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()

    @tl.no_grad()
    def f():
        return Mul.apply(a, a)

    assert not f().requires_grad and tl.is_grad_enabled()
    with tl.set_grad_enabled(False):
        assert not Mul.apply(a, a).requires_grad
    assert tl.is_grad_enabled()
    assert not Mul.apply(a.detach(), a.detach()).requires_grad
    assert not Mul.apply(_t([1.0], device=device), _t([2.0], device=device)).requires_grad


def test_hooks_and_retain_grad(device):
    a = _t([1.0, 2.0], True, device)
    seen = []
    a.register_hook(lambda g: seen.append(g.numpy().copy()))
    b = Mul.apply(a, a)
    b.retain_grad()
    handle = b.register_hook(lambda g: Mul.apply(g, _t([10.0, 10.0], device=device)))
    Mul.apply(b, _t([1.0, 1.0], device=device)).backward(_t([1.0, 1.0], device=device))
    np.testing.assert_array_equal(b.grad.numpy(), [10.0, 10.0])
    np.testing.assert_array_equal(a.grad.numpy(), [20.0, 40.0])
    np.testing.assert_array_equal(seen[0], [20.0, 40.0])
    handle.remove()
    a.grad = None
    b2 = Mul.apply(a, a)
    b2.backward(_t([1.0, 1.0], device=device))
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0])


def test_detach_and_requires_grad_rules(device):
    a = _t([1.0], True, device)
    b = Mul.apply(a, a)
    d = b.detach()
    assert not d.requires_grad and d.grad_fn is None and d._a.data_ptr() == b._a.data_ptr()
    with pytest.raises(RuntimeError, match="not a leaf"):
        b.requires_grad_(False)
    with pytest.raises(RuntimeError, match="int32"):
        tl.tensor(np.array([1], dtype=np.int32)).requires_grad_()
    b.detach_()
    assert b.is_leaf and not b.requires_grad


def test_grads_given_to_several_leaves_are_independent(device):
    a, b = _t([1.0], True, device), _t([2.0], True, device)
    Add.apply(a, b).backward(_t([1.0], device=device))
    assert a.grad is not b.grad and a.grad._a.data_ptr() != b.grad._a.data_ptr()


def test_detect_anomaly_names_the_op(device):
    big = _t([300.0], True, device)
    with tl.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Mul produced inf or NaN in forward"):
            Mul.apply(Mul.apply(big, big), big)
        x = _t([5.0], True, device)
        y = Exp.apply(x)  # finite: exp(5) = 148
        with pytest.raises(RuntimeError, match="Exp produced inf or NaN in backward"):
            y.backward(_t([1000.0], device=device))  # 1000 * 148 overflows f16 inside Exp's backward (a Mul)
    Mul.apply(Mul.apply(big, big), big)  # outside the context nothing is checked


def test_gradcheck_reports_worst_element(device, rng):
    x = _t(rng.uniform(-1, 1, (3, 2)), True, device)
    y = _t(rng.uniform(-1, 1, (3, 2)), True, device)
    report = tl.autograd.gradcheck(lambda a, b: Mul.apply(Exp.apply(a), b), (x, y),
                                   reference=lambda a, b: np.exp(a) * b)
    assert report and report.worst["error"] <= report.worst["allowed"]
    assert tl.autograd.gradcheck(lambda a, b: Mul.apply(Exp.apply(a), b), (x, y))  # f16 central differences

    class Wrong(Function):
        @staticmethod
        def forward(ctx, a):
            return _wrap(_core.unary(_core.UnaryOp.exp, a._a))

        @staticmethod
        def backward(ctx, g):
            return g  # d exp(x) / dx is not 1

    with pytest.raises(tl.autograd.GradcheckError, match="worst: input 0 element"):
        tl.autograd.gradcheck(Wrong.apply, (x,), reference=np.exp)
    assert not tl.autograd.gradcheck(Wrong.apply, (x,), reference=np.exp, raise_exception=False)


def test_in_place_change_through_a_view_of_a_saved_tensor_is_detected():
    # The version counter belongs to the memory, so a write through any view (or a detached alias)
    # invalidates what backward saved, as in PyTorch.
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y.exp()  # saves its output
    z.detach()[1:].mul_(0.5)
    with pytest.raises(RuntimeError, match="in.place|version|modified"):
        z.sum().backward()
    base = tl.tensor([[1.0, 2.0], [3.0, 4.0]])
    view = base[0]
    before = base._version
    view.add_(1.0)
    assert base._version == before + 1 and view._version == base._version


def test_device_moves_keep_the_graph(device):
    # .to(device) is differentiable (the gradient goes back to the source device); on a CPU-only
    # machine the move is to the same device and returns the tensor itself.
    x = tl.tensor([1.0, -2.0, 3.0], device="cpu", requires_grad=True)
    y = x.to(device)
    assert y.requires_grad
    (y * y).sum().backward()
    assert x.grad.device == tl.device("cpu")
    assert x.grad.tolist() == [2.0, -4.0, 6.0]


def test_retained_grad_follows_an_in_place_change(device, rng):
    """torch: after y.retain_grad() and an in-place op on y, y.grad is the gradient of y's latest version (found by
    tests/fuzz_autograd.py: ours gave the earlier version's)."""
    x0 = rng.standard_normal((2, 3)).astype(np.float16)
    grads = {}
    for lib in (tl, torch):
        x = (tl.tensor(x0, device=device) if lib is tl else torch.tensor(x0.astype(np.float32))).requires_grad_()
        y = x * 3
        y.retain_grad()
        y.mul_(2)
        (y * 5).sum().backward()
        grads[lib.__name__] = [np.asarray(g.detach().cpu().numpy(), dtype=np.float32) for g in (y.grad, x.grad)]
    for ours, theirs in zip(grads["tensorlogic"], grads["torch"]):
        np.testing.assert_array_equal(ours, theirs)
