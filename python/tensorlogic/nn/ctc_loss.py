"""The connectionist temporal classification loss (torch.nn.functional.ctc_loss; nn.CTCLoss is in loss.py), composed of
public ops so that it has its gradient (of every order). The forward recursion runs over time in log space with each
step's largest alpha subtracted (and added back to the loss as a constant): the alphas that matter then lie near 0,
where f16 is precise (unshifted log-alphas of -100 would carry absolute errors of 0.05 into every posterior), and
the shifts are summed in one reduction.

The gradient is the true one of the loss with respect to log_probs; PyTorch's own returns it plus exp(log_probs),
a term that log_softmax's backward removes: through a log_softmax (how log_probs are made) both agree."""
import numpy as np

from ..creation import full, tensor
from ..errors import ShapeMismatchError
from ..ops.elementwise import where
from ..ops.reduction import logsumexp
from ..ops.shape import cat, stack
from ..tensor import Tensor
from .loss_functions import reduce_loss

# The log-probability of an impossible state: finite, so that logsumexp and its gradient stay finite (exp of it is
# 0 in f16 next to any possible state's), and far below any sum of f16 log-probabilities over a sequence's steps.
_IMPOSSIBLE = -30000.0


def _lengths(value, n, name):
    """Per-sample lengths (a tensor, list or tuple of ints) as a numpy int64 array of n entries."""
    if isinstance(value, Tensor):
        if value.is_floating_point():
            raise TypeError(f"ctc_loss: {name} must hold integers, got {value.dtype}")
        value = value.cpu().numpy()
    lengths = np.asarray(value).reshape(-1)
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {name} must hold integers, got {lengths.dtype}")
    if lengths.size != n:
        raise ShapeMismatchError(f"ctc_loss: {name} must have one entry per sample ({n}), got {lengths.size}")
    if (lengths < 0).any():
        raise ValueError(f"ctc_loss: {name} must not be negative, got {lengths.tolist()}")
    return lengths.astype(np.int64)


def _labels(targets, target_lengths, n):
    """[N, S] padded targets as numpy, from a padded [N, S_max] tensor or the 1-d concatenation of all targets."""
    if not isinstance(targets, Tensor) or targets.is_floating_point():
        raise TypeError("ctc_loss: targets must be an integer tensor")
    flat = targets.cpu().numpy().astype(np.int64)
    width = int(target_lengths.max(initial=0))
    labels = np.zeros((n, width), np.int64)
    if flat.ndim == 1:
        if flat.size < target_lengths.sum():
            raise ShapeMismatchError(f"ctc_loss: concatenated targets hold {flat.size} labels, target_lengths sum to "
                                     f"{int(target_lengths.sum())}")
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
        for i, (start, length) in enumerate(zip(starts, target_lengths)):
            labels[i, :length] = flat[start:start + length]
        return labels
    if flat.ndim != 2 or flat.shape[0] != n or flat.shape[1] < width:
        raise ShapeMismatchError(f"ctc_loss: padded targets must be [N={n}, S >= {width}], got {list(flat.shape)}")
    for i, length in enumerate(target_lengths):
        labels[i, :length] = flat[i, :length]
    return labels


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The negative log-likelihood of each target sequence under log_probs [T, N, C] (or [T, C] unbatched), summed
    over all alignments (CTC, Graves et al. 2006): targets padded [N, S] or concatenated 1-d, lengths per sample.
    reduction 'mean' divides each loss by its target length and averages; an impossible alignment is inf (0 with
    zero_infinity, which also zeroes its gradient)."""
    if not isinstance(log_probs, Tensor) or not log_probs.is_floating_point():
        raise TypeError("ctc_loss: log_probs must be a floating-point Tensor")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"ctc_loss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    if log_probs.ndim != 3:
        raise ShapeMismatchError(f"ctc_loss: log_probs must be [T, N, C] or [T, C], got {list(log_probs.shape)}")
    steps, n, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank {blank} is not a class of {classes}")
    in_lengths = _lengths(input_lengths, n, "input_lengths")
    out_lengths = _lengths(target_lengths, n, "target_lengths")
    if (in_lengths > steps).any():
        raise ValueError(f"ctc_loss: input_lengths {in_lengths.tolist()} exceed the {steps} time steps of log_probs")
    labels = _labels(targets, out_lengths, n)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise IndexError(f"ctc_loss: target labels must be classes in [0, {classes}), got {labels.min()}..{labels.max()}")
    # the extended label sequence: blank, l1, blank, l2, ..., blank; a skip over a blank only between different labels
    width = 2 * labels.shape[1] + 1
    extended = np.full((n, width), blank, np.int64)
    extended[:, 1::2] = labels
    skips = np.zeros((n, width), bool)
    skips[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    device = log_probs.device
    emissions = log_probs.gather(2, tensor(extended, device=device).unsqueeze(0).expand(steps, n, width))
    # Only states that can still finish in time take part (s >= L - 2 - 2 * steps left, s < L = 2 S + 1): at a
    # sample's last step only its two final states are left, and the rest never hold mass worth a rounding.
    states, times = np.arange(width)[None, None, :], np.arange(steps)[:, None, None]
    ends, left = 2 * out_lengths[None, :, None] + 1, in_lengths[None, :, None] - 1 - times
    reachable = (states < ends) & (states >= ends - 2 - 2 * left)
    reachable[0, :, 2:] = False  # an alignment starts with the first blank or the first label
    reachable = tensor(reachable, device=device)
    emissions = where(reachable, emissions, _IMPOSSIBLE)
    skip = tensor(skips, device=device)
    live = tensor((np.arange(steps)[:, None] < in_lengths[None, :]), device=device)  # [T, N]
    floor = full((n, 1), _IMPOSSIBLE, device=device)
    alpha, shifts = None, []
    for t in range(steps):
        if alpha is None:
            new = emissions[0]
        else:
            stay, step = alpha, cat([floor, alpha[:, :-1]], 1)
            jump = where(skip, cat([floor, floor, alpha[:, :-2]], 1), _IMPOSSIBLE)
            new = logsumexp(stack([stay, step, jump]), 0) + emissions[t]
        top = new.detach().amax(1, keepdim=True)
        scaled = (new - top).clamp(min=_IMPOSSIBLE)
        alpha = scaled if alpha is None else where(live[t].unsqueeze(1), scaled, alpha)
        shifts.append(where(live[t], top.squeeze(1), 0.0))
    total = stack(shifts).sum(0)
    dead = (total <= _IMPOSSIBLE / 2) | tensor(in_lengths == 0, device=device)
    nll = -(logsumexp(alpha, 1) + total)
    loss = where(dead, 0.0 if zero_infinity else float("inf"), nll)
    if reduction == "mean":
        loss = loss / tensor(np.maximum(out_lengths, 1).astype(np.float16), device=device)
    if unbatched and reduction == "none":
        return loss.squeeze(0)
    return reduce_loss(loss, reduction, "ctc_loss")


__all__ = ["ctc_loss"]
