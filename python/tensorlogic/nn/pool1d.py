"""1-d pooling (torch.nn.functional's max_pool1d, avg_pool1d, adaptive_avg_pool1d and adaptive_max_pool1d; their
modules are in pooling.py) over [N, C, L] or [C, L]: each runs as its 2-d form over a height of 1, so it shares those
kernels and gradients."""
import numbers

from ..errors import ShapeMismatchError
from ..ops.conv import avg_pool2d, max_pool2d
from .layer_functions import adaptive_avg_pool2d, adaptive_max_pool2d


def _single(value, name, op):
    if isinstance(value, numbers.Integral):
        return int(value)
    value = tuple(value)
    if len(value) != 1 or not isinstance(value[0], numbers.Integral):
        raise ValueError(f"{op}: {name} must be an int or a 1-tuple of ints, got {value!r}")
    return int(value[0])


def _rows(input, op):
    """input with a height of 1 inserted before its last dim."""
    if input.ndim not in (2, 3):
        raise ShapeMismatchError(f"{op}: expected a 2-d (unbatched) or 3-d input, got {list(input.shape)}")
    return input.unsqueeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of the last dim; padding never wins. With return_indices also the int64 position of each
    window's first maximum."""
    kernel = _single(kernel_size, "kernel_size", "max_pool1d")
    stride = kernel if stride is None or stride == () else _single(stride, "stride", "max_pool1d")
    out = max_pool2d(_rows(input, "max_pool1d"), (1, kernel), (1, stride), (0, _single(padding, "padding", "max_pool1d")),
                     (1, _single(dilation, "dilation", "max_pool1d")), ceil_mode, return_indices)
    return (out[0].squeeze(-2), out[1].squeeze(-2)) if return_indices else out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of the last dim, with PyTorch's count_include_pad and ceil_mode rules."""
    kernel = _single(kernel_size, "kernel_size", "avg_pool1d")
    stride = kernel if stride is None or stride == () else _single(stride, "stride", "avg_pool1d")
    out = avg_pool2d(_rows(input, "avg_pool1d"), (1, kernel), (1, stride), (0, _single(padding, "padding", "avg_pool1d")),
                     ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Averages over PyTorch's adaptive windows of the last dim to output_size."""
    return adaptive_avg_pool2d(_rows(input, "adaptive_avg_pool1d"),
                               (1, _single(output_size, "output_size", "adaptive_avg_pool1d"))).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows of the last dim; with return_indices also their int64 positions."""
    out = adaptive_max_pool2d(_rows(input, "adaptive_max_pool1d"),
                              (1, _single(output_size, "output_size", "adaptive_max_pool1d")), return_indices)
    return (out[0].squeeze(-2), out[1].squeeze(-2)) if return_indices else out.squeeze(-2)


__all__ = ["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d"]
