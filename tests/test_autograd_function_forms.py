"""A user's autograd.Function as PyTorch 2 allows it, against torch.autograd.Function on the same f16 inputs:
keyword arguments bound to forward's parameters (a keyword tensor gets its gradient), the setup_context form (forward
without ctx, then setup_context(ctx, inputs, output)), several outputs (zeros for an unused one's gradient, or None
after ctx.set_materialize_grads(False); integer tensors and numbers among them carry none) and once_differentiable; their errors; the profiler and tl.compile see them."""
import numpy as np
import pytest
import torch

import tensorlogic as tl


def _classes(lib):
    """The same two Functions written against `lib` (torch or tensorlogic), in both forms."""
    class Scaled(lib.autograd.Function):  # forward(ctx, ...): keywords may name any parameter
        @staticmethod
        def forward(ctx, x, y, scale=1.0):
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            return x * y * scale

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y * ctx.scale, g * x * ctx.scale * 2, None

    class Cubed(lib.autograd.Function):  # the setup_context form
        @staticmethod
        def forward(x, y, power=3):
            return x ** power + y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, _, power = inputs
            ctx.save_for_backward(x)
            ctx.power = power

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.power * x ** (ctx.power - 1), g, None

    return Scaled, Cubed


# (Function, x, y, the name of its third parameter): positional, keywords for positional parameters, reordered
CALLS = [lambda F, a, b, third: F.apply(a, b), lambda F, a, b, third: F.apply(a, y=b),
         lambda F, a, b, third: F.apply(y=b, x=a), lambda F, a, b, third: F.apply(a, b, 0.5),
         lambda F, a, b, third: F.apply(a, **{third: 0.5}, y=b)]


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("call", range(len(CALLS)))
def test_keywords_bind_to_forwards_parameters_as_torch(device, rng, form, call):
    x, y = (rng.uniform(0.5, 1.5, (3, 4)).astype(np.float16) for _ in range(2))
    results = []
    for lib, make in ((tl, lambda v: tl.tensor(v, device=device, requires_grad=True)),
                      (torch, lambda v: torch.tensor(v.astype(np.float64), requires_grad=True))):
        fn = _classes(lib)[form]
        a, b = make(x), make(y)
        try:
            out = CALLS[call](fn, a, b, ("scale", "power")[form])
        except TypeError as e:  # PyTorch before 2.13 binds keywords only for the setup_context form
            if lib is torch and "takes no keyword arguments" in str(e):
                pytest.skip(f"PyTorch {torch.__version__} has no keywords in apply() for this form")
            raise
        out.sum().backward()
        results.append([t.detach().cpu().numpy().astype(np.float64) for t in (out, a.grad, b.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=4e-3, atol=1e-3)


def test_binding_errors_are_torchs_type_errors(device):
    a = tl.ones(2, device=device, requires_grad=True)
    for fn in _classes(tl):
        with pytest.raises(TypeError, match="unexpected keyword argument 'extra'"):
            fn.apply(a, a, extra=1)
        with pytest.raises(TypeError, match="multiple values for argument 'x'"):
            fn.apply(a, a, x=a)
        with pytest.raises(TypeError, match="missing .*'y'"):
            fn.apply(a)
    with pytest.raises(NotImplementedError, match="setup_context is not implemented"):
        tl.autograd.Function.setup_context(None, (), None)


def test_profiler_and_compile_see_both_forms(device, rng):
    scaled, cubed = _classes(tl)
    x = tl.tensor(rng.uniform(0.5, 1.5, 6).astype(np.float16), device=device, requires_grad=True)
    with tl.profiler.profile() as prof:
        (scaled.apply(x, y=x) + cubed.apply(x, x)).sum().backward()
    names = {e.key for e in prof.key_averages()}
    assert {"Scaled", "Cubed", "ScaledBackward", "CubedBackward"} <= names, names  # PyTorch's profiler's names
    assert repr(cubed.apply(x, x).grad_fn) == "<CubedBackward>"

    def step(v):
        return (scaled.apply(v, y=v, scale=0.5) + cubed.apply(v, y=v)).sum()

    compiled = tl.compile(step)
    for _ in range(3):
        v = tl.tensor(rng.uniform(0.5, 1.5, 6).astype(np.float16), device=device, requires_grad=True)
        w = v.detach().clone().requires_grad_()
        compiled(v).backward()
        step(w).backward()
        np.testing.assert_array_equal(v.grad.cpu().numpy(), w.grad.cpu().numpy())


def _split_classes(lib):
    class Split(lib.autograd.Function):  # two outputs: backward gets a gradient for each
        @staticmethod
        def forward(ctx, x, materialize=True):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            return x * x, x.exp()

        @staticmethod
        def backward(ctx, g_square, g_exp):
            (x,) = ctx.saved_tensors
            seen.append((g_square is None, g_exp is None))
            grad = 0
            if g_square is not None:
                grad = grad + g_square * 2 * x
            if g_exp is not None:
                grad = grad + g_exp * x.exp()
            return grad, None

    class Doubled(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    seen = []
    return Split, Doubled, seen


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("used", ["both", "first", "second"])
def test_several_outputs_as_torch(device, rng, materialize, used):
    x = rng.uniform(-1, 1, (3, 2)).astype(np.float16)
    w = rng.uniform(0.5, 1.5, (2, 3, 2)).astype(np.float16)
    results = []
    for lib, make in ((tl, lambda v: tl.tensor(v, device=device)), (torch, lambda v: torch.tensor(v.astype(np.float64)))):
        split, _, seen = _split_classes(lib)
        a = make(x).requires_grad_()
        square, exp = split.apply(a, materialize)
        loss = {"both": (square * make(w[0])).sum() + (exp * make(w[1])).sum(), "first": (square * make(w[0])).sum(),
                "second": (exp * make(w[1])).sum()}[used]
        loss.backward()
        results.append((a.grad.cpu().numpy().astype(np.float64), seen, square.grad_fn is not exp.grad_fn))
    (ours, our_seen, _), (theirs, their_seen, _) = results
    assert our_seen == their_seen
    np.testing.assert_allclose(ours, theirs, rtol=4e-3, atol=1e-3)


def test_once_differentiable_as_torch(device, rng):
    x = rng.uniform(0.5, 1.5, 4).astype(np.float16)
    for lib, make in ((tl, lambda v: tl.tensor(v, device=device)), (torch, lambda v: torch.tensor(v.astype(np.float64)))):
        _, doubled, _ = _split_classes(lib)
        a = make(x).requires_grad_()
        (g,) = lib.autograd.grad(doubled.apply(a).sum(), a)
        np.testing.assert_allclose(g.detach().cpu().numpy().astype(np.float64), 2 * x.astype(np.float64), rtol=1e-3)
        assert not g.requires_grad
        (g,) = lib.autograd.grad(doubled.apply(a).sum(), a, create_graph=True)  # the seed gradient needs no graph
        assert not g.requires_grad
        v = make(x[::-1].copy()).requires_grad_()  # a gradient that requires grad reaches the backward
        (g,) = lib.autograd.grad(doubled.apply(a), a, grad_outputs=v, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="differentiate twice a function that was marked with @once_differ"):
            g.sum().backward()


def _top_class(lib):
    class Top(lib.autograd.Function):  # a float output, its integer indices and a number: backward takes three
        @staticmethod
        def forward(ctx, x):
            values, indices = x.max(dim=1)
            ctx.save_for_backward(x, indices)
            return values * 2, indices, x.shape[1]

        @staticmethod
        def backward(ctx, g_values, g_indices, g_count):
            x, indices = ctx.saved_tensors
            seen.append((g_indices.dtype == indices.dtype, g_indices.tolist(), g_count))
            return lib.zeros_like(x).scatter(1, indices.unsqueeze(1), 2 * g_values.unsqueeze(1))

    seen = []
    return Top, seen


def test_integer_and_number_outputs_carry_no_gradient_as_torch(device, rng):
    """A float output with integer indices and a number beside it: the indices and the number do not require grad,
    and backward gets zeros of the indices' dtype and None for the number, as PyTorch's."""
    x = rng.permutation(12).reshape(3, 4).astype(np.float16)  # distinct values: one maximum per row
    w = rng.uniform(0.5, 1.5, 3).astype(np.float16)
    results = []
    for lib, make in ((tl, lambda v: tl.tensor(v, device=device)), (torch, lambda v: torch.tensor(v.astype(np.float64)))):
        top, seen = _top_class(lib)
        a = make(x).requires_grad_()
        values, indices, count = top.apply(a)
        assert values.requires_grad and not indices.requires_grad and indices.grad_fn is None and count == 4
        (values * make(w)).sum().backward()
        results.append((a.grad.cpu().numpy().astype(np.float64), indices.tolist(), seen))
        with pytest.raises(RuntimeError, match="does not require grad"):
            indices.float().sum().backward()
    (ours, our_indices, our_seen), (theirs, their_indices, their_seen) = results
    assert our_indices == their_indices and our_seen == their_seen == [(True, [0, 0, 0], None)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)
