"""The margin and embedding losses as modules (torch.nn's constructors); the math is in margin_loss_functions."""
from .loss import _Loss, _WeightedLoss
from .margin_loss_functions import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
                                    multilabel_margin_loss, multilabel_soft_margin_loss, soft_margin_loss,
                                    triplet_margin_loss, triplet_margin_with_distance_loss)


class _MarginLoss(_Loss):
    """A loss whose one setting is margin: forward passes its inputs, the margin and the reduction to _fn."""

    _fn = None

    def __init__(self, margin, size_average, reduce, reduction):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, *inputs, **named):
        """The loss of the inputs, reduced; positional or by the functional's (and PyTorch's forward's) names."""
        return type(self)._fn(*inputs, **named, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """cosine_embedding_loss as a module (margin default 0, reduction 'mean'): forward(input1, input2, target) is the
    loss of the pairs (input1, input2) labelled 1 (similar) or -1 (dissimilar)."""

    _fn = staticmethod(cosine_embedding_loss)

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)


class MarginRankingLoss(_MarginLoss):
    """margin_ranking_loss as a module (margin default 0, reduction 'mean'): forward(input1, input2, target) is the
    loss of ranking input1 above input2 where target is 1 (below where it is -1)."""

    _fn = staticmethod(margin_ranking_loss)

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """hinge_embedding_loss as a module (margin default 1, reduction 'mean'): forward(input, target) is the loss of
    distances input labelled 1 (similar) or -1 (dissimilar)."""

    _fn = staticmethod(hinge_embedding_loss)

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, size_average, reduce, reduction)


class TripletMarginLoss(_Loss):
    """triplet_margin_loss as a module (margin 1, p 2, eps 1e-6, swap False, reduction 'mean')."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be positive, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        """The loss of anchors closer to positive than to negative by the margin."""
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                   reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """triplet_margin_with_distance_loss as a module (distance_function pairwise_distance by default, margin 1, swap
    False, reduction 'mean'; the arguments are keywords, as in PyTorch)."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        if distance_function is not None and not callable(distance_function):
            raise TypeError("TripletMarginWithDistanceLoss: distance_function must be callable")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor, positive, negative):
        """The loss of anchors closer to positive than to negative by the margin, under distance_function."""
        return triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                 margin=self.margin, swap=self.swap, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """soft_margin_loss as a module (reduction 'mean')."""

    def forward(self, input, target):
        """log(1 + exp(-target * input)), reduced."""
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """multilabel_soft_margin_loss as a module (weight per class, a buffer; reduction 'mean')."""

    def forward(self, input, target):
        """The mean over classes of the logistic losses, reduced over samples."""
        return multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """multi_margin_loss as a module (p 1 or 2, margin 1, weight per class as a buffer, reduction 'mean')."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        """The multi-class hinge loss of input [N, C] against the int64 classes target [N]."""
        return multi_margin_loss(input, target, self.p, self.margin, self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """multilabel_margin_loss as a module (reduction 'mean'): input [N, C] against each sample's target classes
    (int64 of input's shape, up to the first -1)."""

    def forward(self, input, target):
        """The multi-label hinge loss, reduced over samples."""
        return multilabel_margin_loss(input, target, reduction=self.reduction)


__all__ = ["CosineEmbeddingLoss", "MarginRankingLoss", "HingeEmbeddingLoss", "TripletMarginLoss",
           "TripletMarginWithDistanceLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
           "MultiLabelMarginLoss"]
