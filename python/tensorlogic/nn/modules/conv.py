"""torch.nn.modules.conv's path to the convolutions and their bases _ConvNd and _ConvTransposeNd (a _ConvNd too),
which are defined in tl.nn's own files."""
from ..conv import Conv1d, Conv2d, Conv3d, _ConvNd  # noqa: F401
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, _ConvTransposeNd  # noqa: F401
