"""ConvTranspose1d, ConvTranspose2d and ConvTranspose3d: PyTorch's parameters (weight [C_in, C_out/groups, *kernel]),
initialisation and output_size argument; the math is F.conv_transpose1d / 2d / 3d."""
from ..ops.conv_nd import _ntuple
from . import functional as F
from .conv import _ConvNd
from .layers import _reset_weight_and_bias, _weight_and_bias
from .module import Module
from .parameter import check_parameter_dtype
from .wrapping import subclass


class _ConvTransposeNd(_ConvNd):
    """The parts ConvTranspose1d/2d/3d share; `_dims` is the number of spatial dims, `_conv` the functional op. A
    _ConvNd, as in PyTorch (isinstance checks for convolutions find both kinds), with a constructor of its own."""

    _dims = 0
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        Module.__init__(self)
        check_parameter_dtype(type(self).__name__, dtype)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        name, n = type(self).__name__, self._dims
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got {padding_mode!r}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _ntuple(kernel_size, n, "kernel_size", name), _ntuple(stride, n, "stride", name)
        self.padding, self.dilation = _ntuple(padding, n, "padding", name), _ntuple(dilation, n, "dilation", name)
        self.output_padding, self.padding_mode = _ntuple(output_padding, n, "output_padding", name), padding_mode
        _weight_and_bias(self, [in_channels, out_channels // groups, *self.kernel_size], out_channels if bias else None,
                         device)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's: kaiming_uniform_(a=sqrt(5)) with the fan_in of dim 1 (weight.size(1) * kh * kw)."""
        _reset_weight_and_bias(self.weight, self.bias)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        want = tuple(output_size)[-self._dims:]
        got = []
        for d, size in enumerate(input.shape[-self._dims:]):
            smallest = (size - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
            extra = want[d] - smallest
            if not 0 <= extra < max(self.stride[d], self.dilation[d]):
                raise ValueError(f"requested an output size of {list(want)}, but valid sizes range from "
                                 f"{smallest} to {smallest + max(self.stride[d], self.dilation[d]) - 1} in dim {d}")
            got.append(extra)
        return tuple(got)

    def forward(self, input, output_size=None):
        """The transposed convolution of input; output_size (the spatial sizes wanted) picks the output_padding
        that reaches it."""
        return type(self)._conv(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)


ConvTranspose1d = subclass("ConvTranspose1d", _ConvTransposeNd, "The adjoint of conv1d over [N, C_in, L]; weight [C_in, "
                           "C_out/groups, k].", __name__, _dims=1, _conv=staticmethod(F.conv_transpose1d))
ConvTranspose2d = subclass("ConvTranspose2d", _ConvTransposeNd, "The adjoint of conv2d over [N, C_in, H, W]; weight "
                           "[C_in, C_out/groups, kh, kw].", __name__, _dims=2, _conv=staticmethod(F.conv_transpose2d))
ConvTranspose3d = subclass("ConvTranspose3d", _ConvTransposeNd, "The adjoint of conv3d over [N, C_in, D, H, W]; weight "
                           "[C_in, C_out/groups, kd, kh, kw].", __name__, _dims=3,
                           _conv=staticmethod(F.conv_transpose3d))
