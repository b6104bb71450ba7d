"""In-place ops through views of tensors autograd records (autograd/views.py, inplace.py, copy_slices.py), against
PyTorch's float64 autograd on the same f16 inputs: values and gradients for views of every kind, chains of them,
in-place ops on the base after views were taken, several in a row, tensors that require no grad written with ones
that do; the errors PyTorch raises (a view of a leaf, detach_ of a view) and the version check of saved tensors."""
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16_randn, twin

# A program is a few ops on exact f16 inputs: each rounds its result once (at most 2^-11 relative), up to about six
# on a path, and the random upstream gradient's products and sums as many again. assert_grad_close allows RTOL of
# each element plus RTOL of the largest (sums cancel), and 1e-3 near zero: 4e-3 is eight roundings. Second
# derivatives run about twice as many ops. Ops with corners (clamp_, relu_, masks) read exact values (x itself, or
# products whose sign rounding cannot flip): a value that rounds onto the other side of a corner changes the piece.
RTOL = 4e-3
RTOL_SECOND = 1e-2
SHAPES = ((3, 4), (4,))  # x and y, the leaves of every program


def _brief(lib, x, y):  # the reported case: the view's in-place op was missing from the base's gradient
    a = x * 1
    a[1:].mul_(2)
    return (a,)


def _select_and_narrow(lib, x, y):
    a = x * 1.5
    a[1].mul_(y)
    a.narrow(1, 1, 2).add_(y[:2])
    a.select(1, 3).sub_(x[:, 0])
    return (a,)


def _view_and_reshape(lib, x, y):
    a = x * 1
    a.view(12)[2:7].mul_(3.0)
    a.reshape(4, 3)[1].sub_(y[:3])
    a.view(2, 6).unsqueeze(0).squeeze(0)[:, ::2].mul_(-0.5)
    return (a,)


def _transpose_and_permute(lib, x, y):
    a = x * 1
    a.t()[1].mul_(y[:3])
    a.transpose(0, 1)[2:].sigmoid_()
    b = (x * y).reshape(3, 2, 2)  # itself a view of the product
    b.permute(2, 0, 1)[1].mul_(2.0)
    b.flatten()[::3].add_(1.0)
    return a, b


def _chained(lib, x, y):
    a = x * 2
    v = a[1:]
    w = v.t()[1:3]  # a[1:, 1:3] transposed
    w.mul_(y[:2])
    w.unsqueeze(0).squeeze(0)[0].square_()
    return a, v, w


def _base_after_views(lib, x, y):
    a = x * 1
    v, w = a[1], a[:, 2]
    a.mul_(y)  # the views see the new values, and now the new history too
    return v * 2, w, a


def _views_and_base_both_used(lib, x, y):
    a = x * y
    v = a[:, 1:3]
    u = a[2]
    v.mul_(2.0)
    u.add_(v[0, 0])  # reads the other view
    return a.sum(1), v, u


def _repeated(lib, x, y):
    a = x * 1
    v = a[:, 1:]
    v.clamp_(-1.0, 1.5)
    v.mul_(2)
    v.add_(y[1:])
    a.mul_(y)
    a[0].zero_()
    v[1].fill_(0.25)
    return a, v


def _setitem_and_index_put(lib, x, y):
    a = x * 1
    v = a[1:]
    v[0, 1:3] = y[:2]
    v[:, 0] = 0.5
    v.index_put_((lib.tensor([1, 0]),), (y * 2).expand(2, 4))
    a.t()[3].index_put_((lib.tensor([0, 2]),), y[:2])
    return a, v


def _detached_views(lib, x, y):
    a = x * y
    a.detach()[1:].mul_(2)  # the values change, the history does not (a tensor outside autograd)
    d = a.detach()
    d[0].add_(1)
    return (a * y,)


def _reads_after(lib, x, y):
    a = x * 1
    a[1:].mul_(2)
    return a * a, a.sum(0) * y


def _written_with_a_tensor_that_requires_grad(lib, x, y):
    buf = x.new_zeros((3, 4))  # requires no grad; a view written with one that does gives it a history
    row = buf[1]  # alive meanwhile: it takes the history too
    buf[0].copy_(y)
    buf.narrow(1, 1, 2)[2].add_(x[2, :2])
    buf.view(12)[4:8].mul_(3.0)
    return buf * x, row


def _buffer_filled_row_by_row(lib, x, y):
    out = x.new_zeros((4, 4))  # rows written in turn while the row before is read back (by an op that saves none)
    h = y
    for t in range(4):
        out[t] = (h + x[t % 3]).tanh()
        h = out[t]
    col = out[:, 1]
    out[1:3, 2:].mul_(2.0)
    return out, h, col


def _unfold(lib, x, y):
    a = x * 1
    a.unfold(1, 2, 2)[:, 1].mul_(y[:2])  # windows that do not overlap
    return (a,)


def _shape_changed_in_place(lib, x, y):
    a = x * 1
    v = a[1:]
    v.t_()  # a[1:] transposed, still a view of a
    v[0].mul_(3.0)
    w = a[0]
    a.t_()  # w, a view of a's rows, stays one
    w.mul_(y)
    a.unsqueeze_(0)
    a[0, 1].add_(1.0)
    return a, v, w


def _masked_and_activations(lib, x, y):
    a = x * 1
    a[0].masked_fill_(a[0] > 0.5, 0.25)
    a.t()[1].mul_(y[:3])
    a[1:].relu_()  # last: PyTorch saves relu_'s result, so a later write would fail its backward
    return (a,)


def _leaky_relu_on_a_view(lib, x, y):
    a = x * 1
    lib.nn.functional.hardtanh_(a[0], -0.5, 0.5)
    a.t()[1:].mul_(y[:3])
    lib.nn.functional.leaky_relu(a.t()[1:], 0.2, inplace=True)  # last, as relu_ above
    return (a,)


PROGRAMS = [_brief, _select_and_narrow, _view_and_reshape, _transpose_and_permute, _chained, _base_after_views,
            _views_and_base_both_used, _repeated, _setitem_and_index_put, _detached_views, _reads_after,
            _written_with_a_tensor_that_requires_grad, _buffer_filled_row_by_row, _unfold, _shape_changed_in_place,
            _masked_and_activations, _leaky_relu_on_a_view]


def _leaves(rng, device):
    return [twin(f16_randn(rng, shape), device, grad=True) for shape in SHAPES]


def _compare(program, ours_program, rng, device, leaves=None):
    """Runs the program on both sides, then backward from one random f16 upstream gradient per output; compares the
    outputs' values and the leaves' gradients."""
    leaves = leaves or _leaves(rng, device)
    ours = ours_program(tl, *[pair[0] for pair in leaves])
    theirs = program(torch, *[pair[1] for pair in leaves])
    assert len(ours) == len(theirs)
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert tuple(o.shape) == tuple(t.shape), f"output {k}: shape {tuple(o.shape)} != {tuple(t.shape)}"
        assert_grad_close(o.detach(), t, RTOL, f"output {k}")
    upstream = [f16_randn(rng, tuple(t.shape)) for t in theirs]
    sum((o * tl.tensor(g, device=device)).sum() for o, g in zip(ours, upstream)).backward()
    sum((t * torch.tensor(g.astype(np.float64))).sum() for t, g in zip(theirs, upstream)).backward()
    for k, (o, t) in enumerate(leaves):
        assert_grad_close(o.grad, t.grad if t.grad is not None else torch.zeros_like(t), RTOL, f"leaf {k}'s gradient")


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__[1:] for p in PROGRAMS])
def test_in_place_ops_through_views_match_pytorch(program, device, rng):
    _compare(program, program, rng, device)


def test_second_derivatives_through_in_place_ops_on_views(device, rng):
    """create_graph=True through CopySlices: its backward (ZeroedView, the view of the gradient) is differentiable."""
    (x, tx), (y, ty) = _leaves(rng, device)
    u, w = f16_randn(rng, (3, 4)), f16_randn(rng, (3, 4))
    grads = []
    for lib, a0, b0, to in ((tl, x, y, lambda v: tl.tensor(v, device=device)),
                            (torch, tx, ty, lambda v: torch.tensor(v.astype(np.float64)))):
        a = a0 * a0
        a[1:].mul_(b0)
        a.t()[0].add_(b0[:3] * b0[:3])
        gx, gy = lib.autograd.grad((a * to(u)).sum(), (a0, b0), create_graph=True)
        grads.append(lib.autograd.grad((gx * to(w)).sum() + (gy * gy).sum(), (a0, b0)))
    for k, (ours, theirs) in enumerate(zip(*grads)):
        assert_grad_close(ours, theirs, RTOL_SECOND, f"second derivative in leaf {k}")


# ---- what PyTorch refuses, and the version check ----------------------------------------------------------------
@pytest.mark.parametrize("write", [
    lambda x: x[1:].mul_(2), lambda x: x[1].__setitem__(0, 2.0), lambda x: x.view(12).copy_(tl.zeros(12)),
    lambda x: x.t().index_put_((tl.tensor([0]),), tl.zeros(3)), lambda x: x.t()[1].relu_(),
    lambda x: x[1:].t_(), lambda x: x[1].unsqueeze_(0), lambda x: x.narrow(0, 0, 2)[1].add_(1.0),
], ids=["mul_", "setitem", "copy_", "index_put_", "relu_", "t_", "unsqueeze_", "chained"])
def test_a_view_of_a_leaf_that_requires_grad_refuses_in_place_ops(write, device, rng):
    values = f16_randn(rng, (3, 4))
    x = tl.tensor(values, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        write(x)
    np.testing.assert_array_equal(x.detach().cpu().numpy(), values)
    with tl.no_grad():  # how optimizers write parameters: allowed
        x[1:].mul_(2)
    np.testing.assert_array_equal(x.detach().cpu().numpy()[1:], values[1:] * 2)


def test_detach_in_place_refuses_views(device):
    a = tl.ones(3, 4, device=device, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        a[1:].detach_()
    a.detach_()  # the base itself may
    assert a.grad_fn is None and not a.requires_grad


@pytest.mark.parametrize("case", ["saved base, write through a view", "saved view, write to the base",
                                  "saved view, write through another view"])
def test_a_saved_tensor_modified_through_a_view_still_fails_backward(case, device):
    x = tl.ones(3, 4, device=device, requires_grad=True)
    a = x * 1
    if case == "saved base, write through a view":
        out = a * a  # saves a
        a[1:].mul_(2)
    elif case == "saved view, write to the base":
        v = a[1:]
        out = v * v
        a.mul_(2)
    else:
        v = a[1:]
        out = v * v
        a[:, 0].add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_views_made_under_no_grad_are_not_tracked(device):
    """As a view made under no_grad is PyTorch's (which refuses a later in-place op on it under grad mode): its
    in-place op moves no history, here or on the base, and backward reads the values as they are."""
    x = tl.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    a = x * 1
    with tl.no_grad():
        v = a[1:]
    assert getattr(v, "_view", None) is None
    v.mul_(2)  # nothing recorded: neither requires grad
    (a * a).sum().backward()  # saves a with its new values; a's history is still x * 1
    assert x.grad.tolist() == [2.0, 8.0, 12.0]


def test_views_hold_their_base_and_forget_dead_views(device):
    a = tl.ones(64, device=device, requires_grad=True) * 1
    for i in range(100):
        a[i % 64:].sum()
    assert len(a._views.new) < 32  # pruned as the list doubles
    keep = [a[i] for i in range(4)]
    before = [k.grad_fn for k in keep]
    a[8:].mul_(2)  # writes none of them: they keep their history
    assert [k.grad_fn for k in keep] == before
    a.mul_(2)
    assert all(k.grad_fn is not b and k.tolist() == 2.0 for k, b in zip(keep, before))


def test_compile_runs_in_place_writes_through_views_eagerly(device, rng):
    """A compiled replay would not make the write CopySlices stands for: the call runs eagerly, with the reason."""
    def step(x, y):
        a = x * 1
        a[1:].mul_(y)
        return (a * a).sum()

    compiled = tl.compile(step)
    (x, tx), (y, ty) = (twin(f16_randn(rng, s), device, grad=True) for s in ((3, 4), (4,)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled(x, y).backward()
    assert any("modifies a view of a tensor in place" in str(w.message) for w in caught)
    step(tx, ty).backward()
    assert_grad_close(x.grad, tx.grad, RTOL, "x's gradient")
    assert_grad_close(y.grad, ty.grad, RTOL, "y's gradient")


@pytest.mark.parametrize("offset,dims", [(0, (0, 1)), (1, (0, 1)), (-1, (1, 2)), (2, (2, 0))])
def test_diagonal_is_a_view_written_in_place(offset, dims, device, rng):
    """diagonal() views its input's memory, as PyTorch's: an in-place op on it writes the matrix (`cov.diagonal().
    add_(eps)`), and under autograd the gradient sees it; diag() of a matrix stays a copy, as PyTorch's."""
    x = f16_randn(rng, (3, 4, 5))
    ours, theirs = tl.tensor(x, device=device), torch.tensor(x)
    ours.diagonal(offset, *dims).add_(2.0)
    theirs.diagonal(offset, *dims).add_(2.0)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
    grads = []
    for lib, dev in ((torch, "cpu"), (tl, device)):
        leaf = lib.tensor(x.astype(np.float64) if lib is torch else x, device=dev, requires_grad=True)
        a = leaf * 1.0
        a.diagonal(offset, *dims).mul_(3.0)
        (a * a).sum().backward()
        grads.append(leaf.grad)
    assert_grad_close(grads[1], grads[0], 2e-2, "through diagonal().mul_")
    m = tl.tensor(x[0], device=device)
    tl.diag(m).add_(1.0)
    np.testing.assert_array_equal(m.cpu().numpy(), x[0])
