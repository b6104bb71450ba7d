"""3-d pooling (torch.nn.functional's max_pool3d, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d and
their modules) over [N, C, D, H, W] or [C, D, H, W]. A box max is the max over depth of the max over each
(H, W) window, and a box mean the mean over depth of (H, W) means (PyTorch's divisors, with or without
padding, are products of one count per dim): so each runs as two 2-d pools, first over (H, W) with depth
folded into the channels, then over (D, H*W) with a window of width 1, and shares their kernels and
gradients. The max pools' indices follow: the depth pool picks a depth, and the plane pool's index at that depth
gives the position in it (the first maximum in (d, h, w) order, as PyTorch's)."""
from ..errors import ShapeMismatchError
from ..ops.conv import avg_pool2d, max_pool2d
from ..ops.conv_nd import _ntuple
from .layer_functions import adaptive_avg_pool2d, adaptive_max_pool2d


def _batched(input, op):
    if input.ndim not in (4, 5):
        raise ShapeMismatchError(f"{op}: expected a 4-d (unbatched) or 5-d input, got {list(input.shape)}")
    return input if input.ndim == 5 else input.unsqueeze(0)


def _separable(input, op, plane, depth, return_indices=False):
    """depth(plane(x)): plane pools [N, C*D, H, W]; depth pools [N, C, D, OH*OW] over its last two dims. With
    return_indices both return (values, indices) and so does this, the indices flat in each D * H * W volume."""
    x = _batched(input, op)
    n, c, d, h, w = x.shape
    planes = plane(x.reshape(n, c * d, h, w))
    if return_indices:
        planes, plane_indices = planes
    oh, ow = planes.shape[-2:]
    out = depth(planes.reshape(n, c, d, oh * ow))
    if return_indices:
        out, depth_indices = out
        chosen = depth_indices // (oh * ow)  # the depth of each maximum; its column is the output's own
        indices = chosen * (h * w) + plane_indices.reshape(n, c, d, oh * ow).gather(2, chosen)
    shape = (n, c, out.shape[2], oh, ow)
    results = (out.reshape(shape), indices.reshape(shape)) if return_indices else (out.reshape(shape),)
    if input.ndim == 4:
        results = tuple(r.squeeze(0) for r in results)
    return results if return_indices else results[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding 3-d windows; padding never wins (it is -inf). With return_indices also the int64 flat
    position (d * H * W + h * W + w) in its volume of each window's first maximum (what max_unpool3d takes)."""
    kernel = _ntuple(kernel_size, 3, "kernel_size", "max_pool3d", positive=True)
    stride = kernel if stride is None or stride == () else _ntuple(stride, 3, "stride", "max_pool3d", positive=True)
    padding = _ntuple(padding, 3, "padding", "max_pool3d")
    dilation = _ntuple(dilation, 3, "dilation", "max_pool3d", positive=True)
    return _separable(
        input, "max_pool3d",
        lambda x: max_pool2d(x, kernel[1:], stride[1:], padding[1:], dilation[1:], ceil_mode, return_indices),
        lambda x: max_pool2d(x, (kernel[0], 1), (stride[0], 1), (padding[0], 0), (dilation[0], 1), ceil_mode,
                             return_indices), return_indices)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding 3-d windows, with PyTorch's count_include_pad and ceil_mode rules (divisor_override is
    not supported: ValueError, as avg_pool2d)."""
    if divisor_override is not None:
        raise ValueError("avg_pool3d: divisor_override is not supported")
    kernel = _ntuple(kernel_size, 3, "kernel_size", "avg_pool3d", positive=True)
    stride = kernel if stride is None or stride == () else _ntuple(stride, 3, "stride", "avg_pool3d", positive=True)
    padding = _ntuple(padding, 3, "padding", "avg_pool3d")
    return _separable(
        input, "avg_pool3d",
        lambda x: avg_pool2d(x, kernel[1:], stride[1:], padding[1:], ceil_mode, count_include_pad),
        lambda x: avg_pool2d(x, (kernel[0], 1), (stride[0], 1), (padding[0], 0), ceil_mode, count_include_pad))


def _output_size(output_size, op):
    size = (output_size,) * 3 if output_size is None or isinstance(output_size, int) else tuple(output_size)
    if len(size) != 3:
        raise ValueError(f"{op}: output_size must be an int or a 3-tuple, got {output_size!r}")
    return size


def adaptive_avg_pool3d(input, output_size):
    """Averages over PyTorch's adaptive windows to output_size (an int or a 3-tuple; None keeps a size)."""
    od, oh, ow = _output_size(output_size, "adaptive_avg_pool3d")
    return _separable(input, "adaptive_avg_pool3d", lambda x: adaptive_avg_pool2d(x, (oh, ow)),
                      lambda x: adaptive_avg_pool2d(x, (od, None)))


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows to output_size (an int or a 3-tuple; None keeps a size); with
    return_indices also the int64 flat position in its volume of each maximum."""
    od, oh, ow = _output_size(output_size, "adaptive_max_pool3d")
    return _separable(input, "adaptive_max_pool3d", lambda x: adaptive_max_pool2d(x, (oh, ow), return_indices),
                      lambda x: adaptive_max_pool2d(x, (od, None), return_indices), return_indices)


__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]
