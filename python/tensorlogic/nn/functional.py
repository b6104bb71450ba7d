"""tl.nn.functional: PyTorch's functional API over TensorLogic's ops (one namespace, no new kernels).

Names come from the op modules by topic (imported, so this file never copies their signatures):
  ops.elementwise: relu gelu silu softplus sigmoid tanh    ops.shape: pad
  ops.rows: softmax log_softmax layer_norm rms_norm        ops.linalg: linear
  ops.conv: conv2d max_pool2d avg_pool2d unfold fold scaled_dot_product_attention    ops.conv_nd: conv1d conv3d
The losses (mse_loss nll_loss cross_entropy) are written here over public tensor ops, so they get
gradients wherever those ops have them; they use ops.reduction (sum) and ops.rows (log_softmax).
cross_entropy with class-index targets and no class weights runs ops.fused.softmax_cross_entropy."""
from ..errors import ShapeMismatchError
from ..ops.conv import avg_pool2d, conv2d, fold, max_pool2d, scaled_dot_product_attention, unfold  # noqa: F401
from ..ops.conv_nd import conv1d, conv3d  # noqa: F401
from ..ops.elementwise import gelu, relu as _relu, relu_, sigmoid, silu as _silu, softplus, tanh, where  # noqa: F401
from ..ops.fused import softmax_cross_entropy
from ..ops.linalg import linear  # noqa: F401
from ..ops.rows import layer_norm, log_softmax, rms_norm, softmax  # noqa: F401
from ..ops.shape import pad  # noqa: F401
from ..tensor import Tensor
from . import activation_functions, activation_more, layer_functions, loss_functions, pool_with_indices
from .activation_functions import *  # noqa: F401,F403  (dropout, leaky_relu, elu, normalize, one_hot, ...)
from .activation_more import *  # noqa: F401,F403  (relu6, hardswish, mish, selu, glu, prelu, ...)
from .pool1d import adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d  # noqa: F401
from .pool_more import lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d, max_unpool2d, max_unpool3d  # noqa: F401
from .pool3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d  # noqa: F401
from .pool_with_indices import *  # noqa: F401,F403  (max_pool2d_with_indices, adaptive_max_pool1d_with_indices, ...)
from .distance import cosine_similarity, pairwise_distance, pdist  # noqa: F401
from .layer_functions import *  # noqa: F401,F403  (batch_norm, group_norm, interpolate, conv_transpose2d, ...)
from .loss_functions import *  # noqa: F401,F403  (l1_loss, smooth_l1_loss, binary_cross_entropy, kl_div, ...)
from .loss_functions import legacy_reduction
from .margin_loss_functions import *  # noqa: F401,F403  (cosine_embedding_loss, triplet_margin_loss, ...)
from .likelihood_loss_functions import *  # noqa: F401,F403  (poisson_nll_loss, gaussian_nll_loss)
from . import likelihood_loss_functions, margin_loss_functions
from .attention_functions import multi_head_attention_forward  # noqa: F401
from .fractional_pool import fractional_max_pool2d, fractional_max_pool3d  # noqa: F401
from .bilinear import bilinear  # noqa: F401
from .embedding_bag import embedding_bag  # noqa: F401
from .embedding_function import embedding  # noqa: F401
from .grid_sample import affine_grid, grid_sample  # noqa: F401
from .ctc_loss import ctc_loss  # noqa: F401
from .local_response_norm import local_response_norm  # noqa: F401
from .pixel_shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle  # noqa: F401
from .random_activations import alpha_dropout, feature_alpha_dropout, gumbel_softmax, rrelu, rrelu_  # noqa: F401
from .activation_functions import written as _written
from .loss_functions import reduce_loss as _reduce


def relu(input, inplace=False):
    """max(input, 0); inplace=True writes it into input and returns input (relu_)."""
    return relu_(input) if inplace else _relu(input)


def silu(input, inplace=False):
    """input * sigmoid(input); inplace=True writes it into input and returns input."""
    return _written(input, _silu, inplace, "silu_")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, averaged (mean), summed (sum) or per element (none)."""
    loss = (input - target).square()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, legacy_reduction(size_average, reduce, reduction), "mse_loss")


def _class_dim_last(t):
    """[N, C, d1, ...] -> [N, d1, ..., C] so the class dimension is last."""
    return t if t.ndim <= 2 else t.movedim(1, -1)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[n, target[n]] (times weight[target[n]]); input holds log-probabilities [N, C] or [N, C, d1, ...]
    (or [C] with a 0-d target); targets equal to ignore_index count for nothing. 'mean' divides by the
    total weight of the counted targets, as PyTorch does. The deprecated size_average/reduce pair, when given,
    decides the reduction, as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not isinstance(target, Tensor) or target.dtype.name not in ("int64", "int32"):
        raise TypeError("nll_loss: target must be an int64 (or int32) tensor of class indices")
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    if input.ndim < 2 or tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise ShapeMismatchError(f"nll_loss: input of shape {list(input.shape)} expects a target of shape "
                                 f"{[input.shape[0]] + list(input.shape[2:])}, got {list(target.shape)}")
    keep = target != ignore_index  # bool
    safe = where(keep, target, 0)
    picked = _class_dim_last(input).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    w = keep if weight is None else weight.index_select(0, safe.reshape(-1)).reshape(safe.shape) * keep
    loss = -(picked * w)
    if reduction == "mean":
        # sum(loss) / sum(w) as a ratio of means: each mean sums in f32 inside one op, so a large batch
        # cannot overflow an f16 sum.
        return loss.mean() / w.mean()
    return _reduce(loss.squeeze(0) if unbatched else loss, reduction, "nll_loss")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax over the class dimension (1, or 0 for unbatched input) then the negative log-likelihood,
    with PyTorch's arguments: class-index targets (int64 or int32) or class probabilities (float16, input's shape),
    per-class weight, ignore_index and label_smoothing. A class index out of range raises IndexError; on CUDA
    without class weights, at the next read from the device instead of here (see
    tl.fused.softmax_cross_entropy). The deprecated size_average/reduce pair, when given, decides the reduction."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    # The fused row kernel (logsumexp and the target pick in one pass, every backend) covers class indices
    # without class weights.
    if weight is None and isinstance(target, Tensor) and target.dtype.name in ("int64", "int32"):
        return softmax_cross_entropy(input, target, reduction, ignore_index, label_smoothing)
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    classes = input.shape[class_dim]
    if target.dtype.name == "float16":  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
                raise ShapeMismatchError(f"cross_entropy: probability targets must have the input's shape "
                                     f"{list(input.shape)}, got {list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        if weight is not None:
            logp = logp * _class_weights(weight, input.ndim, class_dim)
        loss = -(logp * target).sum(class_dim)
        if reduction == "mean":
            return loss.mean()
        return _reduce(loss, reduction, "cross_entropy")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    # PyTorch: (1 - eps) * nll + eps / C * (-sum over classes of weight_c * logp_c), masked and reduced alike.
    weighted = logp if weight is None else logp * _class_weights(weight, input.ndim, class_dim)
    smooth = -weighted.sum(class_dim)
    keep = target != ignore_index
    smooth = smooth * keep
    if reduction == "mean":
        if weight is None:
            smooth = smooth.mean() / keep.mean()
        else:
            safe = where(keep, target, 0)
            smooth = smooth.mean() / (weight.index_select(0, safe.reshape(-1)).reshape(safe.shape) * keep).mean()
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _class_weights(weight, ndim, class_dim):
    """weight [C] shaped to broadcast over the class dimension of an ndim-d input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


__all__ = (["relu", "relu_", "gelu", "silu", "softplus", "sigmoid", "tanh", "pad", "embedding", "mse_loss", "nll_loss",
            "cross_entropy", "softmax", "log_softmax", "layer_norm", "rms_norm", "linear", "conv2d", "max_pool2d",
            "avg_pool2d", "scaled_dot_product_attention", "conv1d", "conv3d", "unfold", "fold", "max_pool1d",
            "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d",
            "adaptive_max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
            "bilinear", "affine_grid", "grid_sample", "ctc_loss", "embedding_bag", "local_response_norm", "pixel_shuffle",
            "pixel_unshuffle", "channel_shuffle", "rrelu_", "alpha_dropout", "feature_alpha_dropout", "gumbel_softmax", "rrelu", "cosine_similarity", "pairwise_distance"]
           + activation_functions.__all__
           + activation_more.__all__ + layer_functions.__all__ + pool_with_indices.__all__ + loss_functions.__all__ + margin_loss_functions.__all__ + likelihood_loss_functions.__all__)
