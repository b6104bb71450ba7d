"""1-d pooling (torch.nn.functional's max_pool1d, avg_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d and
their modules) over [N, C, L] or [C, L]: each runs as its 2-d form over a height of 1, so it shares those
kernels and gradients."""
import numbers

from ..errors import ShapeMismatchError
from ..ops.conv import avg_pool2d, max_pool2d
from .layer_functions import adaptive_avg_pool2d, adaptive_max_pool2d
from .module import Module


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
    """Max over windows of the last dim; padding never wins."""
    if return_indices:
        raise ValueError("max_pool1d: return_indices=True is not supported")
    kernel = _single(kernel_size, "kernel_size", "max_pool1d")
    stride = kernel if stride is None or stride == () else _single(stride, "stride", "max_pool1d")
    out = max_pool2d(_rows(input, "max_pool1d"), (1, kernel), (1, stride), (0, _single(padding, "padding", "max_pool1d")),
                     (1, _single(dilation, "dilation", "max_pool1d")), ceil_mode, return_indices)
    return out.squeeze(-2)


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


class MaxPool1d(Module):
    """1-d max pooling of [N, C, L] (or [C, L]) input, as torch.nn.MaxPool1d: kernel_size, stride (default:
    kernel_size), padding (which never wins the max), dilation and ceil_mode. return_indices=True is not
    supported: forward raises ValueError."""
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        """max_pool1d of input with the module's settings."""
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """1-d average pooling of [N, C, L] (or [C, L]) input, as torch.nn.AvgPool1d: kernel_size, stride (default:
    kernel_size) and zero padding, each an int or a 1-tuple, with ceil_mode and count_include_pad."""
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size", "AvgPool1d"),
        self.stride = _single(stride if stride is not None else kernel_size, "stride", "AvgPool1d"),
        self.padding = _single(padding, "padding", "AvgPool1d"),
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        """avg_pool1d of input with the module's settings."""
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling of [N, C, L] (or [C, L]) input to a fixed length output_size, each output averaging
    PyTorch's adaptive window of the last dim, as torch.nn.AdaptiveAvgPool1d."""
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        """adaptive_avg_pool1d(input, output_size)."""
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveAvgPool1d):
    """Max pooling of [N, C, L] (or [C, L]) input over PyTorch's adaptive windows to length output_size, as
    torch.nn.AdaptiveMaxPool1d; with return_indices=True forward returns (values, int64 positions in L)."""
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        """adaptive_max_pool1d(input, output_size, return_indices)."""
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


__all__ = ["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "MaxPool1d", "AvgPool1d",
           "AdaptiveAvgPool1d", "AdaptiveMaxPool1d"]
