"""torch.nn.modules.normalization's path to LayerNorm, GroupNorm, RMSNorm and LocalResponseNorm, which are defined in
tl.nn's own files."""
from ..layers import LayerNorm, RMSNorm  # noqa: F401
from ..local_response_norm import LocalResponseNorm  # noqa: F401
from ..normalization import GroupNorm  # noqa: F401
