"""Max unpooling and power-average pooling, 1-d to 3-d (torch.nn.functional's max_unpool1d/2d/3d and
lp_pool1d/2d/3d, and their modules). Unpooling is one scatter of each value to the flat position its index
names in a zero plane (so its gradient is a gather); LP pooling is PyTorch's formula over avg_pool (or max_pool
for an infinite norm), so it shares those ops' kernels and gradients."""
import math
import numbers

from ..creation import zeros
from ..errors import ShapeMismatchError
from ..ops.conv import avg_pool2d, max_pool2d
from ..ops.conv_nd import _ntuple
from ..ops.elementwise import relu
from ..tensor import Tensor
from .module import Module
from .pool1d import avg_pool1d, max_pool1d
from .pool3d import avg_pool3d, max_pool3d


def _unpool_size(input, dims, kernel, stride, padding, output_size, op):
    """The spatial output size: PyTorch's default (in - 1) * stride - 2 * padding + kernel, or output_size (the
    spatial sizes, optionally after the batch and channel sizes) within one stride of it."""
    default = [(i - 1) * s - 2 * p + k for i, s, p, k in zip(input.shape[-dims:], stride, padding, kernel)]
    if output_size is None:
        return default
    size = [int(v) for v in output_size]
    if len(size) == dims + 2:
        size = size[2:]
    if len(size) != dims:
        raise ValueError(f"{op}: output_size should be a sequence of {dims} (or {dims + 2}) ints, got {output_size!r}")
    for d, (want, low, s) in enumerate(zip(size, default, stride)):
        if not low - s < want < low + s:
            raise ValueError(f"{op}: invalid output_size {size} (dim {d} must be between {low - s + 1} and "
                             f"{low + s - 1})")
    return size


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, dims):
    op = f"max_unpool{dims}d"
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        raise TypeError(f"{op}(): input and indices must be Tensors")
    if indices.is_floating_point() or indices.dtype.name == "bool":
        raise TypeError(f"{op}: indices must be an integer tensor (max_pool's), got {indices.dtype}")
    if input.ndim not in (dims + 1, dims + 2) or tuple(indices.shape) != tuple(input.shape):
        raise ShapeMismatchError(f"{op}: expected a {dims + 1}-d or {dims + 2}-d input and indices of its shape, got "
                                 f"input {list(input.shape)} and indices {list(indices.shape)}")
    kernel = _ntuple(kernel_size, dims, "kernel_size", op, positive=True)
    stride = kernel if stride is None or stride == () else _ntuple(stride, dims, "stride", op, positive=True)
    padding = _ntuple(padding, dims, "padding", op)
    size = _unpool_size(input, dims, kernel, stride, padding, output_size, op)
    plane = math.prod(size)
    lead = tuple(input.shape[:-dims])
    flat = indices.reshape(lead + (-1,)).long()
    if flat.numel() and (int(flat.min().item()) < 0 or int(flat.max().item()) >= plane):
        raise IndexError(f"{op}: found an index outside the output plane of {plane} elements (output size {size})")
    out = zeros(lead + (plane,), dtype=input.dtype, device=input.device)
    return out.scatter(len(lead), flat, input.reshape(lead + (-1,))).reshape(lead + tuple(size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: each value of [N, C, L] (or [C, L]) placed at the position its index
    (max_pool1d's return_indices) names, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value of [N, C, H, W] (or [C, H, W]) placed at the flat position
    h * W_out + w its index (max_pool2d's return_indices) names, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of a 3-d max pool: each value of [N, C, D, H, W] (or [C, D, H, W]) placed at the flat
    position its index names in the (D, H, W) output, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, dims, avg, max_):
    """PyTorch's: (sum over the window of x^p)^(1/p), the sum as avg_pool times the window size (negative sums,
    from odd p, clamp to 0); +-inf norms are the max (min) of |x|."""
    op = f"lp_pool{dims}d"
    if not isinstance(norm_type, numbers.Real) or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a non-zero number, got {norm_type!r}")
    kernel = _ntuple(kernel_size, dims, "kernel_size", op, positive=True)
    stride = kernel if stride is None or stride == () else _ntuple(stride, dims, "stride", op, positive=True)
    k, s = (kernel[0], stride[0]) if dims == 1 else (kernel, stride)
    if norm_type == math.inf:
        return max_(input.abs(), k, s, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_(-input.abs(), k, s, 0, 1, ceil_mode)
    out = avg(input.pow(norm_type), k, s, 0, ceil_mode)
    window = float(math.prod(kernel))  # a float: a product of huge sizes (2^124) is no int64
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over windows of the last dim: (sum of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, avg_pool1d, max_pool1d)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 2-d windows: (sum of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, avg_pool2d, max_pool2d)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 3-d windows: (sum of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, avg_pool3d, max_pool3d)


class _MaxUnpoolNd(Module):
    """MaxUnpool1d/2d/3d: PyTorch's constructor (stride defaults to kernel_size) and printing."""

    _dims = 0
    _unpool = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, n = type(self).__name__, self._dims
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name, positive=True)
        self.stride = self.kernel_size if stride is None else _ntuple(stride, n, "stride", name, positive=True)
        self.padding = _ntuple(padding, n, "padding", name)

    def forward(self, input, indices, output_size=None):
        """input's values placed where indices (from the matching MaxPool with return_indices) name."""
        return type(self)._unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d (F.max_unpool1d)."""
    _dims = 1
    _unpool = staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d (F.max_unpool2d)."""
    _dims = 2
    _unpool = staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of a 3-d max pool (F.max_unpool3d)."""
    _dims = 3
    _unpool = staticmethod(max_unpool3d)


class _LPPoolNd(Module):
    """LPPool1d/2d/3d: PyTorch's constructor and printing."""

    _pool = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        """Power-average pooling of input with the module's settings."""
        return type(self)._pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling of [N, C, L] input (F.lp_pool1d)."""
    _pool = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling of [N, C, H, W] input (F.lp_pool2d)."""
    _pool = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of [N, C, D, H, W] input (F.lp_pool3d)."""
    _pool = staticmethod(lp_pool3d)


__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]
