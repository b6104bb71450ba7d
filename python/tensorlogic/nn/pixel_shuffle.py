"""pixel_shuffle, pixel_unshuffle and channel_shuffle (torch, torch.nn.functional) and their modules PixelShuffle,
PixelUnshuffle and ChannelShuffle: reshapes and one permute (a copy), so their gradient is the inverse
rearrangement."""
import numbers

from ..errors import ShapeMismatchError
from .wrapping import REQUIRED, wrapping


def _factor(value, name, op):
    if not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """[*, C r^2, H, W] -> [*, C, H r, W r]: each group of r^2 channels becomes an r x r block of pixels."""
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ShapeMismatchError(f"pixel_shuffle: expected at least 3 dims with channels divisible by {r * r}, got "
                                 f"{list(input.shape)}")
    *batch, c, h, w = input.shape
    x = input.reshape(tuple(batch) + (c // (r * r), r, r, h, w))
    n = len(batch)
    x = x.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return x.reshape(tuple(batch) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """[*, C, H r, W r] -> [*, C r^2, H, W]: the inverse of pixel_shuffle."""
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ShapeMismatchError(f"pixel_unshuffle: expected at least 3 dims with height and width divisible by {r}, "
                                 f"got {list(input.shape)}")
    *batch, c, h, w = input.shape
    x = input.reshape(tuple(batch) + (c, h // r, r, w // r, r))
    n = len(batch)
    x = x.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return x.reshape(tuple(batch) + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """[N, C, ...] with its channels regrouped: C = groups * k channels read as [groups, k], transposed to [k, groups]."""
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise ValueError(f"channel_shuffle: groups must be a positive int, got {groups!r}")
    if input.ndim < 3 or input.shape[1] % groups:
        raise ShapeMismatchError(f"channel_shuffle: expected [N, C, ...] with C divisible by {groups}, got "
                                 f"{list(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    rest = tuple(input.shape[2:])
    return input.reshape((n, groups, c // groups) + rest).transpose(1, 2).reshape(tuple(input.shape))


PixelShuffle = wrapping("PixelShuffle", pixel_shuffle, "pixel_shuffle as a module, as torch.nn.PixelShuffle.",
                        __name__, upscale_factor=REQUIRED)
PixelUnshuffle = wrapping("PixelUnshuffle", pixel_unshuffle, "pixel_unshuffle as a module, as torch.nn.PixelUnshuffle.",
                          __name__, downscale_factor=REQUIRED)
ChannelShuffle = wrapping("ChannelShuffle", channel_shuffle, "channel_shuffle as a module, as torch.nn.ChannelShuffle.",
                          __name__, groups=REQUIRED)


__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle"]
