"""Every common loss as a module (torch.nn's constructors: reduction, the legacy size_average/reduce pair,
weight and pos_weight as buffers so they move with .to() and appear in state_dict); the math is in
tl.nn.functional."""
from . import functional as F
from .loss_functions import legacy_reduction
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """|input - target| (same shapes), reduction 'mean' (default), 'sum' or 'none' (per element); the legacy
    size_average/reduce pair is honoured as in PyTorch."""
    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """(input - target)^2 (same shapes), reduction 'mean' (default), 'sum' or 'none' (per element); the legacy
    size_average/reduce pair is honoured as in PyTorch."""
    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits [N, C] (or [C], or [N, C, d1, ...]) against class indices (int64) or class
    probabilities, as torch.nn.CrossEntropyLoss: optional class weights (a buffer), ignore_index, label_smoothing;
    reduction 'mean' (default), 'sum' or 'none' (per element); the legacy size_average/reduce pair is honoured as in
    PyTorch. Computed from log_softmax in f32."""
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        """The loss of logits `input` against `target` (class indices or probabilities): a 0-d tensor, or per sample
        with reduction='none'."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities [N, C] (or [C], or [N, C, d1, ...]) at int64 class targets, with
    optional class weights (a buffer) and ignore_index; 'mean' divides by the total weight of the counted targets,
    as torch.nn.NLLLoss."""
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """The loss of log-probabilities `input` at the classes in `target`: a 0-d tensor, or per sample with
        reduction='none'."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities input against target, each log clamped at -100 as in PyTorch; optional
    element weights (a buffer); reduction 'mean' (default), 'sum' or 'none' (per element); the legacy
    size_average/reduce pair is honoured as in PyTorch."""
    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy computed stably from logits (sigmoid folded in), with optional weight and pos_weight
    (positive-class weights) as buffers, as torch.nn.BCEWithLogitsLoss; reduction 'mean' (default), 'sum' or 'none'
    (per element); the legacy size_average/reduce pair is honoured as in PyTorch."""
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where d = |input - target| < beta, else d - 0.5 beta (beta=0 is L1), as torch.nn.SmoothL1Loss;
    reduction 'mean' (default), 'sum' or 'none' (per element); the legacy size_average/reduce pair is honoured as in
    PyTorch."""
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where d = |input - target| < delta, else delta (d - 0.5 delta), as torch.nn.HuberLoss; reduction
    'mean', 'sum' or 'none'."""
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence target (log target - input) per element, input holding log-probabilities (log_target=True:
    target too), as torch.nn.KLDivLoss; reduction 'batchmean' divides the sum by the batch size (the mathematical
    KL), 'mean' by the element count."""
    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        """The loss: a 0-d tensor, or per element with reduction='none'."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CTCLoss(_Loss):
    """The CTC loss of log_probs [T, N, C] against target sequences (F.ctc_loss), as torch.nn.CTCLoss: blank,
    reduction 'mean' (default), 'sum' or 'none', zero_infinity."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """The loss: a 0-d tensor, or per sample with reduction='none'."""
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)


__all__ = ["L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss",
           "HuberLoss", "KLDivLoss", "CTCLoss"]
