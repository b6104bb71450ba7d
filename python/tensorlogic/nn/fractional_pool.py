"""Fractional max pooling (Graham, 2014), as torch.nn.functional.fractional_max_pool2d/3d and the modules
FractionalMaxPool2d/3d: each output cell is the max over a kernel_size window whose start along each dim follows a
pseudo-random sequence, drawn per sample and channel from one uniform number u in [0, 1) (PyTorch's rule: start_i =
floor((i + u) * alpha) - floor(u * alpha) with alpha = (in - k) / (out - 1), the last start at in - k). The numbers
come from tl.rand (the global stream) unless given as _random_samples [N, C, dims] (ordered as PyTorch's: W then H
in 2-d, T, H, W in 3-d). The starts are computed on the host; the max is a gather of the windows on the device, whose
gradient goes to the chosen element of each window, as PyTorch's."""
import numbers

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from ..ops.random import rand
from ..tensor import Tensor
from .module import Module


def _sizes(value, dims, name, op, kind):
    values = (value,) * dims if isinstance(value, numbers.Real) and not isinstance(value, bool) else tuple(value)
    if len(values) != dims or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{op}: {name} must be one number or {dims} of them, got {value!r}")
    return values


def _starts(u, size, out, k):
    """The window starts along one dim for the samples u (float32, any shape): [..., out] int64."""
    if out == 1:
        return np.full(u.shape + (1,), size - k, np.int64)
    alpha = np.float32(size - k) / np.float32(out - 1)
    i = np.arange(out - 1, dtype=np.float32)
    seq = (((i + u[..., None]) * alpha).astype(np.int64) - (u[..., None] * alpha).astype(np.int64))
    return np.concatenate([seq, np.full(u.shape + (1,), size - k, np.int64)], -1)


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, dims, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeMismatchError(f"{op}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d input, got "
                                 f"{list(input.shape)}")
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    kernel = _sizes(kernel_size, dims, "kernel_size", op, numbers.Integral)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        out = _sizes(output_size, dims, "output_size", op, numbers.Integral)
    else:
        ratio = _sizes(output_ratio, dims, "output_ratio", op, numbers.Real)
        if not all(0 < r < 1 for r in ratio):
            raise ValueError(f"{op}: output_ratio must be between 0 and 1, got {output_ratio!r}")
        out = tuple(int(s * r) for s, r in zip(spatial, ratio))
    for d, (s, o, k) in enumerate(zip(spatial, out, kernel)):
        if k <= 0 or o <= 0 or o + k - 1 > s:
            raise ValueError(f"{op}: a pool of {k} and an output of {o} do not fit an input of {s} in spatial dim {d} "
                             f"(output + pool - 1 must be <= input, each positive)")
    if _random_samples is None:
        samples = rand(n, c, dims, device=input.device)
    else:
        samples = _random_samples.unsqueeze(0) if unbatched and _random_samples.ndim == 2 else _random_samples
        if tuple(samples.shape) != (n, c, dims):
            raise ShapeMismatchError(f"{op}: _random_samples must be [{n}, {c}, {dims}], got "
                                     f"{list(_random_samples.shape)}")
    u = samples.detach().cpu().numpy().astype(np.float32)
    order = (1, 0) if dims == 2 else (0, 1, 2)  # which sample drives each spatial dim (PyTorch's layout)
    strides = np.cumprod((1,) + spatial[::-1])[::-1][1:]  # row-major strides of the spatial dims
    flat = np.zeros((n, c) + out + kernel, np.int64)  # each window element's position in its plane
    for d in range(dims):
        pos = _starts(u[..., order[d]], spatial[d], out[d], kernel[d])[..., None] + np.arange(kernel[d])
        shape = [n, c] + [1] * (2 * dims)
        shape[2 + d], shape[2 + dims + d] = out[d], kernel[d]
        flat = flat + (pos * strides[d]).reshape(shape)
    planes = x.reshape(n, c, -1)
    windows = tensor(flat.reshape(n, c, -1, int(np.prod(kernel))), device=input.device)
    values = planes.detach().gather(2, windows.reshape(n, c, -1)).reshape(windows.shape)
    chosen = windows.gather(3, values.argmax(3, keepdim=True)).reshape(n, c, -1)
    result = planes.gather(2, chosen).reshape((n, c) + out)
    indices = chosen.reshape((n, c) + out)
    if unbatched:
        result, indices = result.squeeze(0), indices.squeeze(0)
    return (result, indices) if return_indices else result


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over [N, C, H, W] (or [C, H, W]): the pooled values [.., oH, oW], and with
    return_indices their flat positions in each H * W plane (int64). output_size or output_ratio (of the input
    size, each in (0, 1)) sets the output."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2,
                                "fractional_max_pool2d")


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over [N, C, T, H, W] (or [C, T, H, W]), as fractional_max_pool2d with three spatial
    dims (indices flat in each T * H * W volume)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3,
                                "fractional_max_pool3d")


class _FractionalMaxPoolNd(Module):
    _dims = 0
    _pool = None

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        name = type(self).__name__
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        self.kernel_size = _sizes(kernel_size, self._dims, "kernel_size", name, numbers.Integral)
        self.output_size = None if output_size is None else _sizes(output_size, self._dims, "output_size", name,
                                                                    numbers.Integral)
        self.output_ratio = None if output_ratio is None else _sizes(output_ratio, self._dims, "output_ratio", name,
                                                                      numbers.Real)
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)

    def forward(self, input):
        """The pooled input (and its indices with return_indices), fresh windows each call unless _random_samples
        was given."""
        return type(self)._pool(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                                _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """fractional_max_pool2d as a module (kernel_size, output_size or output_ratio, return_indices)."""

    _dims = 2
    _pool = staticmethod(fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """fractional_max_pool3d as a module (kernel_size, output_size or output_ratio, return_indices)."""

    _dims = 3
    _pool = staticmethod(fractional_max_pool3d)


__all__ = ["fractional_max_pool2d", "fractional_max_pool3d"]
