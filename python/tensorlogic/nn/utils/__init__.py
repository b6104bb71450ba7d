"""Gradient and parameter utilities: parameters_to_vector, vector_to_parameters, zero_grads; gradient clipping
(clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_) lives in nn.utils.clip_grad and
the sequence-padding helpers in nn.utils.rnn."""
from ... import _core
from ...ops.shape import cat
from ...tensor import Tensor
from . import rnn  # noqa: F401  (torch.nn.utils.rnn)
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm  # noqa: F401


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
