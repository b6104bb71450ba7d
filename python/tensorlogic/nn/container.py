"""Containers: Sequential, ModuleList, ModuleDict."""
from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """Modules applied in order, each to the previous one's output, as torch.nn.Sequential. Built from modules as
    arguments (named '0', '1', ...) or from one (ordered) dict of name -> module; indexing gives a module, slicing a
    Sequential."""
    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, x):
        """Passes x through each module in order and returns the last output."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        items = list(self._modules.values())
        if not -len(items) <= idx < len(items):
            raise IndexError(f"index {idx} is out of range for a Sequential of {len(items)} modules")
        return items[idx]

    def append(self, module):
        """Adds a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of registered child modules (their parameters belong to the parent), as torch.nn.ModuleList; indexing,
    slicing, len and iteration work as on a list."""
    def __init__(self, modules=None):
        super().__init__()
        for module in modules or ():
            self.append(module)

    def append(self, module):
        """Adds a module at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        """Adds each module of an iterable at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(items[idx])
        if not -len(items) <= idx < len(items):
            raise IndexError(f"index {idx} is out of range for a ModuleList of {len(items)} modules")
        return items[idx]


class ModuleDict(Module):
    """A dict of registered child modules, in insertion order, as torch.nn.ModuleDict."""
    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            self.add_module(name, module)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        """The names of the modules, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()
