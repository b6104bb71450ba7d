"""Gradient and parameter utilities: clip_grad_norm_, clip_grad_value_, parameters_to_vector,
vector_to_parameters; nn.utils.rnn holds the sequence-padding helpers."""
import math

import numpy as np

from ... import _core
from ...ops.shape import cat
from ...tensor import Tensor, _wrap
from . import rnn  # noqa: F401  (torch.nn.utils.rnn)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scales the gradients in place so their joint norm is at most max_norm; returns the norm before clipping.

    The norm is computed in float64 from the gradients' f16 values (a sum of squares over millions of f16
    values overflows f16), then the gradients are scaled with one native multiply each."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return _wrap(_core.from_numpy(np.zeros((), dtype=np.float16)))
    hosts = [np.abs(g.numpy().astype(np.float64)) for g in grads]
    if math.isinf(norm_type):
        total = max(float(h.max(initial=0.0)) for h in hosts)
    else:
        total = sum(float((h**norm_type).sum()) for h in hosts) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    coef = min(max_norm / (total + 1e-6), 1.0)
    if coef < 1.0 or not math.isfinite(total):
        for g in grads:
            _core.binary_scalar_(_core.BinaryOp.mul, g._a, coef)
            g._version += 1
    with np.errstate(over="ignore"):
        return _wrap(_core.from_numpy(np.array(total, dtype=np.float16)))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient in place to [-clip_value, clip_value]."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    clip_value = float(clip_value)
    for p in params:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    """The parameters flattened and joined into one vector (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Writes consecutive slices of `vec` into the parameters (in place, outside autograd)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} values, the parameters {total}")
    offset = 0
    for p in params:
        n = p.numel()
        p.data = vec[offset:offset + n].detach().reshape(p.shape).clone()
        offset += n


def zero_grads(parameters, set_to_none=True):
    """Clears the gradients of `parameters` (Module.zero_grad and Optimizer.zero_grad): drops them, or
    zeroes them in place on a tensor detached from any graph."""
    for p in parameters:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad = p.grad.detach()
            _core.fill_(p.grad._a, 0.0)
