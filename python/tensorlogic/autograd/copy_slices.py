"""CopySlices: the node a root's history gets when one of its views is written in place (PyTorch's node of that name),
and ZeroedView, the part of its backward that the root's previous value gets."""
from .. import _core
from ..tensor import _wrap
from .broadcast import sum_to
from .function import Function
from .views import replay


class CopySlices(Function):
    """The root `base` with the view that `steps` make of it now holding `value`. Recorded, not computed: forward
    returns the root's memory, which the in-place op has written already. The root's previous value keeps its
    gradient but on the view's elements (overwritten), value gets the view of the gradient."""

    @staticmethod
    def forward(ctx, base, steps, value):
        ctx.steps = steps
        return _wrap(base._a)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        return (ZeroedView.apply(g, ctx.steps) if need[0] else None, None,
                sum_to(replay(ctx.steps, g), ctx.input_shapes[2]) if need[2] else None)


class ZeroedView(Function):
    """A copy of x with the elements of the view that `steps` make of it set to 0. Linear in x and its own adjoint, so
    it is its own backward (and derivatives of every order follow)."""

    @staticmethod
    def forward(ctx, x, steps):
        ctx.steps = steps
        out = _wrap(_core.clone(x._a))  # (contiguous, so every step makes a view of it: the fill lands in out)
        _core.fill_(replay(steps, out)._a, 0.0)
        return out

    @staticmethod
    def backward(ctx, g):
        return ZeroedView.apply(g, ctx.steps), None
