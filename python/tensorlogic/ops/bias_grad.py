"""The bias gradient of conv (every rank, transposed too), layer_norm and batch_norm as PyTorch's double-backward
nodes give it: with create_graph, it is an output of the node that also takes the op's input and weight (and
layer_norm's bias), so it requires grad where any of them does, and their gradients through it are absent (None,
zeros with materialize_grads), as PyTorch's. (linear's and group_norm's are plain sums in PyTorch: not these.)"""
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled


def bias_grad(g, dims, *inputs):
    """g summed over dims (() keeps g), the gradient of a bias added along the other dims; `inputs`: the op's tensors
    (or None) whose edges PyTorch's node of the bias gradient has."""
    if not is_grad_enabled():  # first derivatives: nothing records it
        return g.sum(dims) if dims else g
    return _BiasGrad.apply(g, tuple(dims), *inputs)


class _BiasGrad(Function):
    @staticmethod
    def forward(ctx, g, dims, *inputs):
        ctx.dims = dims
        return g.sum(dims) if dims else g

    @staticmethod
    def backward(ctx, gg):
        shape = ctx.input_shapes[0]
        kept = [1 if d in ctx.dims else size for d, size in enumerate(shape)]
        g_grad = gg.reshape(kept).expand(shape) if ctx.needs_input_grad[0] else None
        return (g_grad, None) + (None,) * (len(ctx.input_shapes) - 2)


def add_bias(out, bias, inputs):
    """out + bias along dim 1 (a channel bias of [N, C, ...]), whose gradient is bias_grad's with `inputs`."""
    return _AddBias.apply(out, bias, *inputs)


class _AddBias(Function):
    @staticmethod
    def forward(ctx, out, bias, *inputs):
        ctx.save_for_backward(*inputs)
        return out + bias.reshape((1, -1) + (1,) * (out.ndim - 2))

    @staticmethod
    def backward(ctx, g):
        dims = (0,) + tuple(range(2, g.ndim))
        gb = bias_grad(g, dims, *ctx.saved_tensors) if ctx.needs_input_grad[1] else None
        return (g, gb) + (None,) * len(ctx.saved_tensors)
