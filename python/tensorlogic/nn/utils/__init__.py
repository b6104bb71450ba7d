"""Gradient and parameter utilities: parameters_to_vector and vector_to_parameters (in nn.utils.convert_parameters),
zero_grads, skip_init (nn.utils.init), pruning (nn.utils.prune); gradient clipping
(clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_) lives in nn.utils.clip_grad, the
sequence-padding helpers in nn.utils.rnn, batch-norm folding (fuse_conv_bn_eval, fuse_linear_bn_eval and their
weight forms) in nn.utils.fusion, weight_norm and spectral_norm (the forward pre-hook forms) in
nn.utils.weight_norm and nn.utils.spectral_norm, and parametrizations (register_parametrization and the weight_norm
and spectral_norm built on it) in nn.utils.parametrize and nn.utils.parametrizations, and the module called with other
parameters and buffers (functional_call, on which tl.func's is built) in nn.utils.stateless."""
# zero_grads lives beside Parameter: Module needs it, and nn.utils (parametrize) needs Module
from ..parameter import zero_grads  # noqa: F401
# torch.nn.utils' submodules
from . import convert_parameters, fusion, parametrizations, parametrize, prune, rnn, stateless  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .init import skip_init  # noqa: F401
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,  # noqa: F401
                        get_total_norm)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights  # noqa: F401
