"""Gradient and parameter utilities: parameters_to_vector, vector_to_parameters, zero_grads; gradient clipping
(clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_) lives in nn.utils.clip_grad, the
sequence-padding helpers in nn.utils.rnn, weight_norm and spectral_norm (the forward pre-hook forms) in
nn.utils.weight_norm and nn.utils.spectral_norm, and parametrizations (register_parametrization and the weight_norm
and spectral_norm built on it) in nn.utils.parametrize and nn.utils.parametrizations."""
from ...ops.shape import cat
from ...tensor import Tensor
# zero_grads lives beside Parameter: Module needs it, and nn.utils (parametrize) needs Module
from ..parameter import zero_grads  # noqa: F401
from . import parametrizations, parametrize, rnn  # noqa: F401  (torch.nn.utils.parametrize, .parametrizations, .rnn)
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401


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
