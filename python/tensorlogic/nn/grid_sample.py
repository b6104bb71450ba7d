"""Spatial transformers (torch.nn.functional's affine_grid and grid_sample), 2-d and 3-d, composed of public ops
so both have their gradients: affine_grid is one matmul of the base grid by theta; grid_sample turns each grid
point into its neighbours' flat positions and weights per spatial dim (PyTorch's unnormalisation and padding
rules) and sums the gathered corners: 2 per dim for (tri)linear interpolation, 1 for nearest, 4 for bicubic (2-d
only, as PyTorch's). The input's gradient is the gathers' (a scatter_add), the grid's flows through the weights (and
the reflections)."""
import itertools

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from ..ops.elementwise import where
from ..ops.fused import affine
from ..tensor import Tensor

_MODES = ("bilinear", "nearest", "bicubic")
_CUBIC_A = -0.75  # the cubic convolution's constant in PyTorch's bicubic grid_sample and interpolate
_PADDING = ("zeros", "border", "reflection")


def _base_coordinates(steps, align_corners):
    """PyTorch's normalised positions of `steps` pixels in [-1, 1] (centres, or corners with align_corners)."""
    if steps <= 1:
        return np.zeros(max(steps, 0))
    line = np.linspace(-1.0, 1.0, steps)
    return line if align_corners else line * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """The sampling grid [N, H, W, 2] (or [N, D, H, W, 3]) of the affine maps theta [N, 2, 3] (or [N, 3, 4]) for an
    output of size [N, C, H, W] (or [N, C, D, H, W]); each point is (x, y[, z]) in grid_sample's [-1, 1] frame."""
    if not isinstance(theta, Tensor) or not theta.is_floating_point():
        raise TypeError(f"affine_grid: theta must be a floating-point Tensor, got {type(theta).__name__}")
    size = [int(s) for s in size]
    if len(size) not in (4, 5):
        raise ValueError(f"affine_grid: size must have 4 (2-d) or 5 (3-d) entries, got {size}")
    spatial = len(size) - 2
    if tuple(theta.shape) != (size[0], spatial, spatial + 1):
        raise ShapeMismatchError(f"affine_grid: expected theta of shape {[size[0], spatial, spatial + 1]} for size "
                                 f"{size}, got {list(theta.shape)}")
    if min(size[2:]) <= 0:
        raise ValueError(f"affine_grid: the spatial sizes must be positive, got {size}")
    axes = [_base_coordinates(s, bool(align_corners)) for s in reversed(size[2:])]  # x (W) first
    mesh = np.meshgrid(*reversed(axes), indexing="ij")  # [D,] H, W arrays, slowest dim first
    base = np.stack([m.reshape(-1) for m in reversed(mesh)] + [np.ones(mesh[0].size)], axis=-1)
    grid = tensor(base.astype(np.float16), device=theta.device) @ theta.transpose(1, 2)
    return grid.reshape([size[0]] + size[2:] + [spatial])


def _unnormalize(size, align_corners):
    """(scale, shift) from [-1, 1] to pixel units: -1 and 1 are the corner pixels' centres (align_corners) or their
    outer edges."""
    return ((size - 1) / 2.0, (size - 1) / 2.0) if align_corners else (size / 2.0, (size - 1) / 2.0)


def _reflect(x, twice_low, twice_high):
    """x folded back into [low, high] by reflection at its ends (PyTorch's reflect_coordinates), and the slope
    (+-1) of the fold at x."""
    if twice_low == twice_high:
        return x * 0.0, x * 0.0
    low, span = twice_low / 2.0, (twice_high - twice_low) / 2.0
    distance = (x - low).abs()
    flips = (distance / span).floor()
    extra = distance - flips * span
    even = (flips.remainder(2.0) == 0)
    return where(even, extra + low, span - extra + low), (x - low).sign() * where(even, 1.0, -1.0)


def _source(coord, size, padding_mode, align_corners):
    """Pixel coordinates of one spatial dim before and after the padding mode (border and reflection clip into the
    input), without gradient, and the slope of the padding map there (1, -1 where reflected, 0 where clipped)."""
    scale, shift = _unnormalize(size, align_corners)
    pixel = x = affine(coord.detach(), scale, shift)
    slope = 1.0
    if padding_mode == "reflection":
        x, slope = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
    if padding_mode != "zeros":
        slope = where((x > 0) & (x < size - 1), slope, 0.0)
        x = x.clamp(0.0, float(size - 1))
    return pixel, x, slope


def _neighbours(coord, size, mode, padding_mode, align_corners):
    """[(position, weight, inside)] of the pixels that a grid coordinate reads along one dim. The padding map is
    linear between its folds, x = slope * pixel + offset with an integer offset, so the weight of the upper
    neighbour, x - floor(x), is one fused multiply-add of the coordinate rounded once (an f16 pixel coordinate would
    carry an error of up to 2^-11 of the size into it); the grid's gradient flows through it."""
    pixel, x, slope = _source(coord, size, padding_mode, align_corners)
    if mode == "nearest":
        near = x.round()  # half to even, as PyTorch's nearbyint
        return [(near.long(), None, (near >= 0) & (near <= size - 1))]
    scale, shift = _unnormalize(size, align_corners)
    low = x.floor()
    offset = (x - pixel * slope).round()
    frac = affine(coord, slope * scale, slope * shift + offset - low)
    return [(low.long(), 1.0 - frac, (low >= 0) & (low <= size - 1)),
            (low.long() + 1, frac, (low >= -1) & (low <= size - 2))]


def _cubic_weights(t):
    """The cubic-convolution weights of the pixels floor - 1 .. floor + 2 at the fraction t (PyTorch's, A = -0.75),
    factored so that none is a difference of nearly equal terms in f16 (the middle two vanish at t = 1 and 0)."""
    u = 1.0 - t
    return [_CUBIC_A * t * u * u, u * (1.0 + t - (_CUBIC_A + 2) * t * t), t * (1.0 + u - (_CUBIC_A + 2) * u * u),
            _CUBIC_A * t * t * u]


def _cubic_neighbours(coord, size, padding_mode, align_corners):
    """[(position, weight, inside)] of the 4 pixels a grid coordinate reads along one dim for bicubic sampling. As in
    PyTorch, the coordinate itself is not padded: each of the 4 integer positions is (clipped or reflected into the
    input, or outside and read as 0), so the weights are those of the unpadded fraction. That fraction is one fused
    multiply-add of the coordinate rounded once (see _neighbours); the grid's gradient flows through it."""
    scale, shift = _unnormalize(size, align_corners)
    low = affine(coord.detach(), scale, shift).floor()
    frac = affine(coord, scale, shift - low)
    taps = []
    for k, weight in zip((-1, 0, 1, 2), _cubic_weights(frac)):
        position = low + k
        if padding_mode == "reflection":
            twice_low, twice_high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
            position = _reflect(position, twice_low, twice_high)[0]
        if padding_mode != "zeros":
            position = position.clamp(0.0, float(size - 1))
        taps.append((position.long(), weight, (position >= 0) & (position <= size - 1)))
    return taps


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples input [N, C, H, W] (or [N, C, D, H, W]) at grid [N, H_out, W_out, 2] (or [N, D_out, H_out, W_out, 3]):
    each grid point (x, y[, z]) in [-1, 1] reads input by bilinear (trilinear) interpolation, the nearest pixel or
    (2-d only) bicubic interpolation, with padding_mode zeros, border or reflection for points outside."""
    if not isinstance(input, Tensor) or not isinstance(grid, Tensor):
        raise TypeError("grid_sample(): input and grid must be Tensors")
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if padding_mode not in _PADDING:
        raise ValueError(f"grid_sample: padding_mode must be one of {', '.join(_PADDING)}, got {padding_mode!r}")
    spatial = input.ndim - 2
    if spatial not in (2, 3) or grid.ndim != input.ndim or grid.shape[0] != input.shape[0] or grid.shape[-1] != spatial:
        raise ShapeMismatchError(f"grid_sample: expected input [N, C, H, W] with grid [N, H_out, W_out, 2] (or 5-d with "
                                 f"3 coordinates), got input {list(input.shape)} and grid {list(grid.shape)}")
    if mode == "bicubic" and spatial != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    n, c = input.shape[:2]
    sizes = list(input.shape[2:])  # [D,] H, W
    out_shape = list(grid.shape[1:-1])
    points = grid.reshape(n, 1, -1, spatial)
    per_dim = []  # slowest spatial dim first; the grid's coordinates are in the reverse order (x is W)
    for d, size in enumerate(sizes):
        coord = points[..., spatial - 1 - d]
        per_dim.append(_cubic_neighbours(coord, size, padding_mode, bool(align_corners)) if mode == "bicubic" else
                       _neighbours(coord, size, mode, padding_mode, bool(align_corners)))
    strides = [int(np.prod(sizes[d + 1:])) for d in range(spatial)]
    flat = input.reshape(n, c, -1)
    out = None
    for corner in itertools.product(*per_dim):
        index, weight, inside = 0, None, None
        for stride, (position, w, ok) in zip(strides, corner):
            index = index + position * stride
            weight = w if weight is None else weight * w
            inside = ok if inside is None else inside & ok
        index = where(inside, index, 0).expand(n, c, index.shape[-1])
        value = where(inside, flat.gather(2, index), 0.0)
        term = value if weight is None else value * weight
        out = term if out is None else out + term
    return out.reshape([n, c] + out_shape)


__all__ = ["affine_grid", "grid_sample"]
