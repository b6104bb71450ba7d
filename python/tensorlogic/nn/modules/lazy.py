"""torch.nn.modules.lazy's path to LazyModuleMixin, the mechanism of tl.nn's lazy modules (defined in nn/lazy.py)."""
from ..lazy import LazyModuleMixin  # noqa: F401
