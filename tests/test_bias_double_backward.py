"""Second derivatives through the bias gradients of conv (1d/2d/3d, transposed), linear and the norms, against
PyTorch's float64 autograd on the same f16 inputs: torch.autograd.grad with create_graph, then grad again, both of
values (the bias gradient of a loss nonlinear in the output) and of structure (of a loss linear in it, the bias
gradient requires grad where PyTorch's does, and its gradients are PyTorch's: absent, zeros when materialized)."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16_randn

RTOL = 2e-2  # a second derivative: about twice a gradient's roundings, over sums of a few dozen terms


def _running(lib, channels):
    if lib is torch:
        return torch.zeros(channels, dtype=torch.float64), torch.ones(channels, dtype=torch.float64)
    return tl.zeros(channels), tl.ones(channels)


# name -> (shapes of input, weight, bias; the op of (lib, x, w, b))
OPS = {
    "conv1d": (((2, 3, 7), (4, 3, 3), (4,)), lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, padding=1)),
    "conv2d": (((2, 3, 5, 5), (4, 3, 3, 3), (4,)),
               lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, stride=2, padding=1)),
    "conv3d": (((1, 2, 4, 4, 3), (3, 2, 2, 2, 2), (3,)), lambda lib, x, w, b: lib.nn.functional.conv3d(x, w, b)),
    "conv_transpose1d": (((2, 3, 5), (3, 4, 3), (4,)),
                         lambda lib, x, w, b: lib.nn.functional.conv_transpose1d(x, w, b, stride=2)),
    "conv_transpose2d": (((2, 4, 3, 3), (4, 2, 3, 3), (4,)),
                         lambda lib, x, w, b: lib.nn.functional.conv_transpose2d(x, w, b, groups=2)),
    "conv_transpose3d": (((1, 2, 3, 2, 3), (2, 3, 2, 2, 2), (3,)),
                         lambda lib, x, w, b: lib.nn.functional.conv_transpose3d(x, w, b)),
    "linear": (((2, 5, 6), (4, 6), (4,)), lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)),
    "layer_norm": (((5, 6), (6,), (6,)), lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (6,), w, b)),
    "group_norm": (((4, 6, 3), (6,), (6,)), lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b)),
    "batch_norm": (((4, 6, 3), (6,), (6,)),
                   lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True)),
    "batch_norm eval": (((4, 6, 3), (6,), (6,)),
                        lambda lib, x, w, b: lib.nn.functional.batch_norm(x, *_running(lib, 6), w, b)),
    "instance_norm": (((3, 6, 4), (6,), (6,)),
                      lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b)),
}


def _leaves(rng, shapes, device):
    values = [f16_randn(rng, shape, 0.5) for shape in shapes]
    ours = [tl.tensor(v, device=device, requires_grad=True) for v in values]
    theirs = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in values]
    return ours, theirs


def _constant(lib, values, device):
    return tl.tensor(values, device=device) if lib is tl else torch.tensor(values.astype(np.float64))


@pytest.mark.parametrize("name", list(OPS))
def test_second_derivatives_through_the_bias_gradient_match_pytorch(name, device, rng):
    """Of sum(u * out^2): each first gradient weighted by a random tensor, then differentiated again; the grad_output
    itself is a leaf too (the double-backward trick), so the bias gradient's derivative in it is checked as well."""
    shapes, op = OPS[name]
    ours, theirs = _leaves(rng, shapes, device)
    out_shape = tuple(op(torch, *theirs).shape)
    u, v = f16_randn(rng, out_shape, 0.5), f16_randn(rng, out_shape, 0.5)
    weights = [f16_randn(rng, shape) for shape in shapes]
    results = []
    for lib, leaves in ((tl, ours), (torch, theirs)):
        vv = _constant(lib, v, device).requires_grad_()
        out = op(lib, *leaves)
        firsts = lib.autograd.grad(out, leaves, grad_outputs=out * _constant(lib, u, device) + vv, create_graph=True)
        total = sum((g * _constant(lib, c, device)).sum() for g, c in zip(firsts, weights))
        results.append((firsts, lib.autograd.grad(total, leaves + [vv])))
    (first, second), (rfirst, rsecond) = results
    for k, (a, e) in enumerate(zip(first, rfirst)):
        assert_grad_close(a, e, RTOL, f"{name}: first derivative {k}")
    for what, a, e in zip(("x", "w", "b", "grad_output"), second, rsecond):
        assert_grad_close(a, e, RTOL, f"{name}: second derivative in {what}")


@pytest.mark.parametrize("name", list(OPS))
def test_the_bias_gradient_of_a_linear_loss_has_pytorchs_graph(name, device, rng):
    """The bias gradient of sum(u * out) is a sum of u: it requires grad where PyTorch's double-backward node makes it
    (conv, layer_norm, batch_norm and instance_norm: not linear or group_norm), and its gradients in the leaves are
    absent there (None with allow_unused, zeros when materialized), as PyTorch's."""
    shapes, op = OPS[name]
    ours, theirs = _leaves(rng, shapes, device)
    u = f16_randn(rng, tuple(op(torch, *theirs).shape))
    gbs = []
    for lib, leaves in ((tl, ours), (torch, theirs)):
        loss = (op(lib, *leaves) * _constant(lib, u, device)).sum()
        gbs.append(lib.autograd.grad(loss, leaves, create_graph=True)[2])
    gb, rgb = gbs
    assert_grad_close(gb, rgb, RTOL, f"{name}: bias gradient")
    assert gb.requires_grad == rgb.requires_grad
    if not rgb.requires_grad:
        return
    for lib, g, leaves in ((tl, gb, ours), (torch, rgb, theirs)):
        assert lib.autograd.grad(g.sum(), leaves, allow_unused=True, retain_graph=True) == (None, None, None)
        zeros = lib.autograd.grad(g.sum(), leaves, allow_unused=True, materialize_grads=True, retain_graph=True)
        assert [tuple(z.shape) for z in zeros] == [tuple(leaf.shape) for leaf in leaves]
        assert not any(z.detach().cpu().numpy().any() for z in zeros)
        g.sum().backward()  # reaches no leaf
        assert all(leaf.grad is None for leaf in leaves)
