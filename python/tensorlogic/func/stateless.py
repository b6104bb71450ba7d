"""torch.func's functional_call and stack_module_state: a module called with other parameters and buffers (MAML's
fast weights, model ensembles), without copying either."""
import contextlib

from ..nn.module import Module
from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()


def _merged(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return parameter_and_buffer_dicts
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        seen, repeated = set(), []
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        return {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                     f"{type(parameter_and_buffer_dicts)}")


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
def _reparametrized(module, values, tie_weights, strict):
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
        for name, old in reversed(originals):  # restored even where the call (or a swap) raised
            _swap(module, name, old)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced by the given tensors (a dict of dotted names,
    or a list/tuple of dicts with distinct keys), as torch.func.functional_call. The tensors are put in place as they
    are (no copy; gradients flow to them, so MAML's fast weights p - lr * g work) and the module's own are restored
    afterwards, also when the call raises. A name tied to another (one tensor under two names) takes the value of
    either unless tie_weights=False; strict=True raises where the names are not exactly the module's. args that is
    not a tuple is the one positional argument."""
    values = _merged(parameter_and_buffer_dicts)
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrized(module, values, tie_weights, strict):
        return module(*args, **kwargs)


def stack_module_state(models):
    """(params, buffers): each parameter and buffer of the models (all of one class and one train/eval mode) stacked
    along a new first dimension, as torch.func.stack_module_state, for vmap over functional_call (an ensemble).
    Stacked parameters are new leaves requiring grad."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        tables = [dict(named(m)) for m in models]
        result = {}
        for name in tables[0]:
            tensors = [t[name] for t in tables]
            flags = {t.requires_grad for t in tensors}
            if len(flags) > 1:
                raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
            s = stack([t.detach() for t in tensors])
            s.requires_grad = flags.pop()
            result[name] = s
        return result

    return stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers())
