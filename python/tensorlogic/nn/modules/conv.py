"""torch.nn.modules.conv's path to the convolutions and their bases _ConvNd and _ConvTransposeNd (a _ConvNd too),
which are defined in tl.nn's own files."""
from ..conv import Conv1d, Conv2d, Conv3d, _ConvNd  # noqa: F401
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, _ConvTransposeNd  # noqa: F401
from ..lazy import (LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,  # noqa: F401
                    LazyConvTranspose3d)
