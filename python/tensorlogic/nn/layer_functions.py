"""tl.nn.functional's normalisation, resampling and transposed convolution, composed of public ops (so
each has its gradient): batch_norm, group_norm, instance_norm, adaptive_avg_pool2d, adaptive_max_pool2d, conv_transpose1d,
conv_transpose2d, conv_transpose3d, interpolate, and its deprecated names upsample, upsample_nearest and
upsample_bilinear."""
import math
import numbers
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import arange, empty, tensor, zeros
from ..errors import ShapeMismatchError
from ..ops.bias_grad import add_bias
from ..ops.conv import _pair, avg_pool2d, fold, max_pool2d
from ..ops.conv_nd import _ntuple
from ..ops.elementwise import where
from ..ops.rows import layer_norm
from ..ops.shape import cat, pad
from ..tensor import Tensor


def _channel_shape(input):
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises each channel (dim 1) over the batch and spatial dims. Training uses the batch's statistics
    and moves the running ones by `momentum` (the running variance is the unbiased one, as in PyTorch);
    evaluation uses the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2-d input (N, C, ...), got {input.ndim}-d")
    channels = input.shape[1]
    shape = _channel_shape(input)
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}")
        # Channels first and flattened, each row is normalised by the fused layer_norm kernel (same formula).
        rows = input.transpose(0, 1).reshape(channels, count)
        out = layer_norm(rows, (count,), eps=eps).reshape((channels, input.shape[0]) + tuple(input.shape[2:]))
        out = out.transpose(0, 1)
        if running_mean is not None or running_var is not None:
            with no_grad():
                flat = rows.detach()
                if running_mean is not None:
                    running_mean.mul_(1.0 - momentum).add_(flat.mean(1) * momentum)
                if running_var is not None:
                    running_var.mul_(1.0 - momentum).add_(flat.var(1, unbiased=True) * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        out = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else add_bias(out, bias, (input, weight))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each group of channels/num_groups channels (with their spatial extent) per sample."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected at least 2-d input (N, C, ...), got {input.ndim}-d")
    if not isinstance(num_groups, numbers.Integral):
        raise TypeError(f"group_norm(): argument 'num_groups' must be int, not {type(num_groups).__name__}")
    if num_groups <= 0:
        raise RuntimeError(f"group_norm: expected num_groups to be greater than 0, got {num_groups}")
    n, channels = input.shape[0], input.shape[1]
    if channels % num_groups:
        raise ValueError(f"group_norm: {channels} channels are not divisible into {num_groups} groups")
    # The row length is explicit: a -1 cannot be inferred when the input is empty.
    rows = input.reshape(n, num_groups, input.numel() // max(n * num_groups, 1))
    out = layer_norm(rows, (rows.shape[-1],), eps=eps).reshape(input.shape)
    shape = _channel_shape(input)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalises each channel of each sample of [N, C, ...] input over its spatial dims (use_input_stats: group_norm
    with a group per channel, statistics in f32), or by the running statistics; weight and bias are per channel.
    Running statistics, when given, move by the batch mean of the per-instance statistics, as in PyTorch."""
    if input.ndim < 3:
        raise ShapeMismatchError(f"instance_norm: expected input of at least 3 dims (N, C, ...), got "
                                 f"{list(input.shape)}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, channels = input.shape[0], input.shape[1]
    if input.numel() // max(n * channels, 1) <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel when training, got input "
                         f"size {list(input.shape)}")
    if running_mean is not None or running_var is not None:
        with no_grad():
            rows = input.detach().reshape(n, channels, -1)
            if running_mean is not None:
                running_mean.mul_(1.0 - momentum).add_(rows.mean(2).mean(0) * momentum)
            if running_var is not None:
                running_var.mul_(1.0 - momentum).add_(rows.var(2, unbiased=True).mean(0) * momentum)
    out = group_norm(input, channels, weight, None, eps)  # (its bias's gradient is batch_norm's in PyTorch)
    return out if bias is None else add_bias(out, bias, (input, weight))


def _averaging_matrix(in_size, out_size):
    """[out, in]: row i averages PyTorch's adaptive window [floor(i in/out), ceil((i+1) in/out))."""
    starts = np.arange(out_size) * in_size // out_size  # no Python loop over a user's output size
    ends = -(-(np.arange(1, out_size + 1) * in_size) // out_size)
    cols = np.arange(in_size)
    inside = (cols >= starts[:, None]) & (cols < ends[:, None])
    return inside / (ends - starts)[:, None]


def _adaptive_sizes(input, output_size, op):
    """PyTorch's checks of an adaptive pool's input and output_size (an int, a pair, None keeps a size);
    returns (h, w, oh, ow)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): expected 3D or 4D tensor, but got {list(input.shape)}")
    if any(size == 0 for size in input.shape[-3:]):
        raise RuntimeError(f"{op}(): expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {list(input.shape)}")
    h, w = input.shape[-2:]
    oh, ow = (output_size, output_size) if isinstance(output_size, numbers.Integral) else tuple(output_size)
    oh, ow = h if oh is None else oh, w if ow is None else ow
    if oh < 0 or ow < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0, got {(oh, ow)}")
    return h, w, oh, ow


def adaptive_avg_pool2d(input, output_size):
    """Averages over PyTorch's adaptive windows to output_size (an int, a pair, None keeps a size). Equal
    windows run as avg_pool2d; uneven ones as two averaging matmuls (weights rounded to f16)."""
    h, w, oh, ow = _adaptive_sizes(input, output_size, "adaptive_avg_pool2d")
    if input.numel() == 0 or oh == 0 or ow == 0:  # an empty batch or output: an empty result, as PyTorch
        return zeros(tuple(input.shape[:-2]) + (oh, ow), device=input.device)
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(input, (h // oh, w // ow))
    rows = tensor(_averaging_matrix(h, oh), device=input.device)
    cols = tensor(_averaging_matrix(w, ow).T, device=input.device)
    return rows @ input @ cols


def _window_table(in_size, out_size):
    """[out, k] input positions of PyTorch's adaptive windows [floor(i in/out), ceil((i+1) in/out)), each
    padded to the widest window k by repeating its last position (a repeat never changes a max, and the
    first maximum stays the first)."""
    starts = np.arange(out_size) * in_size // out_size
    ends = -(-(np.arange(1, out_size + 1) * in_size) // out_size)
    k = int((ends - starts).max())
    return np.minimum(starts[:, None] + np.arange(k)[None, :], ends[:, None] - 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows to output_size (an int, a pair, None keeps a size); with
    return_indices also the int64 flat index (h * W + w) of each maximum. Equal windows run as max_pool2d;
    otherwise each window's positions are gathered (index_select per dim) and the first maximum picked, so
    the gradient goes to that one element, as PyTorch's does."""
    h, w, oh, ow = _adaptive_sizes(input, output_size, "adaptive_max_pool2d")
    out_shape = tuple(input.shape[:-2]) + (oh, ow)
    if input.numel() == 0 or oh == 0 or ow == 0:  # an empty batch or output: an empty result, as PyTorch
        out = zeros(out_shape, device=input.device)
        return (out, zeros(out_shape, dtype="int64", device=input.device)) if return_indices else out
    if not return_indices and h % oh == 0 and w % ow == 0:
        return max_pool2d(input, (h // oh, w // ow))
    rows, cols = _window_table(h, oh), _window_table(w, ow)
    kh, kw = rows.shape[1], cols.shape[1]
    x = input.index_select(-2, tensor(rows.reshape(-1), device=input.device))
    x = x.index_select(-1, tensor(cols.reshape(-1), device=input.device))
    lead = tuple(input.shape[:-2])
    windows = x.reshape(lead + (oh, kh, ow, kw)).movedim(-3, -2).reshape(out_shape + (kh * kw,))
    first = windows.argmax(-1, keepdim=True)
    slots = arange(kh * kw, device=input.device)
    out = where(slots == first, windows, 0.0).sum(-1)
    if not return_indices:
        return out
    flat = rows[:, None, :, None] * w + cols[None, :, None, :]  # [oh, ow, kh, kw] flat input positions
    picked = np.take_along_axis(np.broadcast_to(flat.reshape(oh, ow, kh * kw), out_shape + (kh * kw,)),
                                first.numpy().astype(np.int64), -1)[..., 0]
    return out, tensor(picked.astype(np.int64), device=input.device)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv2d: weight [C_in, C_out/groups, kh, kw]; each input pixel scatters weight-scaled
    kernels into the output (a matmul to columns, then fold sums the overlapping blocks)."""
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    output_padding, dilation = _pair(output_padding, "output_padding"), _pair(dilation, "dilation")
    n, c_in, h, w = input.shape
    if groups <= 0:
        raise ValueError(f"conv_transpose2d: groups must be positive, got {groups}")
    if weight.shape[0] != c_in or c_in % groups:
        raise ValueError(f"conv_transpose2d: weight {list(weight.shape)} does not fit input {list(input.shape)} with "
                         f"groups={groups}")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError("conv_transpose2d: output_padding must be smaller than either stride or dilation")
    kh, kw = weight.shape[2:]
    out_size = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1
                     for i, s, p, d, k, op in zip((h, w), stride, padding, dilation, (kh, kw), output_padding))
    per_group = c_in // groups
    x = input.reshape(n, c_in, h * w)
    parts = []
    for wg, xg in zip(weight.chunk(groups), x.chunk(groups, 1)):  # one backward node each for all groups
        cols = wg.reshape(per_group, -1).t() @ xg  # wg: [C_in/g, C_out/g * kh * kw]
        parts.append(fold(cols, out_size, (kh, kw), dilation, padding, stride))
    out = parts[0] if groups == 1 else cat(parts, 1)
    return out if bias is None else add_bias(out, bias, (input, weight))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv1d (weight [C_in, C_out/groups, k]): conv_transpose2d over a height of 1."""
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise ShapeMismatchError(f"conv_transpose1d: expected a 2-d or 3-d input and a 3-d weight, got input "
                                 f"{list(input.shape)} and weight {list(weight.shape)}")
    # stride and dilation positive: a depth stride of 0 divided by zero (an untyped ZeroDivisionError)
    stride, padding, output_padding, dilation = (_ntuple(v, 1, name, "conv_transpose1d", name in ("stride", "dilation"))
                                                 for v, name in ((stride, "stride"), (padding, "padding"),
                                                                 (output_padding, "output_padding"),
                                                                 (dilation, "dilation")))
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1,) + stride, (0,) + padding,
                           (0,) + output_padding, groups, (1,) + dilation)
    return out.squeeze(-2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv3d (weight [C_in, C_out/groups, kd, kh, kw]): each depth tap of the weight is an output
    channel of one conv_transpose2d over every input plane, and fold sums the taps into the output depths (the
    1-d transposed convolution along depth), so the gradients are those two ops'."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("conv_transpose3d(): input and weight must be Tensors")
    if input.ndim not in (4, 5) or weight.ndim != 5:
        raise ShapeMismatchError(f"conv_transpose3d: expected a 4-d or 5-d input and a 5-d weight, got input "
                                 f"{list(input.shape)} and weight {list(weight.shape)}")
    if input.ndim == 4:
        return conv_transpose3d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    # stride and dilation positive: a depth stride of 0 divided by zero (an untyped ZeroDivisionError)
    stride, padding, output_padding, dilation = (_ntuple(v, 3, name, "conv_transpose3d", name in ("stride", "dilation"))
                                                 for v, name in ((stride, "stride"), (padding, "padding"),
                                                                 (output_padding, "output_padding"),
                                                                 (dilation, "dilation")))
    n, c_in, depth, h, w = input.shape
    kd = weight.shape[2]
    planes = input.transpose(1, 2).reshape(n * depth, c_in, h, w)
    if output_padding[0] >= max(stride[0], dilation[0]):
        raise ValueError("conv_transpose3d: output_padding must be smaller than either stride or dilation")
    taps = weight.reshape(c_in, weight.shape[1] * kd, *weight.shape[3:])  # [C_in, C_out/g * kd, kh, kw]
    out = conv_transpose2d(planes, taps, None, stride[1:], padding[1:], output_padding[1:], groups, dilation[1:])
    oh, ow = out.shape[2:]
    c_out = weight.shape[1] * groups
    out_depth = (depth - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kd - 1) + output_padding[0] + 1
    # [N * D, C_out * kd, OH, OW] (tap last within each channel) -> fold's columns [N, C_out * OH * OW * kd, D]
    cols = out.reshape(n, depth, c_out, kd, oh, ow).permute(0, 2, 4, 5, 3, 1).reshape(n, c_out * oh * ow * kd, depth)
    blocks = (out_depth + 2 * padding[0] - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    if blocks > depth:  # an output_padding of at least the stride (allowed below the dilation) adds empty blocks
        cols = pad(cols, (0, blocks - depth))
    out = fold(cols, (out_depth, 1), (kd, 1), (dilation[0], 1), (padding[0], 0), (stride[0], 1))
    out = out.reshape(n, c_out, oh, ow, out_depth).permute(0, 1, 4, 2, 3)
    return out if bias is None else add_bias(out, bias, (input, weight))


def _source_positions(in_size, out_size, scale, mode, align_corners):
    """Where each output position samples the input (PyTorch's source-index rules)."""
    o = np.arange(out_size, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        step = in_size / out_size if scale is None else 1.0 / scale
        src = np.floor((o + 0.5) * step) if mode == "nearest-exact" else np.floor(o * step)
        return np.minimum(src, in_size - 1).astype(np.int32)
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        return o * step
    step = in_size / out_size if scale is None else 1.0 / scale
    src = (o + 0.5) * step - 0.5
    return src if mode == "bicubic" else np.maximum(src, 0.0)  # cubic reads clamped neighbours instead


def _linear_matrix(src, in_size):
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = src - lo
    m = np.zeros((len(src), in_size))
    np.add.at(m, (np.arange(len(src)), lo), 1.0 - frac)
    np.add.at(m, (np.arange(len(src)), hi), frac)
    return m


def _cubic_matrix(src, in_size, a=-0.75):
    """Keys' cubic convolution (a = -0.75, as PyTorch) over the 4 neighbours floor(src) - 1 .. floor(src) + 2,
    each clamped into the input (so an edge pixel collects the weights of those beyond it)."""
    lo = np.floor(src).astype(np.int64)
    t = src - lo
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731  (|x| <= 1)
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731  (1 < |x| < 2)
    m = np.zeros((len(src), in_size))
    rows = np.arange(len(src))
    for offset, weight in zip((-1, 0, 1, 2), (far(t + 1), near(t), near(1 - t), far(2 - t))):
        np.add.at(m, (rows, np.clip(lo + offset, 0, in_size - 1)), weight)
    return m


def _area_matrix(in_size, out_size):
    """mode='area', PyTorch's adaptive average pooling: output i is the mean of input floor(i in / out) ..
    ceil((i + 1) in / out) - 1."""
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        start, end = (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)
        m[i, start:end] = 1.0 / (end - start)
    return m


_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2, "bicubic": 2,
          "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resizes the spatial dims (all after N, C) by nearest (index picks), (bi/tri)linear or bicubic interpolation,
    or area (adaptive average pooling), separable: a matmul per dim with the weights, rounded to f16; with PyTorch's
    sizes and align_corners rules."""
    if not isinstance(mode, str):
        raise TypeError(f"interpolate(): argument 'mode' must be str, not {type(mode).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not supported (nearest, nearest-exact, area, linear, "
                         "bilinear, bicubic, trilinear)")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    spatial = input.ndim - 2
    if spatial < 1 or (_MODES[mode] is not None and _MODES[mode] != spatial):
        raise ValueError(f"interpolate: mode {mode!r} does not apply to {input.ndim}-d input")
    if align_corners is not None and _MODES[mode] is None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = input.shape[2:]
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, numbers.Integral) else tuple(size)
        if not all(isinstance(o, numbers.Integral) for o in sizes):  # a size of 8.5 made 9 positions
            raise TypeError(f"interpolate(): argument 'size' must be an int or a tuple of ints, got {size!r}")
        scales = (None,) * spatial
    else:
        scales = (scale_factor,) * spatial if isinstance(scale_factor, numbers.Real) else tuple(scale_factor)
        if not all(isinstance(s, numbers.Real) for s in scales):
            raise TypeError(f"interpolate(): argument 'scale_factor' must be a number or a tuple of numbers, got "
                            f"{scale_factor!r}")
        if not all(math.isfinite(s) for s in scales):
            raise RuntimeError(f"interpolate: scale_factor {scale_factor!r} gives no output size (finite numbers "
                               f"are needed)")
        sizes = tuple(int(math.floor(i * s)) for i, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if len(sizes) != spatial or len(scales) != spatial:
        raise ValueError(f"interpolate: expected {spatial} output sizes or scale factors")
    if any(i <= 0 for i in in_sizes) or any(o <= 0 for o in sizes):
        raise RuntimeError(f"interpolate: input and output sizes should be greater than 0, but got input "
                           f"{list(in_sizes)} and output {list(sizes)}")
    # The output must be possible before the host builds its sampling tables, whose length is the output size (a
    # size of 2**31 along two dims filled the host's memory): beyond int64 elements, or more than the device holds.
    out_shape = tuple(input.shape[:2]) + tuple(int(o) for o in sizes)
    if math.prod(max(n, 1) for n in out_shape) >= 2**62:
        raise MemoryError(f"interpolate: an output of shape {list(out_shape)} is beyond any memory")
    empty(out_shape, dtype=input.dtype, device=input.device)
    out = input
    for k, (in_size, out_size, scale) in enumerate(zip(in_sizes, sizes, scales)):
        dim = 2 + k
        if mode == "area":
            weights = _area_matrix(in_size, out_size)
        else:
            src = _source_positions(in_size, out_size, scale, mode, bool(align_corners))
            if _MODES[mode] is None:
                out = out.index_select(dim, tensor(src, device=input.device))
                continue
            weights = _cubic_matrix(src, in_size) if mode == "bicubic" else _linear_matrix(src, in_size)
        matrix = tensor(weights.T, device=input.device)  # [in, out]
        out = (out.movedim(dim, -1) @ matrix).movedim(-1, dim)
    return out


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning,
                  stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """interpolate(input, size, scale_factor, mode, align_corners) under PyTorch's deprecated name (it warns)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(..., mode="nearest") under PyTorch's deprecated name (it warns)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(..., mode="bilinear", align_corners=True) of 4-d input under PyTorch's deprecated name (it
    warns)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["batch_norm", "group_norm", "instance_norm", "adaptive_avg_pool2d", "adaptive_max_pool2d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]
