"""Pooling modules, 1-d and 2-d: MaxPool, AvgPool, AdaptiveAvgPool and AdaptiveMaxPool (PyTorch's constructors and
printing); the math is tl.nn.functional's."""
from . import functional as F
from .module import Module
from .pool1d import _single


class _MaxPoolNd(Module):
    """The parts MaxPool1d and MaxPool2d share (as PyTorch's _MaxPoolNd); `_pool` is the functional op."""

    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        """Max pooling of input with the module's settings: the pooled values, or (values, indices) with
        return_indices."""
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                                self.return_indices)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling of [N, C, L] (or [C, L]) input, as torch.nn.MaxPool1d: kernel_size, stride (default:
    kernel_size), padding (which never wins the max), dilation, ceil_mode, and return_indices (then forward returns
    (values, int64 indices))."""
    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling of [N, C, H, W] (or [C, H, W]) input, as torch.nn.MaxPool2d: kernel_size, stride (default:
    kernel_size), padding (with -inf), dilation, ceil_mode, and return_indices (then forward returns (values, flat
    int64 indices))."""
    _pool = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling of [N, C, D, H, W] (or [C, D, H, W]) input, as torch.nn.MaxPool3d: kernel_size, stride
    (default: kernel_size), padding (which never wins the max), dilation, ceil_mode, and return_indices (then forward
    returns (values, flat int64 indices in each volume))."""
    _pool = staticmethod(F.max_pool3d)


class _AvgPoolNd(Module):
    """The parts the average poolings share (as PyTorch's _AvgPoolNd); `_pool` is the functional op."""

    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        """Average pooling of input with the module's settings."""
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-d average pooling of [N, C, L] (or [C, L]) input, as torch.nn.AvgPool1d: kernel_size, stride (default:
    kernel_size) and zero padding, each an int or a 1-tuple, with ceil_mode and count_include_pad."""
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        Module.__init__(self)
        self.kernel_size = _single(kernel_size, "kernel_size", "AvgPool1d"),
        self.stride = _single(stride if stride is not None else kernel_size, "stride", "AvgPool1d"),
        self.padding = _single(padding, "padding", "AvgPool1d"),
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        """avg_pool1d of input with the module's settings."""
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling of [N, C, H, W] (or [C, H, W]) input, as torch.nn.AvgPool2d: kernel_size, stride
    (default: kernel_size), zero padding, ceil_mode, count_include_pad and divisor_override. Sums in f32."""
    _pool = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling of [N, C, D, H, W] (or [C, D, H, W]) input, as torch.nn.AvgPool3d: kernel_size, stride
    (default: kernel_size), zero padding, ceil_mode and count_include_pad (divisor_override raises ValueError)."""
    _pool = staticmethod(F.avg_pool3d)


class _AdaptivePoolNd(Module):
    """The parts the adaptive poolings share; `_pool` is the functional op."""

    _pool = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        """The pooling of input to output_size."""
        return type(self)._pool(input, self.output_size)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    """The adaptive average poolings (PyTorch's _AdaptiveAvgPoolNd; the max ones are _AdaptiveMaxPoolNd)."""


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of [N, C, L] (or [C, L]) input to a fixed length output_size, each output averaging
    PyTorch's adaptive window of the last dim, as torch.nn.AdaptiveAvgPool1d."""
    _pool = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output_size (an int or (H, W); None keeps that size), each output cell averaging
    PyTorch's window of the input, as torch.nn.AdaptiveAvgPool2d."""
    _pool = staticmethod(F.adaptive_avg_pool2d)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    """The adaptive max poolings (PyTorch's _AdaptiveMaxPoolNd): return_indices too."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        """The maxima over the adaptive windows, or (values, int64 indices) with return_indices."""
        return type(self)._pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of [N, C, L] (or [C, L]) input over PyTorch's adaptive windows to length output_size, as
    torch.nn.AdaptiveMaxPool1d; with return_indices=True forward returns (values, int64 positions in L)."""
    _pool = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows to output_size, as torch.nn.AdaptiveMaxPool2d; with return_indices=True also the
    flat indices (int64)."""
    _pool = staticmethod(F.adaptive_max_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output_size (an int or (D, H, W); None keeps that size), as
    torch.nn.AdaptiveAvgPool3d."""
    _pool = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling over PyTorch's adaptive windows to output_size, as torch.nn.AdaptiveMaxPool3d
    (return_indices=True is not supported)."""
    _pool = staticmethod(F.adaptive_max_pool3d)


__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"]
