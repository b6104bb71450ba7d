"""nn.Module.compile, as torch's: compiles the module's call (hooks and forward) in place with tl.compile, so that
calling the module replays the captured program; the module stays itself (its state_dict keys, type and identity do
not change, unlike tl.compile's wrapper). It lives here because tl.compile sits a layer above nn."""
import functools

from .compiler import compile as compile_callable
from .nn.module import Module


def _compile_module(self, *args, **kwargs):
    """Compiles this module's calls in place with tl.compile(..., **kwargs) (fullgraph, dynamic, backend, mode,
    options, disable); returns None, as torch's. Calling compile() again replaces the compiled call."""
    # The module is the compiled function's first argument, so it joins each capture's signature as the `self` of a
    # compiled forward does (submodules, modes, parameter identities).
    compiled = compile_callable(type(self)._call_impl, *args, **kwargs)
    object.__setattr__(self, "_compiled_call_impl", functools.partial(compiled, self))


Module.compile = _compile_module
