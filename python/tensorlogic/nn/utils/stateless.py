"""torch.nn.utils.stateless: a module called with other parameters and buffers in place of its own (the tensors
themselves, no copy: gradients flow to them), restored afterwards. torch.func.functional_call (tensorlogic.func)
is built on this; this module's own functional_call is PyTorch's deprecated spelling of it."""
import contextlib
import warnings

from ..module import Module
from ...tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


def _all_names(module):
    """{dotted name: tensor} of every parameter and buffer, each shared one under all its names (a module reached by
    two paths gives its tensors under both)."""
    names = {}

    def visit(m, prefix, path):
        for table in (m._parameters, m._buffers):
            for name, t in table.items():
                if t is not None:
                    names[prefix + name] = t
        for name, child in m._modules.items():
            if child is not None and id(child) not in path:
                visit(child, prefix + name + ".", path | {id(child)})

    visit(module, "", {id(module)})
    return names


def _untied(module, values):
    """values with every name tied to a given one (the same tensor in the module) given the same value."""
    groups = {}
    for name, t in _all_names(module).items():
        groups.setdefault(id(t), []).append(name)
    tied = {name: group for group in groups.values() if len(group) > 1 for name in group}
    result = dict(values)
    for name in values:
        group = tied.get(name)
        if group is None:
            continue
        given = [n for n in group if n in values]
        if len({id(values[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, which are tied. Consider "
                             "using tie_weights=False")
        for n in group:
            result[n] = values[name]
    return result


def _owner(module, name):
    """(the submodule holding `name`, the attribute's own name)."""
    *path, attr = name.split(".")
    m = module
    for part in path:
        child = m._modules.get(part) if isinstance(m, Module) else None
        if child is None:
            raise AttributeError(f"{type(m).__name__} has no attribute `{part}`")
        m = child
    return m, attr


def _swap(module, name, value):
    """Puts value in place of module's parameter, buffer or attribute `name` (the entry itself: no copy, no
    Parameter wrapping) and returns what was there (_MISSING where nothing was: restoring removes it)."""
    m, attr = _owner(module, name)
    for table in (m._parameters, m._buffers):
        if attr in table:
            old = table[attr]
            if value is _MISSING:
                del table[attr]
            else:
                table[attr] = value
            return old
    old = m.__dict__.get(attr, _MISSING)
    if value is _MISSING:
        m.__dict__.pop(attr, None)
    else:
        m.__dict__[attr] = value
    return old


@contextlib.contextmanager
def _reparametrized(module, given, tie_weights, strict):
    values = given
    if tie_weights:
        values = _untied(module, values)
    if strict:
        known = set(_all_names(module))
        unexpected = [k for k in values if k not in known]
        missing = [k for k in known if k not in values]
        problems = []
        if unexpected:
            problems.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            problems.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if problems:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(problems))
    for name, value in values.items():
        if not (isinstance(value, Tensor) or value is None):
            raise TypeError(f"functional_call: the value for {name!r} is a {type(value).__name__}, not a Tensor")
    originals = []
    try:
        for name, value in values.items():
            originals.append((name, _swap(module, name, value)))
        yield
    finally:
        # restored even where the call (or a swap) raised; what the module put in place of a given tensor (a buffer
        # it reassigned, `self.count = self.count + 1`) is handed back in the caller's dict, as PyTorch does
        current = {name: _swap(module, name, old) for name, old in reversed(originals)}
        given.update((k, v) for k, v in current.items() if k in given and v is not _MISSING)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the tensors of the dict `parameters_and_buffers` (dotted names) in place of its
    own: torch.func.functional_call's and this module's functional_call's common part (see the former)."""
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrized(module, parameters_and_buffers, tie_weights, strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """torch.nn.utils.stateless.functional_call, deprecated in PyTorch 2.0 for torch.func.functional_call (it warns
    as PyTorch's does): module(*args, **kwargs) with the tensors of the dict `parameters_and_buffers` in place of its
    parameters and buffers; see tl.func.functional_call."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in a "
                  "future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
                  "replacement.", FutureWarning, stacklevel=2)
    if not isinstance(parameters_and_buffers, dict):
        raise TypeError(f"functional_call: parameters_and_buffers must be a dict of tensors, got "
                        f"{type(parameters_and_buffers).__name__}")
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
