"""In-place ops on the outputs of split, chunk, unbind and iteration (and views of them) under autograd, against
PyTorch: refused with its RuntimeError where it refuses (the op itself, or a later use once the base or a sibling was
written: here found at backward), and allowed where it allows (no_grad, detach, tensors that require no grad,
tensor_split's pieces), with the same values and gradients."""
import re

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16_randn, twin

RTOL = 4e-3  # a few ops, each rounding once in f16 (see test_inplace_views.py)


def torchs_message(raised):
    """PyTorch's message as 2.13 spells it, which ours follows: before it named the view's node "SplitBackward0"
    where 2.13 says "Split" (PyTorch 2.11 on the GPU machine of 2026-12-07)."""
    return re.sub(r"(Output \d+ of \w+?)Backward0 ", r"\1 ", str(raised.value))


def _refused_writes(lib):
    """name -> (a program of the (4, 3) leaf x that writes a multi-output view in place, that view's maker)."""
    return {
        "split": lambda a: a.split(2)[0].add_(1.0),
        "chunk": lambda a: a.chunk(2)[1].mul_(2.0),
        "split with sizes": lambda a: lib.split(a, [1, 3])[1].sigmoid_(),
        "unbind": lambda a: a.unbind(1)[2].zero_(),
        "iteration": lambda a: list(a)[3].copy_(lib.ones(3)),
        "a slice of an output": lambda a: a.split(2)[1][0:1].fill_(2.0),
        "a view of a view of an output": lambda a: a.chunk(2, 1)[0].t().unsqueeze(0).mul_(3.0),
        "setitem": lambda a: a.split(2)[0].__setitem__((slice(None), 1), 5.0),
        "setitem with a full slice": lambda a: a.split(2)[0].__setitem__(slice(None), 5.0),
        "index_put_": lambda a: a.unbind()[0].index_put_((lib.tensor([1]),), lib.ones(1)),
        "relu inplace": lambda a: lib.nn.functional.relu(a.split(3)[0], inplace=True),
        "t_": lambda a: a.split(2)[0].t_(),
        "squeeze_": lambda a: a.split(1)[0].squeeze_(0),
        "split of a view": lambda a: a[1:].split(1)[2].mul_(2.0),
        "written with a tensor that requires grad": lambda a: a.detach().split(2)[0].mul_(a[:2]),
    }


def _pair(values, device):
    x, tx = twin(values, device, grad=True)
    return x * 1, tx * 1  # non-leaves: views of a leaf refuse in place for their own reason


@pytest.mark.parametrize("name", list(_refused_writes(tl)))
def test_in_place_ops_on_multi_output_views_are_refused_as_in_pytorch(name, device, rng):
    values = f16_randn(rng, (4, 3))
    a, ta = _pair(values, device)
    with pytest.raises(RuntimeError) as theirs:
        _refused_writes(torch)[name](ta)
    with pytest.raises(RuntimeError) as ours:
        _refused_writes(tl)[name](a)
    assert str(ours.value) == torchs_message(theirs)
    np.testing.assert_array_equal(a.detach().cpu().numpy(), values)  # refused before anything was written


def test_a_leaf_that_requires_grad_gets_the_multi_output_message_first(device, rng):
    x, tx = twin(f16_randn(rng, (4,)), device, grad=True)
    with pytest.raises(RuntimeError) as theirs:
        tx.split(2)[0].add_(1.0)
    with pytest.raises(RuntimeError) as ours:
        x.split(2)[0].add_(1.0)
    assert str(ours.value) == torchs_message(theirs) and "Output 0 of Split" in str(ours.value)


def _allowed(lib):
    """Programs of the (4, 3) leaf x and (3,) leaf y that PyTorch runs: each returns tensors to differentiate."""
    def under_no_grad(x, y):
        a = x * 1
        p, q = a.split(2)
        with lib.no_grad():
            p.mul_(2.0)
        return (a * y,)

    def detached(x, y):
        a = x * 1
        a.chunk(2)[1].detach().add_(1.0)
        return (a * a,)

    def requires_no_grad(x, y):
        a = x.detach() * 1
        for row in a:
            row.mul_(2.0)
        a.unbind(1)[0].add_(1.0)
        return (a * x,)

    def tensor_split_pieces(x, y):
        a = x * 1
        p = a.tensor_split(3)
        p[1].mul_(y)
        lib.hsplit(a, [1])[1].add_(y[:2])
        return a, p[0]

    def base_written_while_outputs_unused(x, y):
        a = x * 1
        rows = list(a)  # alive, never used again
        b = rows[0] * 2  # used before the write: recorded with the value it had
        a.mul_(y)
        return a, b

    return [under_no_grad, detached, requires_no_grad, tensor_split_pieces, base_written_while_outputs_unused]


@pytest.mark.parametrize("index", range(5), ids=[f.__name__ for f in _allowed(tl)])
def test_what_pytorch_allows_on_multi_output_views_runs_with_its_gradients(index, device, rng):
    (x, tx), (y, ty) = twin(f16_randn(rng, (4, 3)), device, grad=True), twin(f16_randn(rng, (3,)), device, grad=True)
    ours, theirs = _allowed(tl)[index](x, y), _allowed(torch)[index](tx, ty)
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert_grad_close(o.detach(), t, RTOL, f"output {k}")
    upstream = [f16_randn(rng, tuple(t.shape)) for t in theirs]
    sum((o * tl.tensor(g, device=device)).sum() for o, g in zip(ours, upstream)).backward()
    sum((t * torch.tensor(g.astype(np.float64))).sum() for t, g in zip(theirs, upstream)).backward()
    for name, o, t in (("x", x, tx), ("y", y, ty)):
        assert_grad_close(o.grad, t.grad if t.grad is not None else torch.zeros_like(t), RTOL, f"{name}'s gradient")


def _used_after_a_write(lib, base, write):
    a = base * 1 if base.requires_grad else base
    first, second = a.split(2)
    write(lib, a, second)
    return (first * 2).sum()


@pytest.mark.parametrize("write,requires", [
    (lambda lib, a, sibling: a.add_(1.0), True),
    (lambda lib, a, sibling: a[3:].mul_(2.0), True),
    (lambda lib, a, sibling: a.add_(lib.ones(4, 3, requires_grad=True)), False),
], ids=["base", "a view of the base that misses it", "a base that required no grad, with one that does"])
def test_a_multi_output_view_used_after_its_memory_was_written_refuses(write, requires, device, rng):
    """PyTorch raises at the use (reading the view's grad_fn); here backward through that use raises the same."""
    values = f16_randn(rng, (4, 3))
    ours_base = tl.tensor(values, device=device, requires_grad=requires)
    theirs_base = torch.tensor(values.astype(np.float64), requires_grad=requires)
    with pytest.raises(RuntimeError) as theirs:
        _used_after_a_write(torch, theirs_base, write).backward()
    with pytest.raises(RuntimeError) as ours:
        _used_after_a_write(tl, ours_base, write).backward()
    assert str(ours.value) == torchs_message(theirs)
    assert "its base or another view of its base has been modified inplace" in str(ours.value)
