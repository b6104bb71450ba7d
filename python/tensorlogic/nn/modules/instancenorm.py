"""torch.nn.modules.instancenorm's path to the instance norms and their base _InstanceNorm (a _NormBase, not a
_BatchNorm), which are defined in tl.nn's own files."""
from ..instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm  # noqa: F401
from ..lazy import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d  # noqa: F401
