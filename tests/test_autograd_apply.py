"""Function.apply's contract at its edges (it is native: python/src/bind_autograd.cpp): keyword arguments, many
arguments, errors inside forward, integer outputs, saved outputs modified in place, grad mode and tracing."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.autograd.function import Function
from tensorlogic.autograd.grad_mode import is_grad_enabled, mode


class _ScaledSum(Function):
    """sum(args) * scale, scale a keyword: any number of tensor and number arguments."""

    @staticmethod
    def forward(ctx, *args, scale=1.0):
        ctx.scale = scale
        ctx.seen_grad_mode = is_grad_enabled()
        total = args[0]
        for a in args[1:]:
            total = total + a
        return total * scale

    @staticmethod
    def backward(ctx, g):
        return tuple(g * ctx.scale if need else None for need in ctx.needs_input_grad)


class _Fails(Function):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("forward failed")


class _Exp(Function):
    """exp(x), saving its output (the native entry keeps it as its array and a weak reference)."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


@pytest.mark.parametrize("count", [1, 3, 20])
def test_keywords_and_many_arguments(device, rng, count):
    values = [rng.standard_normal((2, 3)).astype(np.float16) for _ in range(count)]
    ours = [tl.tensor(v, device=device).requires_grad_(i % 2 == 0) for i, v in enumerate(values)]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=i % 2 == 0) for i, v in enumerate(values)]
    out = _ScaledSum.apply(*ours, 2.0, scale=0.5)
    (sum(theirs) + 2.0).mul(0.5).sum().backward()
    out.sum().backward()
    assert out.requires_grad and issubclass(out.grad_fn.fn, _ScaledSum)  # (the form apply records: function.py)
    assert out.grad_fn.next[count] is None and out.grad_fn.needs_input_grad[count] is False  # the number
    assert out.grad_fn.input_shapes[count] is None and out.grad_fn.input_shapes[0] == (2, 3)
    for t, ref in zip(ours, theirs):
        assert (t.grad is None) == (ref.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(t.grad.numpy().astype(np.float64), ref.grad.numpy(), rtol=1e-3)
    plain = _ScaledSum.apply(*(t.detach() for t in ours), scale=3.0)
    assert not plain.requires_grad and plain.grad_fn is None


def test_forward_runs_without_grad_mode_and_an_error_restores_it(device):
    x = tl.ones((2,), device=device).requires_grad_()
    out = _ScaledSum.apply(x, x)
    assert out.grad_fn.seen_grad_mode is False and is_grad_enabled()
    with pytest.raises(ValueError, match="forward failed"):
        _Fails.apply(x)
    assert is_grad_enabled()
    with pytest.raises(ValueError, match="forward failed"):
        _Fails.apply(x.detach())
    assert is_grad_enabled()


def test_integer_output_is_not_recorded(device):
    x = tl.tensor([[1.0, 3.0], [2.0, 0.5]], device=device).requires_grad_()
    idx = x.argmax(dim=1)
    assert idx.dtype == tl.int64 and not idx.requires_grad and idx.grad_fn is None


def test_saved_output_modified_in_place_raises(device):
    x = tl.tensor([0.5, -1.0], device=device).requires_grad_()
    y = _Exp.apply(x)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -1.0]), rtol=1e-3)
    with tl.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_tracer_sees_each_recorded_application(device):
    x = tl.ones((2, 2), device=device).requires_grad_()
    mode.trace = []
    try:
        out = _ScaledSum.apply(x, x.detach(), scale=2.0)
        _ScaledSum.apply(x.detach())  # not recorded: no input requires grad
        trace = mode.trace
    finally:
        mode.trace = None
    assert len(trace) == 1
    node, args, kwargs, result = trace[0]
    assert node is out.grad_fn and args[0] is x and kwargs == {"scale": 2.0} and result is out


def test_no_grad_mode_records_nothing(device):
    x = tl.ones((2,), device=device).requires_grad_()
    with tl.no_grad():
        out = _ScaledSum.apply(x, x)
    assert not out.requires_grad and out.grad_fn is None


# What a backward of x * w * scale (scale a number) returns, as a function of (g, x, w, scale)
_RETURNS = {
    "exact": lambda g, x, w, s: (g * w * s, g * x * s, None),
    "extra_nones": lambda g, x, w, s: (g * w * s, g * x * s, None, None, None),
    "nones_inside": lambda g, x, w, s: (None, g * x * s, None),
    "too_few": lambda g, x, w, s: (g * w * s, g * x * s),
    "one_bare": lambda g, x, w, s: g * w * s,
    "empty": lambda g, x, w, s: (),
    "none": lambda g, x, w, s: None,
    "extra_gradient": lambda g, x, w, s: (g * w * s, g * x * s, None, g),
}


def _scaled_product(library, returns):
    class ScaledProduct(library.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, scale):
            ctx.save_for_backward(x, w)
            ctx.scale = scale
            return x * w * scale

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return _RETURNS[returns](g, x, w, ctx.scale)

    return ScaledProduct


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # (PyTorch's, on a leaf's cycle)
@pytest.mark.parametrize("returns", list(_RETURNS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_returns_one_gradient_per_argument_as_in_torch(device, rng, returns, create_graph):
    """A user's Function returns one gradient (or None) per argument of forward, numbers included; more are fine
    where the extras are None. Else both libraries raise the same RuntimeError at backward."""
    values = [rng.uniform(-2, 2, (2, 3)).astype(np.float16) for _ in range(2)]
    ours = [tl.tensor(v, device=device).requires_grad_() for v in values]
    theirs = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in values]
    results = []
    for library, (x, w) in ((tl, ours), (torch, theirs)):
        try:
            _scaled_product(library, returns).apply(x, w, 1.5).sum().backward(create_graph=create_graph)
            results.append(None)
        except RuntimeError as e:
            results.append(str(e))
    assert results[0] == results[1]
    if results[0] is not None:
        assert "ScaledProductBackward returned an incorrect number of gradients (expected 3, got" in results[0]
        return
    for t, ref in zip(ours, theirs):
        assert (t.grad is None) == (ref.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(t.grad.numpy().astype(np.float64), ref.grad.detach().numpy(), rtol=1e-3)


def test_the_librarys_own_formulas_may_leave_trailing_arguments_out():
    """sum's backward returns a gradient for its input alone (dims and keepdim take none): not a user's Function."""
    x = tl.tensor(np.arange(6, dtype=np.float16).reshape(2, 3)).requires_grad_()
    y = x.sum(1, keepdim=True)
    assert not y.grad_fn.fn.strict_gradient_count and _scaled_product(tl, "exact").strict_gradient_count
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("records", [True, False])
def test_mark_non_differentiable_takes_tensors_alone_as_in_torch(records):
    for library in (tl, torch):
        class Marks(library.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_non_differentiable(5)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        with pytest.raises(RuntimeError, match="mark_non_differentiable only accepts"):
            Marks.apply(library.ones(2, requires_grad=records))


def test_an_output_marked_non_differentiable_does_not_require_grad_as_in_torch(rng):
    """A single output marked: nothing requires grad, and backward through it is PyTorch's RuntimeError. Of several
    outputs (tl: multi_output), one marked: the others still carry gradients; backward gets None for it (PyTorch's
    zeros, materialize_grads)."""
    values = rng.uniform(-2, 2, (2, 3)).astype(np.float16)
    grads = []
    for library in (tl, torch):
        class Marked(library.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                out = x * 2
                ctx.mark_non_differentiable(out)
                return out

            @staticmethod
            def backward(ctx, g):
                return g * 2

        class Pair(library.autograd.Function):
            multi_output = True

            @staticmethod
            def forward(ctx, x):
                kept, marked = x * 3, x.sign()
                ctx.mark_non_differentiable(marked)
                return kept, marked

            @staticmethod
            def backward(ctx, g_kept, g_marked):
                assert g_marked is None or not g_marked.any()
                return g_kept * 3

        x = (tl.tensor(values) if library is tl else torch.tensor(values.astype(np.float64))).requires_grad_()
        out = Marked.apply(x)
        assert not out.requires_grad and out.grad_fn is None
        with pytest.raises(RuntimeError, match="does not require grad"):
            out.sum().backward()
        kept, marked = Pair.apply(x)
        assert kept.requires_grad and not marked.requires_grad
        (kept * marked).sum().backward()
        grads.append(x.grad.numpy().astype(np.float64))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-3)
