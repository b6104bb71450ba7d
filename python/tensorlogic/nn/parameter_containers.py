"""ParameterList and ParameterDict: parameters held by position or by name, registered so they appear in
parameters() and state_dict() under "0", "1", ... or their keys, as in PyTorch. Plain tensors put in are
made Parameters."""
from ..tensor import Tensor
from .container import _Named, _Positional
from .module import Module
from .parameter import Parameter


def _as_parameter(value):
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


class ParameterList(_Positional, Module):
    """Parameters held by position and registered as "0", "1", ..., as torch.nn.ParameterList (tensors put in
    become Parameters). Supports len, iteration, indexing and assignment by position, slicing (a
    ParameterList, renumbered), append and extend."""
    def __init__(self, values=None):
        super().__init__()
        self.extend(values or ())

    def _entries(self):
        return self._parameters

    def __setitem__(self, idx, value):
        self.register_parameter(self._key(idx), _as_parameter(value))

    def append(self, value):
        """Registers value (a tensor becomes a Parameter) at the end, named by its position; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extra_repr(self):
        """One line per parameter, its position, dtype and size, shown in the module's repr."""
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for i, p in enumerate(self))


class ParameterDict(_Named, Module):
    """Parameters held by name and registered under their keys, as torch.nn.ParameterDict (tensors put in
    become Parameters; built from a mapping or (key, value) pairs). Supports d[key], d[key] = value,
    del d[key], `in`, len, iteration over the keys, keys(), items(), values(), get, pop and update."""
    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _entries(self):
        return self._parameters

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def get(self, key, default=None):
        """The parameter named key, or default when there is none."""
        return self._parameters.get(key, default)

    def pop(self, key):
        """Removes the parameter named key and returns it (KeyError when there is none)."""
        return self._parameters.pop(key)

    def update(self, parameters):
        """Sets each (key, value) of a mapping or of an iterable of pairs, as d[key] = value."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def extra_repr(self):
        """One line per parameter, its key, dtype and size, shown in the module's repr."""
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self.items())


__all__ = ["ParameterList", "ParameterDict"]
