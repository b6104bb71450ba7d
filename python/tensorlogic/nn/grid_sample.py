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
from ..ops.elementwise import isfinite, where
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


# Pixel coordinates are computed exactly, as int64 counts of 2^-25 pixel: an f16 grid coordinate is a multiple of
# 2^-24, and (2 pixel) is the coordinate times size (or size - 1) plus size - 1. An f16 pixel coordinate rounds by
# up to 2^-12 of itself: a wrong pixel or fraction near boundaries from some 50 pixels on, where PyTorch's f32 is
# exact to the f16 grid's bits.
_UNIT = 1 << 25
_HALF_UNIT = 1 << 24


def _exact_units(coord):
    """coord * 2^24 as an int64 tensor, exactly, for a finite f16 coord: of its magnitude, the integer part, the next
    11 bits and the rest, each an exact f16 integer (the fraction of a magnitude, scaled by powers of two, is exact;
    that of a negative number above its floor need not be)."""
    size = coord.abs()
    whole = size.floor()
    upper = (size - whole) * 2048.0
    top = upper.floor()
    units = whole.long() * _HALF_UNIT + top.long() * 8192 + ((upper - top) * 8192.0).long()
    return where(coord < 0, -units, units)


def _reach(scale):
    """An f16 bound on the grid coordinate beyond which the pixel lies more than 3 pixels outside the input (1 + 4 /
    scale, rounded up): all taps read zeros there, or all the edge pixel, so the sample is the bound's."""
    bound = 1.0 + 4.0 / scale
    reach = np.float16(bound)
    return float(reach if reach >= bound else np.nextafter(reach, np.float16(np.inf)))


def _pixel_units(coord, size, padding_mode, align_corners):
    """(pixel, c, finite): the pixel coordinate of the grid coordinate `coord` in units of 2^-25 pixel (int64,
    computed from c: coord where finite, else 0; moved by whole periods of the reflection, or clamped to _reach for
    the other padding modes), c (which carries the gradient) and where coord is finite."""
    finite = isfinite(coord)
    c = where(finite, coord, 0.0)
    scale = _scale(size, align_corners)
    if padding_mode == "reflection":  # the reflection's period is 4 in grid units: 2 (size - 1) or 2 size pixels
        c = c - 4.0 * (c.detach() / 4.0).round()  # (exact in f16: the result's bits are c's)
    elif scale > 0:
        reach = _reach(scale)
        c = c.clamp(-reach, reach)
    spread = size - 1 if align_corners else size
    return _exact_units(c.detach()) * spread + _HALF_UNIT * (size - 1), c, finite


def _fold(q, low, span):
    """Integer coordinates q folded into [low, low + span] by reflection at both ends (PyTorch's
    reflect_coordinates, exactly), and the slope of the fold there (+-1)."""
    if span == 0:
        return q * 0, q * 0
    distance = (q - low).abs()
    flips = distance // span
    extra = distance - flips * span
    even = flips % 2 == 0
    return where(even, extra + low, span - extra + low), where(q >= low, 1, -1) * where(even, 1, -1)


def _fraction(rest, c, finite, gradient_scale, undefined_outside):
    """The f16 fraction rest * 2^-25 (rest in [0, 2^25), rounded once), NaN where the coordinate is not finite and
    `undefined_outside`, with the gradient gradient_scale (a number or tensor) in the grid coordinate c."""
    top = rest // 16384
    below = (rest - top * 16384).half() * 2.0 ** -13 * 2.0 ** -12
    frac = affine(top.half(), 2.0 ** -11, below)
    if undefined_outside:
        frac = where(finite, frac, float("nan"))
    if c.requires_grad:  # the fraction is linear in c: its value, with c's gradient times the slope
        frac = frac + (c - c.detach()) * gradient_scale
    return frac


def _scale(size, align_corners):
    """Pixels per grid unit."""
    return (size - 1) / 2.0 if align_corners else size / 2.0


def _neighbours(coord, size, mode, padding_mode, align_corners):
    """[(position, weight, inside)] of the pixels that a grid coordinate reads along one dim (bilinear: 2, nearest:
    1). The padding mode maps the pixel coordinate (border clips into the input, reflection folds then clips, as
    PyTorch's; a non-finite coordinate becomes pixel 0, or the last for +inf at the border, as PyTorch's CPU
    kernel makes it); the grid's gradient flows through the fraction, times the map's slope."""
    units, c, finite = _pixel_units(coord, size, padding_mode, align_corners)
    slope = 1
    if padding_mode == "reflection":
        units, slope = _fold(units, 0 if align_corners else -_HALF_UNIT, (size - 1 if align_corners else size) * _UNIT)
    if padding_mode != "zeros":
        top = (size - 1) * _UNIT
        slope = where((units > 0) & (units < top), slope, 0)
        edge = where(coord == float("inf"), top, 0) if padding_mode == "border" else 0
        units = where(finite, units.clamp(0, top), edge)
    low = units // _UNIT
    rest = units - low * _UNIT
    if mode == "nearest":  # half to even, as PyTorch's nearbyint
        near = low + (rest > _HALF_UNIT).long() + (rest == _HALF_UNIT).long() * (low % 2)
        inside = (near >= 0) & (near <= size - 1)
        return [(near, None, inside & finite if padding_mode == "zeros" else inside)]
    frac = _fraction(rest, c, finite, slope * _scale(size, align_corners), padding_mode == "zeros")
    return [(low, 1.0 - frac, (low >= 0) & (low <= size - 1)),
            (low + 1, frac, (low >= -1) & (low <= size - 2))]


def _cubic_weights(t):
    """The cubic-convolution weights of the pixels floor - 1 .. floor + 2 at the fraction t (PyTorch's, A = -0.75),
    factored so that none is a difference of nearly equal terms in f16 (the middle two vanish at t = 1 and 0)."""
    u = 1.0 - t
    return [_CUBIC_A * t * u * u, u * (1.0 + t - (_CUBIC_A + 2) * t * t), t * (1.0 + u - (_CUBIC_A + 2) * u * u),
            _CUBIC_A * t * t * u]


def _cubic_neighbours(coord, size, padding_mode, align_corners):
    """[(position, weight, inside)] of the 4 pixels a grid coordinate reads along one dim for bicubic sampling. As in
    PyTorch, the coordinate itself is not padded: each of the 4 integer positions is (clipped or reflected into the
    input, or outside and read as 0), so the weights are those of the unpadded fraction (NaN for a non-finite
    coordinate, as PyTorch's); the grid's gradient flows through it."""
    units, c, finite = _pixel_units(coord, size, padding_mode, align_corners)
    low = units // _UNIT
    frac = _fraction(units - low * _UNIT, c, finite, _scale(size, align_corners), True)
    taps = []
    for k, weight in zip((-1, 0, 1, 2), _cubic_weights(frac)):
        position = low + k
        if padding_mode == "reflection":  # in half pixels, where the non-aligned fold's ends (-1/2) are integers
            position = _fold(2 * position, 0 if align_corners else -1, 2 * (size - 1) if align_corners else 2 * size)[0]
            position = position // 2
        if padding_mode != "zeros":
            position = position.clamp(0, size - 1)
        taps.append((position, weight, (position >= 0) & (position <= size - 1)))
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
    if not grid.is_floating_point():
        raise TypeError(f"grid_sample(): grid must be a floating-point tensor, got {grid.dtype}")
    n, c = input.shape[:2]
    sizes = list(input.shape[2:])  # [D,] H, W
    if 0 in sizes:
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                           f"{list(input.shape)} with dimension {sizes.index(0) + 2} being empty")
    out_shape = list(grid.shape[1:-1])
    points = grid.reshape(n, 1, int(np.prod(out_shape)), spatial)
    per_dim = []  # slowest spatial dim first; the grid's coordinates are in the reverse order (x is W)
    for d, size in enumerate(sizes):
        coord = points[..., spatial - 1 - d]
        per_dim.append(_cubic_neighbours(coord, size, padding_mode, bool(align_corners)) if mode == "bicubic" else
                       _neighbours(coord, size, mode, padding_mode, bool(align_corners)))
    strides = [int(np.prod(sizes[d + 1:])) for d in range(spatial)]
    flat = input.reshape(n, c, int(np.prod(sizes)))
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
