"""torch.nn.modules.batchnorm's path to the batch norms and their bases _NormBase and _BatchNorm (isinstance checks
for batch norms), which are defined in tl.nn's own files."""
from ..normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase  # noqa: F401
from ..lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d  # noqa: F401
from ..sync_batchnorm import SyncBatchNorm  # noqa: F401
