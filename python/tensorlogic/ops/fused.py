"""tl.fused: the fused ops of SPEC §4, each one kernel (one rounding) where a native single-kernel path
exists, and differentiable: every backward is written with differentiable tensor ops, so second
derivatives work.

  add_relu, mul_relu        relu(a + b), relu(a * b): the binary kernels' fused forms
  affine                    x * a + b: the ternary affine kernel
  linear_act                activation(x @ w.T + bias): the GEMM epilogue
  linear_residual_relu      relu(x @ w.T + bias + residual): the GEMM epilogue
  attention                 softmax(q @ k^T * scale + mask) @ v: the attention kernel
  softmax_cross_entropy     logsumexp and the target pick per row: the cross-entropy row kernel (every backend)
  gelu_linear               linear(gelu(x)): composed (two kernels, two roundings) on every backend for now
  layer_norm_linear         linear(layer_norm(x)): composed (two kernels, two roundings) on every backend for now
"""
import math
import numbers

from .. import _core
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..creation import arange
from ..errors import ShapeMismatchError
from ..tensor import Tensor, _as_tensor_like, _wrap
from .conv import scaled_dot_product_attention
from .elementwise import _B, _Binary, gelu
from .linalg import linear
from .shape import _Expand
from .rows import layer_norm, softmax

__all__ = ["add_relu", "mul_relu", "affine", "linear_act", "linear_residual_relu", "gelu_linear",
           "layer_norm_linear", "softmax_cross_entropy", "attention"]


def _check_tensor(value, name, what):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: {what} must be a tensor, got {type(value).__name__}")


def add_relu(input, other):
    """relu(input + other) with broadcasting, in one kernel rounded once; other may be a number."""
    _check_tensor(input, "add_relu", "input")
    return _Binary.apply(_B.add_relu, input, other)


def mul_relu(input, other):
    """relu(input * other) with broadcasting, in one kernel rounded once; other may be a number."""
    _check_tensor(input, "mul_relu", "input")
    return _Binary.apply(_B.mul_relu, input, other)


def affine(input, scale, shift):
    """input * scale + shift with broadcasting, in one kernel rounded once (scale and shift may be numbers)."""
    _check_tensor(input, "affine", "input")
    return _Affine.apply(input, _as_tensor_like(scale, input), _as_tensor_like(shift, input))


class _Affine(Function):
    @staticmethod
    def forward(ctx, x, a, b):
        ctx.save_for_backward(x, a)
        return _wrap(_core.affine(x._a, a._a, b._a))

    @staticmethod
    def backward(ctx, g):
        x, a = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (sum_to(g * a, x.shape) if need[0] else None, sum_to(g * x, a.shape) if need[1] else None,
                sum_to(g, ctx.input_shapes[2]) if need[2] else None)


_ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "silu", None)


def linear_act(input, weight, bias=None, activation="relu"):
    """activation(input @ weight.T + bias) in one GEMM whose epilogue adds the bias and applies the
    activation ("relu", "gelu", "gelu_tanh", "silu" or None) before the single rounding."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"linear_act: unknown activation {activation!r}; expected one of "
                         "'relu', 'gelu', 'gelu_tanh', 'silu' or None")
    return linear(input, weight, bias, activation)


def linear_residual_relu(input, weight, bias, residual):
    """relu(input @ weight.T + bias + residual) in one GEMM (bias may be None); residual broadcasts to the
    output's shape. Bias, residual and relu are applied in f32 before the single rounding."""
    if residual is None:
        raise ValueError("linear_residual_relu: residual is required (use linear_act without one)")
    return linear(input, weight, bias, "relu", residual)


def gelu_linear(input, weight, bias=None, approximate="none"):
    """linear(gelu(input), weight, bias). Composed on every backend for now: the gelu kernel, then the
    GEMM (two roundings: gelu's output is an f16 tensor)."""
    return linear(gelu(input, approximate=approximate), weight, bias)


def layer_norm_linear(input, norm_weight, norm_bias, weight, bias=None, eps=1e-5):
    """linear(layer_norm(input over its last dimension, norm_weight, norm_bias, eps), weight, bias);
    norm_weight and norm_bias may be None. Composed on every backend for now: the layer_norm row kernel,
    then the GEMM (two roundings)."""
    _check_tensor(input, "layer_norm_linear", "input")
    if input.ndim == 0:
        raise ShapeMismatchError("layer_norm_linear: input must have at least one dimension, got a 0-d tensor")
    return linear(layer_norm(input, (input.shape[-1],), norm_weight, norm_bias, eps), weight, bias)


def attention(query, key, value, attn_mask=None, is_causal=False, scale=None):
    """softmax(query @ key^T * scale + attn_mask) @ value in one kernel rounded once
    (tl.scaled_dot_product_attention without dropout)."""
    return scaled_dot_product_attention(query, key, value, attn_mask, is_causal=is_causal, scale=scale)


def softmax_cross_entropy(logits, target, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    """PyTorch's cross_entropy for integer class-index targets: logits [N, C, d1, ...] or [C] (classes in
    dimension 1, or 0 unbatched), target [N, d1, ...] or 0-d. One row kernel computes each loss
    logsumexp(x) - (1 - s) x[t] - s / C * sum(x) in f32 and rounds once; targets equal to ignore_index
    count for nothing, and 'mean' averages over the counted targets (NaN when there are none).

    Any other target outside [0, C) raises IndexError naming it. On the CPU it is raised here; on CUDA the
    targets are checked on the device, so a training step never waits for them, and the error is raised
    at the next point where the host waits for that device: at the latest when the loss or anything computed
    from it is read (.item(), .numpy()) or the device is synchronised (until then such rows hold NaN)."""
    _check_tensor(logits, "softmax_cross_entropy", "logits")
    _check_tensor(target, "softmax_cross_entropy", "target")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"softmax_cross_entropy: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    # The ABC checks cost ~0.3 us each: plain ints and floats, nearly every call, skip them.
    if type(ignore_index) is not int and not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"softmax_cross_entropy: ignore_index must be an int, got {type(ignore_index).__name__}")
    if type(label_smoothing) is not float and not isinstance(label_smoothing, numbers.Real) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"softmax_cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    shape = logits._a.shape
    if not shape:
        raise ShapeMismatchError("softmax_cross_entropy: logits must have a class dimension, got a 0-d tensor")
    expected = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if target._a.shape != expected:
        raise ShapeMismatchError(f"softmax_cross_entropy: logits of shape {list(shape)} expect a target of "
                                 f"shape {list(expected)}, got {list(target.shape)}")
    x = logits.movedim(1, -1) if len(shape) > 2 else logits  # classes last: a view, copied by the kernel
    return _SoftmaxCrossEntropy.apply(x, target, int(ignore_index), float(label_smoothing), reduction)


_REDUCTIONS = ("mean", "sum", "none")
_R = _core.ReduceOp


class _SoftmaxCrossEntropy(Function):
    """The loss per row, or its sum, or its mean over the counted targets, as one node (the reduction inside it:
    as ops of their own, `loss.mean() / counted` cost ~8 us of host time per call). d loss / d x = (softmax(x) -
    (1 - s) onehot(t) - s / C) * g on counted rows, written with softmax (differentiable) so that second
    derivatives flow through it. The reductions and their gradients are the ops that `loss.sum()` and
    `loss.mean() / counted` record, in the same order, so values and gradients keep their bits."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, x, target, ignore_index, smoothing, reduction):
        counted = None
        keep = ctx is not _NULL  # each row's logsumexp for the backward, which then reads the logits once
        if reduction == "mean":  # over the counted targets, on the device (no host synchronisation)
            loss, counted, stats = _core.softmax_cross_entropy_mean(x._a, target._a, ignore_index, smoothing, keep)
        else:
            if keep:
                loss, stats = _core.softmax_cross_entropy_keeping_stats(x._a, target._a, ignore_index, smoothing)
            else:
                loss, stats = _core.softmax_cross_entropy(x._a, target._a, ignore_index, smoothing), None
            if reduction == "sum":
                loss = _core.reduce(_R.sum, loss, [], False, 1.0, 2.0)
        if ctx is not _NULL:
            ctx.ignore_index, ctx.smoothing, ctx.reduction = ignore_index, smoothing, reduction
            ctx.counted = None if counted is None else _wrap(counted)
            ctx.stats = stats
            ctx.save_for_backward(x, target)
        return _wrap(loss)

    @staticmethod
    def backward(ctx, g):
        x, target = ctx.saved_tensors
        rows = target.shape  # the per-row loss's shape
        if ctx.reduction == "sum":
            g = _Expand.apply(g, _core.expand, rows)
        elif ctx.reduction == "mean":
            g = (g / ctx.counted).reshape((1,) * len(rows)).expand(rows) / max(math.prod(rows), 1)
        if not _grad_enabled():  # first derivatives only: one fused kernel where the backend has it
            fused = _core.softmax_cross_entropy_backward(x._a, target._a, g._a, ctx.ignore_index, ctx.smoothing,
                                                         ctx.stats)
            if fused is not None:
                return _wrap(fused), None, None, None, None
        classes = x.shape[-1]
        s = ctx.smoothing
        t = target.unsqueeze(-1)
        wanted = (t == arange(classes, device=x.device)).float()  # the one-hot target rows
        if s > 0:
            wanted = wanted * (1.0 - s) + s / classes
        keep = (t != ctx.ignore_index) * g.unsqueeze(-1)
        return (softmax(x, -1) - wanted) * keep, None, None, None, None
