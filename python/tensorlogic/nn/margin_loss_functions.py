"""The margin and embedding losses of torch.nn.functional and their modules: cosine_embedding_loss
margin_ranking_loss hinge_embedding_loss triplet_margin_loss triplet_margin_with_distance_loss soft_margin_loss
multilabel_soft_margin_loss multi_margin_loss multilabel_margin_loss, composed of public tensor ops (so they have gradients), with PyTorch's formulas and
reductions."""
from ..creation import arange
from ..errors import ShapeMismatchError
from ..ops.elementwise import softplus, where
from .distance import pairwise_distance
from .loss_functions import legacy_reduction, reduce_loss

_F16_TINY = 2.0**-24


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1 (cos over the last dim)."""
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise ShapeMismatchError(f"cosine_embedding_loss: inputs must be 1-d or 2-d of one shape, got "
                                 f"{list(input1.shape)} and {list(input2.shape)}")
    dot = (input1 * input2).sum(-1)
    norms = input1.norm(2, -1) * input2.norm(2, -1)
    cos = dot / norms.clamp(min=_F16_TINY)
    loss = where(target == 1, 1.0 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0.0), 0.0)
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin): input1 should rank higher where target is 1."""
    loss = (-target * (input1 - input2) + margin).clamp(min=0.0)
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1 (PyTorch's sum of both for other
    targets)."""
    loss = where(target != 1, (margin - input).clamp(min=0.0), 0.0) + where(target != -1, input, 0.0)
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "hinge_embedding_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm pairwise distance; with swap, the
    smaller of d(anchor, negative) and d(positive, negative)."""
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeMismatchError(f"triplet_margin_loss: anchor, positive and negative must have the same number of "
                                 f"dims, got {anchor.ndim}, {positive.ndim} and {negative.ndim}")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be positive, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    loss = (d_pos - d_neg + margin).clamp(min=0.0)
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                     reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with any distance d (a callable of two tensors
    returning one distance per sample; pairwise_distance by default); with swap, the smaller of d(anchor, negative)
    and d(positive, negative)."""
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"triplet_margin_with_distance_loss: distance_function must be callable, got "
                        f"{type(distance_function).__name__}")
    if not margin > 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeMismatchError(f"triplet_margin_with_distance_loss: anchor, positive and negative must have the same "
                                 f"number of dims, got {anchor.ndim}, {positive.ndim} and {negative.ndim}")
    distance = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    loss = (d_pos - d_neg + margin).clamp(min=0.0)
    return reduce_loss(loss, legacy_reduction(None, None, reduction), "triplet_margin_with_distance_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), the two-class logistic loss for targets of +-1."""
    return reduce_loss(softplus(-target * input), legacy_reduction(size_average, reduce, reduction),
                       "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(target log sigmoid(input) + (1 - target) log sigmoid(-input)), times weight, averaged over the classes
    (the last dim) of each sample."""
    loss = target * softplus(-input) + (1.0 - target) * softplus(input)
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1] if input.ndim else loss
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "multilabel_soft_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """The multi-class hinge loss: sum over classes i != y of max(0, margin - x[y] + x[i])^p (times weight[y]),
    over the number of classes; input [N, C] (or [C]), target the int64 classes y."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    if input.ndim not in (1, 2):
        raise ShapeMismatchError(f"multi_margin_loss: input must be 1-d or 2-d, got {list(input.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    y = target.reshape(-1, 1).long()
    if y.shape[0] != x.shape[0]:
        raise ShapeMismatchError(f"multi_margin_loss: target {list(target.shape)} must have one class per sample of "
                                 f"input {list(input.shape)}")
    z = (x - x.gather(1, y) + margin).clamp(min=0.0)
    z = z if p == 1 else z.square()
    if weight is not None:
        z = z * weight.gather(0, y.reshape(-1)).unsqueeze(1)
    z = z.scatter(1, y, 0.0)  # the target's own class does not count
    loss = z.sum(1) / x.shape[1]
    loss = loss if input.ndim == 2 else loss.reshape(())
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "multi_margin_loss")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss: for each sample, the sum over its target classes j and the other classes i of
    max(0, 1 - (x[j] - x[i])), over the number of classes. input [N, C] (or [C]); target int64 of input's shape
    holds each sample's target classes, up to the first -1 (the rest is ignored). Composed on the device (pairs
    of classes: N * C * C elements)."""
    if input.ndim not in (1, 2):
        raise ShapeMismatchError(f"multilabel_margin_loss: input must be 1-d or 2-d, got {list(input.shape)}")
    if target.shape != input.shape or target.is_floating_point() or target.dtype.name == "bool":
        raise ShapeMismatchError(f"multilabel_margin_loss: target must be an integer tensor of input's shape "
                                 f"{list(input.shape)}, got {target.dtype.name} {list(target.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    y = (target if input.ndim == 2 else target.unsqueeze(0)).long()
    classes = x.shape[1]
    valid = (y != -1).long().cumprod(1).bool()  # the entries before the first -1
    if bool(((y < 0) | (y >= classes)).logical_and(valid).any()):
        raise IndexError(f"multilabel_margin_loss: target holds a class outside [0, {classes})")
    picked = where(valid, y, 0)
    is_target = ((picked.unsqueeze(-1) == arange(classes, device=x.device)) & valid.unsqueeze(-1)).any(1)
    x_target = x.gather(1, picked)  # [N, C]: x at each listed target j
    hinge = (1.0 - x_target.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0.0)  # [N, j, i]
    counted = valid.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = where(counted, hinge, 0.0).sum((1, 2)) / classes
    loss = loss if input.ndim == 2 else loss.reshape(())
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "multilabel_margin_loss")


__all__ = ["cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss"]
