"""tl.nn.functional's activations and element-wise helpers that are compositions of public ops (leaky_relu a
piecewise-linear node: ops/piecewise_linear.py): dropout (and its channel-wise forms, 1-d to 3-d), leaky_relu, elu,
logsigmoid, normalize, one_hot."""
import numbers
import warnings

from ..autograd.function import records
from ..autograd.inplace import inplace as _recorded_inplace
from ..creation import arange
from ..ops.elementwise import _positive, softplus, where
from ..ops.piecewise_linear import piecewise_linear
from ..ops.random import rand


def _check_p(p, name):
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name}: the dropout probability p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def written(input, compute, inplace, name):
    """compute(input), or with inplace its result written into input, which is returned and takes over the
    result's history (PyTorch's in-place activations). Under autograd compute sees a copy of input that keeps
    its history (autograd.inplace.inplace): the nodes compute records may save their input, and the write
    into input must not invalidate them."""
    if not inplace:
        return compute(input)
    if records(input):
        return _recorded_inplace(input, compute, name)
    return input.copy_(compute(input))


def _masked(input, mask_shape, p, inplace):
    """input times a 0/1 keep-mask of mask_shape (broadcast over the rest), scaled by 1/(1-p). The mask comes
    from tl.rand, so its gradient is the same mask."""
    if not input.is_floating_point():  # scaled integers (and bools made int64) are no dropout; PyTorch refuses too
        raise TypeError(f"dropout: expected a floating point input, got {input.dtype.name}")
    if p == 1.0:
        return written(input, lambda x: x * 0.0, inplace, "dropout_")
    keep = rand(*mask_shape, device=input.device) >= p
    return written(input, lambda x: x * keep * (1.0 / (1.0 - p)), inplace, "dropout_")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1/(1-p); the identity when not training."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    return _masked(input, input.shape, p, inplace)


def _feature_dropout(input, p, training, inplace, channel_dim, name):
    """Zeroes whole slices input[..., c, ...] (channel_dim and the dims before it index the slices) with
    probability p: PyTorch's feature_dropout, which needs 2 dims at least once the channel dim is counted."""
    _check_p(p, name)
    if not training or p == 0.0:
        return input
    if input.ndim <= channel_dim:  # (an unbatched input counts the batch dim PyTorch adds)
        raise ValueError(f"{name}: feature dropout requires at least 2 dimensions in the input, got "
                         f"{input.ndim}-d")
    mask = tuple(input.shape[:channel_dim + 1]) + (1,) * (input.ndim - channel_dim - 1)
    return _masked(input, mask, p, inplace)


def _deprecated_rank(input, name, ranks):
    if input.ndim not in ranks:
        warnings.warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated (PyTorch warns: "
                      f"an error in a future release); use dropout to keep its behaviour. {name} expects "
                      f"{ranks[0]}D or {ranks[1]}D inputs.", UserWarning, stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p."""
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-d (unbatched) or 3-d input, got {input.ndim}-d")
    return _feature_dropout(input, p, training, inplace, input.ndim - 2, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input with probability p. As PyTorch: any other input of 2 dims or
    more warns and is read as (N, C, ...): a 3-d input as (N, C, L) (channel-wise 1-d dropout, not an
    unbatched (C, H, W)), a 2-d one as (N, C), whose single elements are then dropped."""
    _deprecated_rank(input, "dropout2d", (3, 4))
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim "
                      "(as PyTorch; use dropout1d to keep it).", UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace, 1, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p. As PyTorch: any other
    input of 1 dim or more warns and is read as unbatched (C, ...)."""
    _deprecated_rank(input, "dropout3d", (4, 5))
    return _feature_dropout(input, p, training, inplace, 1 if input.ndim == 5 else 0, "dropout3d")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x; inplace=True writes the result into input and returns it."""
    return written(input, lambda x: piecewise_linear(x, lambda v: where(v > 0, v, v * negative_slope), _positive,
                                                     1.0, negative_slope), inplace, "leaky_relu_")


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (exp(x) - 1); exp sees min(x, 0) so the unused branch never overflows."""
    return written(input, lambda x: where(x > 0, x, (x.clamp(max=0.0).exp() - 1.0) * alpha), inplace, "elu_")


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu written into input; returns input."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    """elu written into input; returns input."""
    return elu(input, alpha, inplace=True)


def logsigmoid(input):
    """log(sigmoid(x)), computed as -softplus(-x) (stable for large |x|)."""
    return -softplus(-input)


_F16_TINY = 2.0**-24  # the smallest f16 value above 0: PyTorch's eps=1e-12 would round to 0


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps); eps below f16's smallest value is raised to it."""
    if out is not None:
        raise ValueError("normalize: out= is not supported")
    return input / input.norm(p, dim, keepdim=True).clamp(min=max(eps, _F16_TINY))


def one_hot(tensor, num_classes=-1):
    """[..., num_classes] of 0/1 with a 1 at each index (num_classes=-1: the largest index + 1). The result has
    the integer dtype of .long() (int64 in PyTorch)."""
    if tensor.is_floating_point():
        raise TypeError("one_hot is only applicable to index tensor (an integer dtype), got float16")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0
    if tensor.numel() and (int(tensor.min().item()) < 0 or int(tensor.max().item()) >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes})")
    return (tensor.unsqueeze(-1) == arange(num_classes, device=tensor.device)).long()


__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "leaky_relu", "elu", "leaky_relu_", "elu_", "logsigmoid", "normalize", "one_hot"]
