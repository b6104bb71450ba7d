"""Folding an eval-mode batch norm into the convolution or linear layer before it (torch.nn.utils.fusion): the
layer's output then is the pair's, with one op fewer at inference. The formulas are PyTorch's, each op rounded to
f16 as PyTorch's float16 ops round: w * (gamma / sqrt(var + eps)) per output channel, and
(b - mean) * gamma / sqrt(var + eps) + beta."""
import copy

from ...creation import ones_like, zeros_like
from ...ops.elementwise import rsqrt
from ...tensor import Tensor
from ..conv import _ConvNd
from ..layers import Linear
from ..normalization import _BatchNorm
from ..parameter import Parameter


def _optional_tensors(op, **named):
    """A TypeError for the first of `named` that is neither a tensor nor None (a float bias reached .requires_grad)."""
    for name, value in named.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor or None, not {type(value).__name__}")


def _eval_only(layer, bn):
    if not isinstance(bn, _BatchNorm):
        raise TypeError(f"fusion: bn must be a batch norm module, got {type(bn).__name__}")
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of the eval-mode convolution `conv` whose output is bn(conv(x)) for the eval-mode batch norm `bn`
    (transpose=True for a transposed convolution, whose output channels are the weight's second dimension)."""
    if not isinstance(conv, _ConvNd):
        raise TypeError(f"fuse_conv_bn_eval(): conv must be a convolution module, got {type(conv).__name__}")
    _eval_only(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters of the convolution folded with the batch norm's statistics (running mean and
    variance, eps) and affine parameters (None: 1 and 0); a missing conv bias is 0. Each Parameter requires grad
    as the convolution's weight and bias did (a missing bias: not)."""
    _optional_tensors("fuse_conv_bn_weights", conv_b=conv_b, bn_w=bn_w, bn_b=bn_b)
    bias = zeros_like(bn_rm) if conv_b is None else conv_b
    gamma = ones_like(bn_rm) if bn_w is None else bn_w
    beta = zeros_like(bn_rm) if bn_b is None else bn_b
    inv_std = rsqrt(bn_rv + bn_eps)
    per_channel = [1, -1] if transpose else [-1, 1]
    weight = conv_w * (gamma * inv_std).reshape(per_channel + [1] * (conv_w.ndim - 2))
    return (Parameter(weight, conv_w.requires_grad),
            Parameter((bias - bn_rm) * inv_std * gamma + beta, bias.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of the eval-mode `linear` whose output is bn(linear(x)) for the eval-mode batch norm `bn`, whose
    features are the linear layer's outputs (or one feature, broadcast over them)."""
    if not isinstance(linear, Linear):
        raise TypeError(f"fuse_linear_bn_eval(): linear must be a Linear module, got {type(linear).__name__}")
    _eval_only(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features must equal bn.num_features or bn.num_features must be "
                             f"1 (got {linear.out_features} and {bn.num_features})")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of the linear layer folded with the batch norm's statistics and affine parameters;
    a missing linear bias is 0. Each requires grad as the layer's weight and bias did (a missing bias: not)."""
    _optional_tensors("fuse_linear_bn_weights", linear_b=linear_b, bn_w=bn_w, bn_b=bn_b)
    bias = zeros_like(bn_rm) if linear_b is None else linear_b
    scale = bn_w * rsqrt(bn_rv + bn_eps)
    return (Parameter(linear_w * scale.unsqueeze(-1), linear_w.requires_grad),
            Parameter((bias - bn_rm) * scale + bn_b, bias.requires_grad))
