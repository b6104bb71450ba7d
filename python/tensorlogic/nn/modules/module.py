"""torch.nn.modules.module's global hooks: hooks that every module runs, before its own hooks of the same kind.
PyTorch means them for debugging and profiling. Each function returns a handle whose remove() unregisters the hook."""
from ..module import Module  # noqa: F401  (torch.nn.modules.module.Module)
from ..module_hooks import BACKWARD, BACKWARD_PRE, FORWARD, FORWARD_PRE, _Hook, add_hook, global_hooks

__all__ = ["register_module_forward_pre_hook", "register_module_forward_hook", "register_module_full_backward_pre_hook",
           "register_module_full_backward_hook", "register_module_backward_hook"]


def register_module_forward_pre_hook(hook):
    """hook(module, args) runs before the forward of every module, before the module's own pre-hooks; a non-None
    result replaces args (a non-tuple becomes a one-tuple)."""
    return add_hook(global_hooks, _Hook(hook, kind=FORWARD_PRE))


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) (with with_kwargs, hook(module, args, kwargs, output)) runs after the forward of
    every module, before the module's own hooks; a non-None result replaces the output. With always_call it also
    runs, with output None, when forward raises."""
    return add_hook(global_hooks, _Hook(hook, bool(with_kwargs), bool(always_call), kind=FORWARD))


def register_module_full_backward_pre_hook(hook):
    """A backward pre-hook of every module (as Module.register_full_backward_pre_hook), run before the module's
    own."""
    return add_hook(global_hooks, _Hook(hook, kind=BACKWARD_PRE))


def register_module_full_backward_hook(hook):
    """A full backward hook of every module (as Module.register_full_backward_hook), run before the module's own."""
    return add_hook(global_hooks, _Hook(hook, kind=BACKWARD))


def register_module_backward_hook(hook):
    """PyTorch's deprecated non-full global backward hook (whose gradients are those of the last op inside each
    module) is not provided: raises NotImplementedError; register_module_full_backward_hook is the supported
    form."""
    raise NotImplementedError("register_module_backward_hook (the deprecated non-full form) is not supported; use "
                              "register_module_full_backward_hook")
