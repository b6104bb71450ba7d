"""torch.nn.modules.fold's path to Fold and Unfold, which are defined in tl.nn's own files."""
from ..conv import Fold, Unfold  # noqa: F401
