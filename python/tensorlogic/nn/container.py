"""Containers: Sequential, ModuleList, ModuleDict."""
import operator
from collections import OrderedDict

from .module import Module


class _Positional:
    """Length, iteration over values, indexing by position and extend (through the subclass's append) of a
    container kept in one of Module's ordered dicts (`_entries()`: its modules or its parameters)."""

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries().values())

    def _key(self, idx):
        """The name under which position idx (negative: from the end) is kept."""
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a {type(self).__name__} of length {n}")
        return list(self._entries())[idx]

    def extend(self, items):
        """Appends each of items in order; returns self."""
        for item in items:
            self.append(item)
        return self

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._slice(idx)
        return self._entries()[self._key(idx)]

    def _slice(self, idx):
        """A container of the same class holding the sliced entries (renumbered)."""
        return type(self)(list(self._entries().values())[idx])


class _ModuleSequence(_Positional):
    """What Sequential and ModuleList add to reading by position, as PyTorch's: seq[i] = module (keeping its place
    and name), del seq[i] or seq[a:b], insert, pop (the names renumbered "0", "1", ... after each), and + and +=
    with other modules."""

    def __setitem__(self, idx, module):
        self.add_module(self._key(operator.index(idx)), module)

    def __delitem__(self, idx):
        doomed = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(operator.index(idx))]
        for name in doomed:
            del self._modules[name]
        self._renumber(list(self._modules.values()))

    def insert(self, index, module):
        """Puts module before position index (list.insert's rule: negative from the end, clamped to the ends)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: {type(module).__name__} is not a Module")
        modules = list(self._modules.values())
        modules.insert(operator.index(index), module)
        self._renumber(modules)

    def pop(self, key):
        """Removes and returns the module at position key (a slice: a container of those modules)."""
        value = self[key]
        del self[key]
        return value

    def _renumber(self, modules):
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __add__(self, other):
        return self._of(list(self) + list(other))

    def __iadd__(self, other):
        return self.extend(other)


class _Named:
    """The read side of a container kept by name in one of Module's ordered dicts (`_entries()`)."""

    def __getitem__(self, key):
        return self._entries()[key]

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries())

    def __contains__(self, key):
        return key in self._entries()

    def keys(self):
        """The names, in insertion order."""
        return self._entries().keys()

    def items(self):
        """The (name, entry) pairs, in insertion order."""
        return self._entries().items()

    def values(self):
        """The entries, in insertion order."""
        return self._entries().values()


class Sequential(_ModuleSequence, Module):
    """Modules applied one after the other, as torch.nn.Sequential: given as arguments (named "0", "1", ...)
    or as one dict or OrderedDict of name -> module. Supports len, iteration, indexing by position
    (negative from the end), slicing (a Sequential keeping the names), append, extend, insert, pop, item
    assignment and deletion, and +."""
    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, x):
        """x passed through each module in order; the last module's output."""
        for module in self._modules.values():
            x = module(x)
        return x

    def _entries(self):
        return self._modules

    def _slice(self, idx):  # keeps the modules' names, as PyTorch's Sequential does
        return Sequential(OrderedDict(list(self._modules.items())[idx]))

    @staticmethod
    def _of(modules):
        return Sequential(*modules)

    def append(self, module):
        """Adds module at the end, named by its position; returns self."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(_ModuleSequence, Module):
    """Modules held by position and registered as submodules "0", "1", ... (so parameters() and
    state_dict() see them), as torch.nn.ModuleList. It has no forward. Supports len, iteration, indexing by
    position, slicing (a ModuleList, renumbered), append, extend, insert, pop, item assignment and deletion, + and
    +=."""
    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or ())

    @staticmethod
    def _of(modules):
        return ModuleList(modules)

    def append(self, module):
        """Adds module at the end, named by its position; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def _entries(self):
        return self._modules


class ModuleDict(_Named, Module):
    """Modules held by name and registered as submodules under their keys, as torch.nn.ModuleDict (built
    from a dict, in its order). Supports d[key], d[key] = module, del d[key], pop, `in`, len, iteration over the
    keys, keys(), items() and values(), update and clear; it may be built from (key, module) pairs too."""
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _entries(self):
        return self._modules

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def pop(self, key):
        """Removes the module under key and returns it."""
        module = self[key]
        del self[key]
        return module

    def update(self, modules):
        """Adds or replaces the modules of a mapping, or of an iterable of (key, module) pairs, in their order."""
        items = modules.items() if hasattr(modules, "keys") else modules
        for key, module in items:
            self[key] = module

    def clear(self):
        """Removes every module."""
        self._modules.clear()
