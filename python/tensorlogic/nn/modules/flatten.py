"""torch.nn.modules.flatten's path to Flatten and Unflatten, which are defined in tl.nn's own files."""
from ..flatten import Flatten, Unflatten  # noqa: F401
