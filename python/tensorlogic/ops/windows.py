"""Tensor.unfold: the sliding windows along one dimension as a strided view (no copy), as in PyTorch. (The
im2col unfold of torch.nn.functional is ops/conv.py's.)"""
from .. import _core
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.views import note_view
from ..creation import arange, zeros
from ..tensor import _wrap, tensor_method
from .index_update import index_add


class _Unfold(Function):
    """The windows' gradient is summed back onto the positions each window covers (windows overlap where
    step < size), by one index_add over the window elements' positions."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def view_name(args, index):
        return "Unfold"

    @staticmethod
    def forward(ctx, x, dim, size, step):
        if ctx is not _NULL:  # (setting an attribute of the null ctx is a Python call)
            ctx.dim, ctx.size, ctx.step = dim, size, step
        out = _wrap(_core.unfold(x._a, dim, size, step))
        if ctx is not _NULL or grad_enabled():
            note_view(x, out, (_Unfold, (dim, size, step), None))
        return out

    @staticmethod
    def backward(ctx, g):
        shape = ctx.input_shapes[0]
        if not shape:  # a 0-d input: its one window
            return g.sum(), None, None, None
        dim = ctx.dim % len(shape)
        windows = g.shape[dim]
        # element j of window i sits at position i * step + j; rows ordered as g's (window, element) pairs
        positions = (arange(windows, device=g.device) * ctx.step).unsqueeze(1) + arange(ctx.size, device=g.device)
        flat = g.movedim(-1, dim + 1).flatten(dim, dim + 1)
        grad = index_add(zeros(shape, dtype=g.dtype, device=g.device), dim, positions.reshape(-1), flat)
        return grad, None, None, None


@tensor_method("unfold")
def _unfold(input, dimension, size, step):
    """A view of the windows of `size` elements every `step` along `dimension`, the window's elements as a new
    last dimension: shape[dimension] becomes (shape[dimension] - size) // step + 1. ValueError for step <= 0,
    size < 0 or a size beyond the dimension's."""
    return _Unfold.apply(input, dimension, size, step)
