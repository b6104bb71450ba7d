"""tl.nn.modules, where torch.nn.modules is: its `module` submodule holds the global module hooks (the layers
themselves are in tl.nn)."""
from . import module  # noqa: F401
