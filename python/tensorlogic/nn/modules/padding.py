"""torch.nn.modules.padding's path to the padding modules, which are defined in tl.nn's own files."""
from ..padding import *  # noqa: F401,F403
