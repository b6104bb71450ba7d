"""torch.nn.modules.pooling's path to the poolings and their bases (_MaxPoolNd, _AvgPoolNd, _AdaptiveAvgPoolNd,
_AdaptiveMaxPoolNd, _MaxUnpoolNd, _LPPoolNd), which are defined in tl.nn's own files."""
from ..pool_more import (  # noqa: F401
    LPPool1d, LPPool2d, LPPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, _LPPoolNd, _MaxUnpoolNd)
from ..pooling import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
    AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d, _AdaptiveAvgPoolNd,
    _AdaptiveMaxPoolNd, _AvgPoolNd, _MaxPoolNd)
from ..fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d  # noqa: F401
