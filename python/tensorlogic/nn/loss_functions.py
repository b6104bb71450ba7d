"""The element-wise losses of tl.nn.functional (l1, smooth L1, Huber, binary cross-entropy with and without
logits, KL divergence) and the shared reduction; written over public tensor ops, so they have gradients
wherever those ops do. mse_loss, nll_loss and cross_entropy are in functional.py."""
from ..autograd.function import Function
from ..errors import ShapeMismatchError
from ..ops.elementwise import log, softplus, where


def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce pair, when given, decides the reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def reduce_loss(loss, reduction, name):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"{name}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _same_shape(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeMismatchError(f"{name}: target shape {list(target.shape)} must equal input shape "
                                 f"{list(input.shape)}")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """|input - target|."""
    return reduce_loss((input - target).abs(), legacy_reduction(size_average, reduce, reduction), "l1_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where d = |input - target| < beta, else d - 0.5 beta (beta = 0 is the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = (input - target).abs()
    loss = d if beta == 0 else where(d < beta, d.square() * (0.5 / beta), d - 0.5 * beta)
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where d = |input - target| < delta, else delta (d - 0.5 delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = (input - target).abs()
    loss = where(d < delta, d.square() * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction, "huber_loss")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(target log(input) + (1 - target) log(1 - input)) for probabilities input; each log is clamped
    at -100 as in PyTorch, so input 0 or 1 gives a finite loss. The gradient (input - target) / (input (1 - input))
    has its denominator floored at 2^-12, half float16's spacing below 1, where PyTorch floors it at 1e-12 (which
    float16 cannot hold): a sigmoid output rounded to exactly 1 in float16 gives a finite gradient, not NaN."""
    _same_shape(input, target, "binary_cross_entropy")
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "binary_cross_entropy")


class _BinaryCrossEntropy(Function):
    """The elementwise loss with PyTorch's explicit gradient (composed, log's derivative 1 / (1 - input) would
    meet the clamp's zero at input 1 as 0 / 0); written in tensor ops, so second derivatives flow."""

    @staticmethod
    def forward(ctx, input, target):
        ctx.save_for_backward(input, target)
        return -(target * log(input).clamp(min=-100.0) + (1.0 - target) * log(1.0 - input).clamp(min=-100.0))

    @staticmethod
    def backward(ctx, g):
        input, target = ctx.saved_tensors
        need = ctx.needs_input_grad
        grad_input = g * (input - target) / (input * (1.0 - input)).clamp(min=2.0**-12) if need[0] else None
        grad_target = g * (log(1.0 - input).clamp(min=-100.0) - log(input).clamp(min=-100.0)) if need[1] else None
        return grad_input, grad_target


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits:
    (1 - target) x + (1 + (pos_weight - 1) target) softplus(-x)."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    log_weight = 1.0 if pos_weight is None else (pos_weight - 1.0) * target + 1.0
    loss = (1.0 - target) * input + softplus(-input) * log_weight
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "binary_cross_entropy_with_logits")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target (log target - input) per element, input holding log-probabilities; target log target is 0
    where target is 0. reduction 'batchmean' divides the sum by the batch size (the KL divergence)."""
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        loss = where(positive, target * log(where(positive, target, 1.0)), 0.0) - target * input
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return reduce_loss(loss, reduction, "kl_div")


__all__ = ["l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "kl_div"]
