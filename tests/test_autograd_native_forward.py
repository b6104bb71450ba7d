"""Functions marked `native_forward` run their forward without switching grad mode off: each must record exactly
one node (its own) and no node of an op inside it, with gradients equal to PyTorch's."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.autograd.alias import Alias
from tensorlogic.autograd.function import Function
from tensorlogic.autograd.grad_mode import mode

# name -> (fn(lib, x, w, b), the number of applications it records: one, or two where a view comes first)
OPS = {
    "view": (lambda lib, x, w, b: x.view(-1), 1),
    "reshape": (lambda lib, x, w, b: x.reshape(2, -1), 1),
    "transpose": (lambda lib, x, w, b: x.transpose(0, 1), 1),
    "expand": (lambda lib, x, w, b: b.expand(3, 4), 1),
    "contiguous": (lambda lib, x, w, b: x.t().contiguous(), 2),
    "split": (lambda lib, x, w, b: x.split(2, dim=1)[1], 1),
    "unfold": (lambda lib, x, w, b: x.unfold(1, 3, 1), 1),
    "diagonal": (lambda lib, x, w, b: x.diagonal(1), 1),
    "as_strided": (lambda lib, x, w, b: x.as_strided((2, 3), (4, 1), 1), 1),
    "exp": (lambda lib, x, w, b: x.exp(), 1),
    "mul": (lambda lib, x, w, b: x * b, 1),
    "matmul": (lambda lib, x, w, b: x @ w, 1),
    "linear": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), 1),
    "layer_norm": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,), b, b), 1),
    "sum": (lambda lib, x, w, b: x.sum(1), 1),
    "cross_entropy": (lambda lib, x, w, b: lib.nn.functional.cross_entropy(x, lib.tensor([0, 3, 1])), 1),
    "alias": (lambda lib, x, w, b: Alias.apply(x) if lib is tl else x.view_as(x), 1),
}


def _marked():
    found, todo = set(), [Function]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__dict__.get("native_forward"):
            found.add(cls)
    return found


def test_every_marked_class_is_exercised():
    x, w, b = (tl.ones(s).requires_grad_() for s in ((3, 4), (4, 4), (4,)))
    exercised = {_recorded(fn, x, w, b)[0][-1][0].fn for fn, _ in OPS.values()}
    assert _marked() == exercised


def _recorded(fn, x, w, b):
    trace = []
    mode.trace = trace
    try:
        y = fn(tl, x, w, b)
    finally:
        mode.trace = None
    return trace, y


@pytest.mark.parametrize("name", sorted(OPS))
def test_own_node_only_and_torch_gradients(name, rng):
    fn, applications = OPS[name]
    values = [rng.standard_normal(s).astype(np.float16) for s in ((3, 4), (4, 4), (4,))]
    ours = [tl.tensor(v).requires_grad_() for v in values]
    theirs = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in values]
    trace, y = _recorded(fn, *ours)
    assert len(trace) == applications, [entry[0].name for entry in trace]  # no node of an op inside forward
    ty = fn(torch, *theirs)
    assert tuple(y.shape) == tuple(ty.shape)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float16)
    y.backward(tl.tensor(g))
    ty.backward(torch.tensor(g.astype(np.float64)))
    for a, ta in zip(ours, theirs):
        if ta.grad is None:
            assert a.grad is None
            continue
        np.testing.assert_allclose(a.grad.numpy().astype(np.float64), ta.grad.numpy(), rtol=2e-2, atol=2e-2)
