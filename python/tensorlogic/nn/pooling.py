"""Pooling modules: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and AdaptiveMaxPool2d (PyTorch's constructors and
printing)."""
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """2-d max pooling of [N, C, H, W] (or [C, H, W]) input, as torch.nn.MaxPool2d: kernel_size, stride (default:
    kernel_size), padding (with -inf), dilation, ceil_mode, and return_indices (then forward returns (values, flat
    int64 indices))."""
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        """max_pool2d of input with the module's settings: the pooled values, or (values, indices) with
        return_indices."""
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """2-d average pooling of [N, C, H, W] (or [C, H, W]) input, as torch.nn.AvgPool2d: kernel_size, stride
    (default: kernel_size), zero padding, ceil_mode, count_include_pad and divisor_override. Sums in f32."""
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        """avg_pool2d of input with the module's settings."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output_size (an int or (H, W); None keeps that size), each output cell averaging
    PyTorch's window of the input, as torch.nn.AdaptiveAvgPool2d."""
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        """adaptive_avg_pool2d(input, output_size)."""
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max over adaptive windows to output_size; with return_indices=True also the flat indices (int64)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        """adaptive_max_pool2d(input, output_size, return_indices): the values, or (values, indices)."""
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"output_size={self.output_size}"


__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]
