"""torch.nn.modules.pixelshuffle's path to PixelShuffle and PixelUnshuffle, which are defined in tl.nn's own files."""
from ..pixel_shuffle import PixelShuffle, PixelUnshuffle  # noqa: F401
