"""Conv1d, Conv2d and Conv3d (and im2col's Unfold/Fold): PyTorch's constructors (padding as ints or 'valid'/'same', padding_mode,
groups, bias), initialisation and printing; the math is tl.nn.functional's conv1d/conv2d/conv3d."""
import numbers

from ..ops.conv_nd import _ntuple
from . import functional as F
from .layers import _reset_weight_and_bias, _weight_and_bias
from .module import Module
from .parameter import check_parameter_dtype
from .wrapping import REQUIRED, subclass, wrapping

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """The parts Conv1d/2d/3d share; `_dims` is the number of spatial dims, `_conv` the functional op."""

    _dims = 0
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._dims
        if not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        check_parameter_dtype(name, dtype)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, int(groups)
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name, positive=True)
        self.stride = _ntuple(stride, n, "stride", name, positive=True)
        self.dilation = _ntuple(dilation, n, "dilation", name, positive=True)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of ['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding", name)
        self.padding_mode = padding_mode
        self.output_padding, self.transposed = (0,) * n, False
        _weight_and_bias(self, [out_channels, in_channels // groups, *self.kernel_size], out_channels if bias else None, device)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's: kaiming_uniform_(a=sqrt(5)) on the weight, the bias uniform in +-1/sqrt(fan_in)."""
        _reset_weight_and_bias(self.weight, self.bias)

    def _explicit_padding(self):
        """F.pad's (left, right) pairs, last dim first, for a padding_mode other than zeros."""
        if self.padding == "valid":
            return [0] * (2 * self._dims)
        pads = []
        for d in reversed(range(self._dims)):
            if self.padding == "same":
                total = self.dilation[d] * (self.kernel_size[d] - 1)
                pads += [total // 2, total - total // 2]
            else:
                pads += [self.padding[d]] * 2
        return pads

    def forward(self, input):
        conv = type(self)._conv
        if self.padding_mode != "zeros":
            input = F.pad(input, self._explicit_padding(), mode=self.padding_mode)
            return conv(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        """The settings shown in the module's repr (PyTorch's order; the transposed convolutions share it)."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


Conv1d = subclass("Conv1d", _ConvNd, "1-d convolution over [N, C, L]; weight [out_channels, in_channels/groups, k].",
                  __name__, _dims=1, _conv=staticmethod(F.conv1d))
Conv2d = subclass("Conv2d", _ConvNd, "2-d convolution over [N, C, H, W]; weight [out_channels, in_channels/groups, kh, "
                  "kw].", __name__, _dims=2, _conv=staticmethod(F.conv2d))
Conv3d = subclass("Conv3d", _ConvNd, "3-d convolution over [N, C, D, H, W]; weight [out_channels, in_channels/groups, "
                  "kd, kh, kw].", __name__, _dims=3, _conv=staticmethod(F.conv3d))
Unfold = wrapping("Unfold", F.unfold, "im2col: [N, C, H, W] -> [N, C*kh*kw, L] sliding blocks (F.unfold).", __name__,
                  kernel_size=REQUIRED, dilation=1, padding=0, stride=1)
Fold = wrapping("Fold", F.fold, "col2im: sums sliding blocks [N, C*kh*kw, L] into [N, C, *output_size] (F.fold).",
                __name__, output_size=REQUIRED, kernel_size=REQUIRED, dilation=1, padding=0, stride=1)


__all__ = ["Conv1d", "Conv2d", "Conv3d", "Unfold", "Fold"]
