"""torch.nn.modules.channelshuffle's path to ChannelShuffle, which are defined in tl.nn's own files."""
from ..pixel_shuffle import ChannelShuffle  # noqa: F401
