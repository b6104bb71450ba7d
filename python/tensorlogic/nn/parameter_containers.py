"""ParameterList and ParameterDict: parameters held by position or by name, registered so they appear in
parameters() and state_dict() under "0", "1", ... or their keys, as in PyTorch. Plain tensors put in are
made Parameters."""
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _as_parameter(value):
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


class ParameterList(Module):
    """Parameters held by position and registered as '0', '1', ... (so they appear in parameters() and
    state_dict()), as torch.nn.ParameterList. Plain tensors put in are made Parameters."""
    def __init__(self, values=None):
        super().__init__()
        for value in values or ():
            self.append(value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def _key(self, idx):
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a ParameterList of {n}")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[self._key(idx)]

    def __setitem__(self, idx, value):
        self.register_parameter(self._key(idx), _as_parameter(value))

    def append(self, value):
        """Adds a parameter (a tensor is made a Parameter) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        """Appends each value of an iterable; returns self."""
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        """One line per parameter: its index, dtype and size."""
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for i, p in enumerate(self))


class ParameterDict(Module):
    """Parameters held by name and registered under their keys, as torch.nn.ParameterDict. Plain tensors put in are
    made Parameters."""
    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        """The names, in insertion order."""
        return self._parameters.keys()

    def items(self):
        """(name, parameter) pairs, in insertion order."""
        return self._parameters.items()

    def values(self):
        """The parameters, in insertion order."""
        return self._parameters.values()

    def get(self, key, default=None):
        """The parameter named `key`, or `default`."""
        return self._parameters.get(key, default)

    def pop(self, key):
        """Removes the parameter named `key` and returns it (KeyError if absent)."""
        return self._parameters.pop(key)

    def update(self, parameters):
        """Sets each (key, value) of a mapping or of an iterable of pairs."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def extra_repr(self):
        """One line per parameter: its key, dtype and size."""
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self.items())


__all__ = ["ParameterList", "ParameterDict"]
