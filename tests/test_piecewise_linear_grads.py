"""Second derivatives of the activations with linear pieces (ops/piecewise_linear.py and the compositions of
nn/activation_more.py), against PyTorch's float64 autograd on the same f16 inputs: the gradient taken with
create_graph=True depends on the input as PyTorch's does (relu's family: with a zero derivative in it, as PyTorch's
threshold_backward), so differentiating it again gives PyTorch's values where it raised before; and tl's gradcheck
holds on the first derivative as a function of the input and the upstream gradient."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16_randn, twin


def _f(lib):
    return lib.nn.functional


# name: (the function on either library, the inputs' range, the points where its slope jumps)
CASES = {
    "relu": (lambda lib, x: lib.relu(x), 4.0, (0.0,)),
    "F.relu inplace": (lambda lib, x: _f(lib).relu(x * 1, inplace=True), 4.0, (0.0,)),
    "relu_": (lambda lib, x: (x * 1).relu_(), 4.0, (0.0,)),
    "hardtanh": (lambda lib, x: _f(lib).hardtanh(x, -1.5, 2.0), 4.0, (-1.5, 2.0)),
    "hardtanh_": (lambda lib, x: _f(lib).hardtanh_(x * 1, -1.5, 2.0), 4.0, (-1.5, 2.0)),
    "relu6": (lambda lib, x: _f(lib).relu6(x), 8.0, (0.0, 6.0)),
    "leaky_relu": (lambda lib, x: _f(lib).leaky_relu(x, 0.1), 4.0, (0.0,)),
    "leaky_relu inplace": (lambda lib, x: _f(lib).leaky_relu(x * 1, 0.2, inplace=True), 4.0, (0.0,)),
    "rrelu eval": (lambda lib, x: _f(lib).rrelu(x, training=False), 4.0, (0.0,)),
    "threshold": (lambda lib, x: _f(lib).threshold(x, 0.5, -2.0), 4.0, (0.5,)),
    "hardshrink": (lambda lib, x: _f(lib).hardshrink(x, 0.5), 4.0, (-0.5, 0.5)),
    "softshrink": (lambda lib, x: _f(lib).softshrink(x, 0.5), 4.0, (-0.5, 0.5)),
    "hardswish": (lambda lib, x: _f(lib).hardswish(x), 5.0, (-3.0, 3.0)),
    "elu": (lambda lib, x: _f(lib).elu(x), 4.0, (0.0,)),
    "celu": (lambda lib, x: _f(lib).celu(x, 0.5), 4.0, (0.0,)),
    "selu": (lambda lib, x: _f(lib).selu(x), 4.0, (0.0,)),
    "prelu": (lambda lib, x: _f(lib).prelu(x, lib.tensor([0.25], dtype=x.dtype)), 4.0, (0.0,)),
    "abs": (lambda lib, x: x.abs(), 4.0, (0.0,)),
    "clamp": (lambda lib, x: x.clamp(-1.0, 2.0), 4.0, (-1.0, 2.0)),  # PyTorch's: a gradient free of x
    "add_relu": (lambda lib, x: tl.fused.add_relu(x, 0.5) if lib is tl else torch.relu(x + 0.5), 4.0, (-0.5,)),
    "mul_relu": (lambda lib, x: tl.fused.mul_relu(x, x) if lib is tl else torch.relu(x * x), 4.0, (0.0,)),
    "linear relu": (lambda lib, x: tl.fused.linear_act(x[:, None], x[:3, None], None, "relu") if lib is tl
                    else torch.relu(x[:, None] @ x[:3, None].T), 2.0, ()),
}
IDS = list(CASES)
SHAPE = (12,)


def _inputs(rng, name):
    """f16 values in (-r, r), each at least 0.1 from the points where the slope jumps (finite differences and the two
    libraries' one-sided choices there would differ)."""
    _, r, kinks = CASES[name]
    x = rng.uniform(-r, r, SHAPE)
    for _ in range(100):
        near = np.zeros(SHAPE, bool)
        for k in kinks:
            near |= np.abs(x - k) < 0.1
        if name == "linear relu":  # the products x_i x_j are its pre-activations
            near |= np.abs(x) < 0.1
        if not near.any():
            break
        x[near] = rng.uniform(-r, r, int(near.sum()))
    return x.astype(np.float16)


def _first_derivative(lib, fn, x, v):
    (g,) = lib.autograd.grad(fn(lib, x), x, v, create_graph=True)
    return g


@pytest.mark.parametrize("name", IDS)
def test_second_derivatives_match_pytorch(name, device, rng):
    """d/dx and d/dv of <v^T J, u>, with the upstream gradient v itself an input (v^T J is linear in it)."""
    fn = CASES[name][0]
    (x, tx) = twin(_inputs(rng, name), device, grad=True)
    out_shape = tuple(fn(torch, tx).shape)
    (v, tv), (u, tu) = twin(f16_randn(rng, out_shape), device, grad=True), twin(f16_randn(rng, SHAPE), device)
    g, tg = _first_derivative(tl, fn, x, v), _first_derivative(torch, fn, tx, tv)
    # each first derivative is v times a slope of a few ops (one rounding each), the second's as many again
    assert_grad_close(g, tg, 5e-3, "first derivative")
    theirs = torch.autograd.grad(tg, (tx, tv), tu, allow_unused=True)
    # unused only where PyTorch's is (clamp's gradient does not depend on x): relu's family's depends, with zeros
    ours = tl.autograd.grad(g, (x, v), u, allow_unused=any(t is None for t in theirs))
    for what, o, t in zip(("x", "the upstream gradient"), ours, theirs):
        assert_grad_close(o, t if t is not None else torch.zeros_like(tx if what == "x" else tv), 1e-2,
                          f"second derivative in {what}")


@pytest.mark.parametrize("name", IDS)
def test_the_gradient_depends_on_the_input_as_in_pytorch(name, device, rng):
    """With a constant upstream gradient, PyTorch's gradient of relu's family still requires grad (its backward is a
    function of x), and differentiating it gives zeros; the raise it gave here is gone. clamp's does not, in both."""
    fn = CASES[name][0]
    (x, tx) = twin(_inputs(rng, name), device, grad=True)
    out_shape = tuple(fn(torch, tx).shape)
    (v, tv), (u, tu) = twin(f16_randn(rng, out_shape), device), twin(f16_randn(rng, SHAPE), device)
    g, tg = _first_derivative(tl, fn, x, v), _first_derivative(torch, fn, tx, tv)
    assert g.requires_grad == tg.requires_grad
    if tg.requires_grad:
        (ours,), (theirs,) = tl.autograd.grad(g, x, u), torch.autograd.grad(tg, tx, tu)
        assert_grad_close(ours, theirs, 1e-2, "second derivative in x")
    else:
        with pytest.raises(RuntimeError):
            tl.autograd.grad(g, x, u)


def test_hardsigmoid_second_derivative_is_zero(device, rng):
    """PyTorch has no double backward for hardsigmoid (NotImplementedError); its second derivative is 0 off the
    corners, and its first in the upstream gradient is the slope, 1/6 on (-3, 3)."""
    values = _inputs(rng, "hardswish")  # (the same corners)
    x = tl.tensor(values, device=device, requires_grad=True)
    v = tl.tensor(f16_randn(rng, SHAPE), device=device, requires_grad=True)
    u = f16_randn(rng, SHAPE)
    g = _first_derivative(tl, lambda lib, t: _f(lib).hardsigmoid(t), x, v)
    gx, gv = tl.autograd.grad(g, (x, v), tl.tensor(u, device=device))
    assert not gx.numpy().any()
    slope = np.where(np.abs(values.astype(np.float64)) < 3, 1 / 6, 0.0)
    np.testing.assert_allclose(gv.numpy().astype(np.float64), u * slope, rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["relu", "hardtanh", "leaky_relu", "threshold", "softshrink", "hardswish", "elu",
                                  "prelu"])
def test_gradcheck_of_the_first_derivative(name, device, rng):
    """tl.autograd.gradcheck (finite differences in f16, corners skipped) on x, v -> v^T J(x): the second
    derivatives' check without PyTorch."""
    fn = CASES[name][0]

    def first_derivative(x, v):
        with tl.enable_grad():  # (gradcheck evaluates under no_grad)
            x = x if x.requires_grad else x.detach().requires_grad_()
            return _first_derivative(tl, fn, x, v)

    x = tl.tensor(_inputs(rng, name), device=device, requires_grad=True)
    v = tl.tensor(f16_randn(rng, SHAPE), device=device, requires_grad=True)
    assert tl.autograd.gradcheck(first_derivative, (x, v), seed=int(rng.integers(1 << 31)))


def test_prelu_second_derivatives_in_input_and_weight(device, rng):
    """prelu's slope off the positive piece is its weight (one per channel): the mixed second derivatives (of the
    input's gradient in the weight, of the weight's in the input) as PyTorch's."""
    values = _inputs(rng, "relu").reshape(2, 3, 2)
    (x, tx), (w, tw) = twin(values, device, grad=True), twin(f16_randn(rng, (3,)), device, grad=True)
    (v, tv) = twin(f16_randn(rng, (2, 3, 2)), device, grad=True)
    u, z = f16_randn(rng, (2, 3, 2)), f16_randn(rng, (3,))
    grads = []
    for lib, a, b, c, to in ((tl, x, w, v, lambda t: tl.tensor(t, device=device)),
                             (torch, tx, tw, tv, lambda t: torch.tensor(t.astype(np.float64)))):
        gx, gw = lib.autograd.grad(_f(lib).prelu(a, b), (a, b), c, create_graph=True)
        grads.append((gx, gw) + lib.autograd.grad((gx * to(u)).sum() + (gw * to(z)).sum(), (a, b, c),
                                                  allow_unused=True))
    for what, ours, theirs in zip(("x's", "w's", "d/dx", "d/dw", "d/dv"), *grads):
        theirs = theirs if theirs is not None else torch.zeros_like(tx)
        assert_grad_close(ours, theirs, 1e-2, f"prelu {what}")


def test_prelu_second_derivative_in_its_own_weight(device, rng):
    """Through a loss quadratic in prelu's output, the weight's gradient depends on the weight itself: the second
    derivatives in (x, w) as PyTorch's, and tl's gradcheck on (x, w, v) -> both first derivatives of sum(v y^2)."""
    values = _inputs(rng, "relu").reshape(2, 3, 2)
    (x, tx), (w, tw) = twin(values, device, grad=True), twin(f16_randn(rng, (3,)), device, grad=True)
    (v, tv) = twin(f16_randn(rng, (2, 3, 2)), device, grad=True)
    u, z = f16_randn(rng, (2, 3, 2)), f16_randn(rng, (3,))

    def first_derivatives(lib, a, b, c):
        y = _f(lib).prelu(a, b)
        return lib.autograd.grad((y * y * c).sum(), (a, b), create_graph=True)

    grads = []
    for lib, a, b, c, to in ((tl, x, w, v, lambda t: tl.tensor(t, device=device)),
                             (torch, tx, tw, tv, lambda t: torch.tensor(t.astype(np.float64)))):
        gx, gw = first_derivatives(lib, a, b, c)
        grads.append((gx, gw) + lib.autograd.grad((gx * to(u)).sum() + (gw * to(z)).sum(), (a, b, c)))
    for what, ours, theirs in zip(("x's", "w's", "d/dx", "d/dw", "d/dv"), *grads):
        assert_grad_close(ours, theirs, 1e-2, f"prelu {what}")

    def checked(a, b, c):
        with tl.enable_grad():  # (gradcheck evaluates under no_grad)
            a, b = (t if t.requires_grad else t.detach().requires_grad_() for t in (a, b))
            return first_derivatives(tl, a, b, c)

    assert tl.autograd.gradcheck(checked, (x, w, v), seed=int(rng.integers(1 << 31)))
