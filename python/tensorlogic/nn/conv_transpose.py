"""ConvTranspose2d: PyTorch's parameters (weight [C_in, C_out/groups, kh, kw]), initialisation and output_size
argument; the math is F.conv_transpose2d."""
import math

from .. import _core
from ..device import device_name
from ..ops.conv import _pair
from ..tensor import _wrap
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class ConvTranspose2d(Module):
    """2-d transposed convolution (the gradient of Conv2d with respect to its input) of [N, C_in, H, W] input, with
    weight [C_in, C_out / groups, kH, kW], stride, padding, output_padding, groups and dilation as in
    torch.nn.ConvTranspose2d; forward(input, output_size) picks output_padding to reach output_size. Only
    padding_mode='zeros'."""
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for ConvTranspose2d, got {padding_mode!r}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _pair(kernel_size, "kernel_size"), _pair(stride, "stride")
        self.padding, self.dilation = _pair(padding, "padding"), _pair(dilation, "dilation")
        self.output_padding = _pair(output_padding, "output_padding")
        shape = [in_channels, out_channels // groups, *self.kernel_size]
        self.weight = Parameter(_wrap(_core.empty(shape, "float16", device_name(device))))
        if bias:
            self.bias = Parameter(_wrap(_core.empty([out_channels], "float16", device_name(device))))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's: kaiming_uniform_(a=sqrt(5)) with the fan_in of dim 1 (weight.size(1) * kh * kw)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        want = tuple(output_size)[-2:]
        got = []
        for d, size in enumerate(input.shape[-2:]):
            smallest = (size - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
            extra = want[d] - smallest
            if not 0 <= extra < max(self.stride[d], self.dilation[d]):
                raise ValueError(f"requested an output size of {list(want)}, but valid sizes range from "
                                 f"{smallest} to {smallest + max(self.stride[d], self.dilation[d]) - 1} in dim {d}")
            got.append(extra)
        return tuple(got)

    def forward(self, input, output_size=None):
        """The transposed convolution of [N, C_in, H, W] (or [C_in, H, W]) input; output_size (the last two sizes
        wanted) picks the output_padding that reaches it."""
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        return s + ("" if self.bias is not None else ", bias=False")
