"""torch.nn.modules.linear's path to Identity, Linear, Bilinear and LazyLinear, which are defined in tl.nn's own
files."""
from ..bilinear import Bilinear  # noqa: F401
from ..layers import Identity, Linear  # noqa: F401
from ..lazy import LazyLinear  # noqa: F401
