"""Optimizer step hooks, as torch.optim's register_step_pre_hook / register_step_post_hook: each optimizer class's
own step runs between the optimizer's pre-hooks, hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs),
and its post-hooks, hook(optimizer, args, kwargs). As in PyTorch, `args` starts with the optimizer itself. The
global hooks of torch.optim.optimizer.register_optimizer_step_pre_hook / _post_hook run for every optimizer: global
pre-hooks before the optimizer's own, global post-hooks after its own, as PyTorch orders them."""
import functools

from ..autograd.tensor_methods import RemovableHandle

PRE, POST = "_step_pre_hooks", "_step_post_hooks"
_RUNNING = "_step_hooks_ran"  # set while a hooked step runs: a subclass's step calling its base's runs them once
_global_pre_hooks, _global_post_hooks = [], []


def hooks_of(optimizer, kind):
    """The optimizer's list of hooks of one kind (made on first use: optimizers unpickled before hooks existed)."""
    return optimizer.__dict__.setdefault(kind, [])


def hooked_step(step):
    """step wrapped so that each call runs the optimizer's step hooks around it."""
    @functools.wraps(step)
    def run(self, *args, **kwargs):
        own_pre, own_post = self.__dict__.get(PRE), self.__dict__.get(POST)
        if not (own_pre or own_post or _global_pre_hooks or _global_post_hooks) or self.__dict__.get(_RUNNING):
            return step(self, *args, **kwargs)
        pre = [*_global_pre_hooks, *(own_pre or ())]  # copies: hooks may remove themselves
        post = [*(own_post or ()), *_global_post_hooks]
        args = (self, *args)
        for hook in pre:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{type(self).__name__}.step's pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result!r}.")
                args, kwargs = result
        self.__dict__[_RUNNING] = True
        try:
            out = step(*args, **kwargs)
        finally:
            del self.__dict__[_RUNNING]
        for hook in post:
            hook(self, args, kwargs)
        return out

    return run


def _add_global(hooks, hook, name):
    if not callable(hook):
        raise TypeError(f"{name}: hook must be callable, got {type(hook).__name__}")
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def register_optimizer_step_pre_hook(hook):
    """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs) runs before every optimizer's step, ahead of
    the optimizer's own pre-hooks. Returns a handle whose remove() unregisters it."""
    return _add_global(_global_pre_hooks, hook, "register_optimizer_step_pre_hook")


def register_optimizer_step_post_hook(hook):
    """hook(optimizer, args, kwargs) runs after every optimizer's step, after the optimizer's own post-hooks. Returns
    a handle whose remove() unregisters it."""
    return _add_global(_global_post_hooks, hook, "register_optimizer_step_post_hook")
