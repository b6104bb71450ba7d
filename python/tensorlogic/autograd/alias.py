"""alias(t): the identity as a node of the graph, sharing t's memory: where checkpointing and the function transforms
need a tensor that stands for t (its gradient is t's) yet is a point of the graph of its own."""
from ..tensor import _wrap
from .function import Function


class Alias(Function):
    """The identity: the output is a new tensor on the input's array (no copy); the gradient passes unchanged. In-place
    ops on the output raise, as on any output that shares a custom Function's input (it would change the input behind
    autograd's back)."""

    returns_inputs = True
    native_forward = True

    @staticmethod
    def forward(ctx, t):
        return _wrap(t._a)

    @staticmethod
    def backward(ctx, grad):
        return grad

