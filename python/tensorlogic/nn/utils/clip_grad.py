"""Gradient clipping as torch.nn.utils.clip_grad: the norms, the clipping coefficient and the scaling stay on
the gradients' devices as tensors, so a training step that clips never waits for the GPU (issue #18)."""
import math
import types
import warnings

from ...autograd.grad_mode import no_grad
from ...creation import tensor
from ...ops.reduction import norm
from ...ops.shape import stack
from ...tensor import Tensor


def _listed(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _by_device(tensors):
    """The tensors grouped by device, in order of first appearance (PyTorch groups the same way)."""
    groups = {}
    for t in tensors:
        groups.setdefault(t.device, []).append(t)
    return groups.values()


@no_grad()
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of order `norm_type` (any real, inf or -inf) of `tensors` viewed as one vector, as a 0-d f16 tensor
    on the first tensor's device (0.0 on the CPU for none): each tensor's norm is accumulated in f32 and rounded to
    f16, then those norms are reduced the same way, as PyTorch does for f16 tensors (a norm beyond 65504 is inf).
    Nothing is read back to the host, except with error_if_nonfinite=True, which must read the norm to raise
    RuntimeError when it is nan or +-inf (PyTorch reads it too)."""
    tensors = _listed(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    first = tensors[0].device
    norms = [norm(t, norm_type).to(first) for group in _by_device(tensors) for t in group]
    total = norm(stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return total


@no_grad()
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiplies the parameters' gradients in place by min(max_norm / (total_norm + 1e-6), 1), computed on the
    device from the tensor `total_norm` (get_total_norm's): always multiplied, even by 1, because deciding whether to
    skip it would read the norm on the host."""
    grads = [g for p in _listed(parameters) if (g := p.grad) is not None]  # each read once (threads)
    if not grads:
        return
    # PyTorch's `max_norm / t` is t.reciprocal() * max_norm: the same two f16 roundings give the same coefficient.
    coef = ((total_norm + 1e-6).reciprocal() * float(max_norm)).clamp(max=1.0)
    for group in _by_device(grads):
        here = coef.to(group[0].device)
        for g in group:
            g.mul_(here)


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so their joint norm of order `norm_type` is at most max_norm; returns that norm
    before clipping (get_total_norm's 0-d f16 tensor) and scales with clip_grads_with_norm_, all on the device:
    only error_if_nonfinite=True reads the host. A non-finite norm scales by 0 (inf) or NaN, as in PyTorch.
    `foreach` is PyTorch's switch between its multi-tensor and per-tensor paths, which give the same numbers; here
    there is one path (a reduction and a multiply per gradient: no multi-tensor kernel takes a scale held on the
    device), so every value gives it."""
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _listed(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [g for p in parameters if (g := p.grad) is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated (PyTorch's FutureWarning): clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient in place to [-clip_value, clip_value] on its device (NaN stays NaN)."""
    clip_value = float(clip_value)
    for p in _listed(parameters):
        if (grad := p.grad) is not None:
            grad.clamp_(-clip_value, clip_value)
