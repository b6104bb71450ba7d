"""Optimizer step hooks, as torch.optim's register_step_pre_hook / register_step_post_hook: each optimizer class's
own step runs between the optimizer's pre-hooks, hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs),
and its post-hooks, hook(optimizer, args, kwargs). As in PyTorch, `args` starts with the optimizer itself."""
import functools

PRE, POST = "_step_pre_hooks", "_step_post_hooks"
_RUNNING = "_step_hooks_ran"  # set while a hooked step runs: a subclass's step calling its base's runs them once


def hooks_of(optimizer, kind):
    """The optimizer's list of hooks of one kind (made on first use: optimizers unpickled before hooks existed)."""
    return optimizer.__dict__.setdefault(kind, [])


def hooked_step(step):
    """step wrapped so that each call runs the optimizer's step hooks around it."""
    @functools.wraps(step)
    def run(self, *args, **kwargs):
        pre, post = self.__dict__.get(PRE), self.__dict__.get(POST)
        if not (pre or post) or self.__dict__.get(_RUNNING):
            return step(self, *args, **kwargs)
        args = (self, *args)
        for hook in list(pre or ()):  # a copy: hooks may remove themselves
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
        for hook in list(post or ()):
            hook(self, args, kwargs)
        return out

    return run
