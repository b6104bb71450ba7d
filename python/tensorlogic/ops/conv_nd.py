"""1-d and 3-d convolutions (torch.nn.functional.conv1d / conv3d) expressed through conv2d, so they run on
its kernels on every device and get their gradients (of every order) from conv2d, pad, slicing and
reshapes: conv1d is a conv2d of height 1; conv3d stacks the depth taps of each output plane as extra input
channels of one conv2d."""
import numbers

from ..errors import ShapeMismatchError
from ..tensor import Tensor
from .conv import conv2d
from .shape import pad, stack


def _ntuple(value, n, name, op, positive=False):
    """An int or a sequence of n ints (a 1-sequence stands for all n), as PyTorch's _single/_triple."""
    if isinstance(value, numbers.Integral):
        value = (int(value),) * n
    value = tuple(value)
    if len(value) == 1:
        value = value * n
    if len(value) != n or not all(isinstance(v, numbers.Integral) for v in value):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if positive and any(v <= 0 for v in value):
        raise ValueError(f"{op}: {name} must be positive, got {value}")
    return tuple(int(v) for v in value)


def _padding(padding, n, stride, dilation, kernel, op):
    """(left, right) zero padding per spatial dim. 'same' pads d*(k-1) in total, the odd one on the right,
    as PyTorch does; like PyTorch it is refused for strided convolutions."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = _ntuple(padding, n, "padding", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: negative padding is not supported, got {pads}")
    return tuple((p, p) for p in pads)


def _check(input, weight, groups, spatial, op):
    """PyTorch's shape rules, checked before any reshaping so that errors name the caller's shapes."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors, not {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if input.ndim not in (spatial + 1, spatial + 2) or weight.ndim != spatial + 2:
        raise ShapeMismatchError(f"{op}: expected a {spatial + 1}-d (unbatched) or {spatial + 2}-d input and a "
                                 f"{spatial + 2}-d weight, got input {list(input.shape)} and weight "
                                 f"{list(weight.shape)}")
    channels = input.shape[-spatial - 1]
    if channels != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ShapeMismatchError(f"{op}: input {list(input.shape)} and weight {list(weight.shape)} do not match with "
                                 f"groups={groups} (expected {weight.shape[1] * groups} input channels and "
                                 f"out_channels divisible by groups)")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution of [N, C, L] (or [C, L]) by [O, C/groups, k]; padding an int, a 1-tuple, 'valid' or
    'same'. Runs as conv2d over [N, C, 1, L]."""
    _check(input, weight, groups, 1, "conv1d")
    stride, dilation = _ntuple(stride, 1, "stride", "conv1d", True), _ntuple(dilation, 1, "dilation", "conv1d", True)
    ((left, right),) = _padding(padding, 1, stride, dilation, weight.shape[2:], "conv1d")
    if left != right:
        input, left = pad(input, (left, right)), 0
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1,) + stride, (0, left), (1,) + dilation, groups)
    return out.squeeze(-2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of [N, C, D, H, W] (or [C, D, H, W]) by [O, C/groups, kd, kh, kw].

    For each output depth d the kd input planes it reads (d*stride + t*dilation, t < kd) are stacked as
    channels: [N*D_out, groups * kd * C/groups, H, W], convolved by the weight laid out to match,
    [O, kd * C/groups, kh, kw], in one conv2d."""
    _check(input, weight, groups, 3, "conv3d")
    if input.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation = _ntuple(stride, 3, "stride", "conv3d", True), _ntuple(dilation, 3, "dilation", "conv3d", True)
    pads = _padding(padding, 3, stride, dilation, weight.shape[2:], "conv3d")
    if any(left != right for left, right in pads[1:]):  # uneven 'same' padding of H or W: explicit
        input = pad(input, (*pads[2], *pads[1]))
        pads = (pads[0], (0, 0), (0, 0))
    if pads[0] != (0, 0):
        input = pad(input, (0, 0, 0, 0, *pads[0]))
    n, c, depth, h, w = input.shape
    o, cg, kd, kh, kw = weight.shape
    reach = dilation[0] * (kd - 1) + 1
    if depth < reach:
        raise ShapeMismatchError(f"conv3d: padded input depth {depth} is too small for kernel depth {kd} with "
                                 f"dilation {dilation[0]}")
    d_out = (depth - reach) // stride[0] + 1
    last = (d_out - 1) * stride[0] + 1
    taps = [input[:, :, t * dilation[0]:t * dilation[0] + last:stride[0]] for t in range(kd)]
    planes = stack(taps, 2).reshape(n, groups, cg, kd, d_out, h, w).permute(0, 4, 1, 3, 2, 5, 6)
    planes = planes.reshape(n * d_out, groups * kd * cg, h, w)
    kernel = weight.permute(0, 2, 1, 3, 4).reshape(o, kd * cg, kh, kw)
    out = conv2d(planes, kernel, bias, stride[1:], (pads[1][0], pads[2][0]), dilation[1:], groups)
    return out.reshape(n, d_out, o, out.shape[2], out.shape[3]).transpose(1, 2)


__all__ = ["conv1d", "conv3d"]
