"""torch.nn.utils.skip_init: a module built without running its initializers."""
import inspect

from ..init import _skipped
from ..module import Module


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) with every tl.nn.init initializer skipped: parameters that the constructor
    would have drawn are left uninitialised (as tl.empty leaves memory) and nothing is drawn from the random
    stream, as PyTorch's (which builds on the meta device, then allocates). module_cls must take a `device`
    argument, as PyTorch requires."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls!r}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with _skipped():
        return module_cls(*args, **kwargs)
