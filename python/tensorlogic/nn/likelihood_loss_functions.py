"""The negative log-likelihood losses of a Poisson and of a Gaussian (torch.nn.functional's poisson_nll_loss
and gaussian_nll_loss, modules PoissonNLLLoss and GaussianNLLLoss), composed of public tensor ops."""
import math

from ..autograd.grad_mode import no_grad
from ..errors import ShapeMismatchError
from ..ops.elementwise import exp, log, where
from .loss_functions import legacy_reduction, reduce_loss

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input (log_input), or input - target * log(input + eps); full adds Stirling's
    approximation of log(target!) where target > 1."""
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        safe = where(target > 1, target, 1.0)  # the unused branch stays finite (no NaN in its gradient)
        stirling = safe * log(safe) - safe + log(safe * (2 * math.pi)) * 0.5
        loss = loss + where(target > 1, stirling, 0.0)
    return reduce_loss(loss, legacy_reduction(size_average, reduce, reduction), "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) when full), var clamped to eps from below (the
    clamp passes the gradient through, as PyTorch's in-place clamp under no_grad does). var has input's shape,
    or one dim fewer, or a last dim of 1 (one variance per sample)."""
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ShapeMismatchError(f"gaussian_nll_loss: var {list(var.shape)} does not fit input "
                                     f"{list(input.shape)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"gaussian_nll_loss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    if bool((var < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entries")
    with no_grad():
        lift = var.clamp(min=eps) - var  # added outside the graph: the gradient reaches var unchanged
    var = var + lift
    loss = (log(var) + (input - target).square() / var) * 0.5
    if full:
        loss = loss + _HALF_LOG_2PI
    return reduce_loss(loss, reduction, "gaussian_nll_loss")


__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]
