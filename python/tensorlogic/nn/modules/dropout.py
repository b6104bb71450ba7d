"""torch.nn.modules.dropout's path to the dropouts and their base _DropoutNd, which are defined in tl.nn's own files."""
from ..dropout import (  # noqa: F401
    AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout, _DropoutNd)
