"""torch.nn.modules.upsampling's path to Upsample, UpsamplingNearest2d and UpsamplingBilinear2d, which are defined in
tl.nn's own files."""
from ..upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401
