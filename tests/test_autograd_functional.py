"""tl.autograd.functional against torch.autograd.functional (float64 on the same f16 inputs): results, the tuple
layouts, create_graph (checked by gradcheck), strict mode's errors in PyTorch's words; a PINN-style use (derivatives
of a small MLP w.r.t. its inputs inside the loss)."""
import re

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_tree_close, f16_pairs as _pair, f16_randn
from tensorlogic.autograd import functional as F


def _close(ours, ref, rtol=1e-2, what=""):
    """The results leaf by leaf; torch.autograd.functional's layouts are tuples here wherever it gives a sequence."""
    assert_tree_close(ours, ref, rtol, what, sequence_type=tuple)


TF = torch.autograd.functional


def _f(lib):
    return lambda a, b: ((a * b.exp()).sum(-1), lib.tanh(a) * b)


def _g(lib):
    return lambda a, b: (a * a * b.sin()).sum() + (a ** 3).sum()


def test_jacobian_layouts(device, rng):
    (a, b), (ta, tb) = _pair(rng, device, (3, 2), (3, 2))
    _close(F.jacobian(_f(tl), (a, b)), TF.jacobian(_f(torch), (ta, tb)), what="tuple in, tuple out")
    _close(F.jacobian(lambda x: x.sin(), a), TF.jacobian(lambda x: x.sin(), ta), what="one in, one out")
    _close(F.jacobian(lambda x: (x.sin(), x.sum()), a), TF.jacobian(lambda x: (x.sin(), x.sum()), ta), what="one in")
    # (PyTorch's vectorized forms give its plain results; their first call takes a second, compiling)
    _close(F.jacobian(lambda x, y: x @ y.T, (a, b), vectorize=True), TF.jacobian(lambda x, y: x @ y.T, (ta, tb)),
           what="vectorize")
    _close(F.jacobian(lambda x: x.cos(), a, vectorize=True, strategy="forward-mode"),
           TF.jacobian(lambda x: x.cos(), ta), what="forward-mode")
    assert not F.jacobian(lambda x: x.sin(), a.requires_grad_()).requires_grad  # no graph without create_graph


def test_products_and_hessian(device, rng):
    (a, b), (ta, tb) = _pair(rng, device, (3, 2), (3, 2))
    (u, v), (tu, tv) = _pair(rng, device, (3, 2), (3, 2))
    (w, _), (tw, _) = _pair(rng, device, (3,), (1,))
    _close(F.vjp(_f(tl), (a, b), (w, u)), TF.vjp(_f(torch), (ta, tb), (tw, tu)), what="vjp")
    _close(F.jvp(_f(tl), (a, b), (u, v)), TF.jvp(_f(torch), (ta, tb), (tu, tv)), what="jvp")
    _close(F.hessian(_g(tl), (a, b)), TF.hessian(_g(torch), (ta, tb)), what="hessian")
    _close(F.hessian(lambda x: (x ** 3).sum(), a), TF.hessian(lambda x: (x ** 3).sum(), ta), what="hessian of one")
    _close(F.vhp(_g(tl), (a, b), (u, v)), TF.vhp(_g(torch), (ta, tb), (tu, tv)), what="vhp")
    _close(F.hvp(_g(tl), (a, b), (u, v)), TF.hvp(_g(torch), (ta, tb), (tu, tv)), what="hvp")
    one = tl.tensor(np.float16(0.75), device=device)
    _close(F.jvp(lambda x: x.exp(), one), TF.jvp(lambda x: x.exp(), torch.tensor(0.75, dtype=torch.float64)),
           what="jvp without v")


def test_create_graph_differentiates_by_gradcheck(device, rng):
    """The Jacobian, the Hessian-vector product and the jvp with create_graph=True are functions of the input whose
    gradients gradcheck holds against PyTorch's float64 derivatives."""
    x = tl.tensor(f16_randn(rng, (3,), 0.7), device=device).requires_grad_()
    v = f16_randn(rng, (3,))
    tv = torch.tensor(v.astype(np.float64))
    cases = [
        (lambda t: F.jacobian(lambda y: y.sin() * y.sum(), t, create_graph=True),
         lambda t: TF.jacobian(lambda y: y.sin() * y.sum(), t, create_graph=True)),
        (lambda t: F.hvp(lambda y: (y.exp() * y).sum(), t, tl.tensor(v, device=device), create_graph=True)[1],
         lambda t: TF.hvp(lambda y: (y.exp() * y).sum(), t, tv, create_graph=True)[1]),
        (lambda t: F.jvp(lambda y: y.tanh(), t, tl.tensor(v, device=device), create_graph=True)[1],
         lambda t: TF.jvp(lambda y: y.tanh(), t, tv, create_graph=True)[1]),
    ]
    for ours, theirs in cases:
        assert ours(x).requires_grad
        assert tl.autograd.gradcheck(ours, (x,), reference=lambda t: theirs(torch.tensor(t)).detach().numpy())


def _torch_error(fn):
    with pytest.raises(Exception) as e:
        fn()
    return e.type, str(e.value)


@pytest.mark.parametrize("case", ["independent", "no grad", "v size", "v tuple", "v none", "hessian tuple",
                                  "not tensor", "strategy", "forward create_graph", "strict vectorize"])
def test_errors_in_pytorchs_words(device, rng, case):
    (a, b), (ta, tb) = _pair(rng, device, (2,), (2,))
    calls = {
        "independent": lambda L, M, x, y: M.jacobian(lambda p, q: p * 2, (x, y), strict=True),
        "no grad": lambda L, M, x, y: M.vjp(lambda p: L.ones(2), x, strict=True),
        "v size": lambda L, M, x, y: M.vjp(lambda p: p * 2, x, L.ones(3)),
        "v tuple": lambda L, M, x, y: M.jvp(lambda p, q: p * q, (x, y), (y,)),
        "v none": lambda L, M, x, y: M.vjp(lambda p: p * 2, x),
        "hessian tuple": lambda L, M, x, y: M.hessian(lambda p: (p.sum(), p.sum()), x),
        "not tensor": lambda L, M, x, y: M.jacobian(lambda p: p, (x, 3)),
        "strategy": lambda L, M, x, y: M.jacobian(lambda p: p, x, strategy="forward-mode"),
        "forward create_graph": lambda L, M, x, y: M.jacobian(lambda p: p, x, create_graph=True,
                                                             strategy="forward-mode", vectorize=True),
        "strict vectorize": lambda L, M, x, y: M.jacobian(lambda p: p * 2, x, strict=True, vectorize=True),
    }
    want_type, want = _torch_error(lambda: calls[case](torch, TF, ta, tb))
    got_type, got = _torch_error(lambda: calls[case](tl, F, a, b))
    want = re.sub(r"torch\.Size\((\[[^\]]*\])\)", r"\1", want)  # torch.Size([2]) is [2] here
    assert issubclass(got_type, want_type) and got.split() == want.replace("isonly", "is only").split()


def _mlp(lib, params, xt):
    w1, b1, w2, b2, w3 = params
    h = lib.tanh(xt @ w1 + b1)
    h = lib.tanh(h @ w2 + b2)
    return (h @ w3).sum()


def test_pinn_derivatives_and_residual_loss(device, rng):
    """u(x, t) a small tanh MLP: its gradient and Hessian w.r.t. the input point, then Burgers' residual
    u_t + u u_x - nu u_xx over a few points, whose gradient w.r.t. the weights (through create_graph) matches
    PyTorch's."""
    shapes = [(2, 12), (12,), (12, 12), (12,), (12, 1)]
    params, tparams = _pair(rng, device, *shapes, scale=0.5)
    (points,), (tpoints,) = _pair(rng, device, (4, 2))
    for p in params + tparams:
        p.requires_grad_()
    nu = 0.05

    def residual(lib, M, ps, pts):
        total = 0.0
        for i in range(pts.shape[0]):
            u_of = lambda q: _mlp(lib, ps, q)
            grad_u = M.jacobian(u_of, pts[i], create_graph=True)
            hess = M.hessian(u_of, pts[i], create_graph=True)
            total = total + (grad_u[1] + u_of(pts[i]) * grad_u[0] - nu * hess[0, 0]) ** 2
        return total, grad_u, hess

    loss, g, h = residual(tl, F, params, points)
    tloss, tg, th = residual(torch, TF, tparams, tpoints)
    _close(g, tg, what="grad u")
    _close(h, th, rtol=2e-2, what="hessian u")
    _close(loss, tloss, rtol=2e-2, what="loss")
    _close(tl.autograd.grad(loss, params), torch.autograd.grad(tloss, tparams), rtol=3e-2, what="d loss / d weights")
