"""torch.nn.modules.container's path to the containers, which are defined in tl.nn's own files."""
from ..container import ModuleDict, ModuleList, Sequential  # noqa: F401
from ..parameter_containers import ParameterDict, ParameterList  # noqa: F401
