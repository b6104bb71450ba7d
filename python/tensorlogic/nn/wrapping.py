"""Module classes defined by a table's row: subclass (a base with class attributes, as Conv1d..Conv3d), and
modules that only wrap a functional (torch.nn's activations, PixelShuffle, Unfold and their kin): one constructor
that binds the settings the row gives, one forward, one repr, and a maker that defines such a class in a line."""
import inspect

from .argument_checks import check_arguments
from .module import Module

REQUIRED = inspect.Parameter.empty


class Wrapping(Module):
    """forward is _fn(input, *the settings); the constructor takes the settings (_settings: name -> default, in
    PyTorch's order; REQUIRED where there is none) positionally or by name, and the repr prints them as name=value
    (inplace only when set), as PyTorch prints them."""

    _fn = None
    _settings = {}

    def __init__(self, *args, **kwargs):
        super().__init__()
        params = [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
                  for k, d in self._settings.items()]
        bound = inspect.Signature(params).bind(*args, **kwargs)
        check_arguments(type(self).__name__, bound.arguments)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)

    def forward(self, input):
        """The wrapped functional of input with the module's settings."""
        return type(self)._fn(input, *(getattr(self, a) for a in self._settings))

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return ", ".join(f"{a}={getattr(self, a)}" for a in self._settings if a != "inplace" or self.inplace)


def subclass(name, base, doc, module, **attrs):
    """The class `name` of `module` (docstring doc): base with the class attributes attrs."""
    return type(name, (base,), {"__doc__": doc, "__module__": module, "__qualname__": name, **attrs})


def wrapping(name, fn, doc, module, base=Wrapping, **settings):
    """The class `name` of `module` (docstring doc) whose forward is fn with the settings (name=default, in
    order; the base's when none are given)."""
    return subclass(name, base, doc, module, _fn=staticmethod(fn), _settings=settings or base._settings)
