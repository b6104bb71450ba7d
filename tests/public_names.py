"""The public names of `tensorlogic`: what the API reference (docs/api.md) must document.

The public surface is the namespaces a user imports (PUBLIC_MODULES). In each, the public names are
its `__all__` when it has one; else, for `tensorlogic` itself, every attribute not starting with `_`,
and for the other modules the attributes defined in that module (so `math` or a function imported
from elsewhere is not counted twice). Submodules are listed here, not found by walking: the
implementation modules (tensorlogic.ops.elementwise, tensorlogic.lang.syntax, ...) are not an API, their
public functions are, through the namespaces that re-export them.
Under each public class defined in tensorlogic: its public methods and properties (its own `__dict__`,
so inherited members are counted once, under the class that defines them; an override such as
Linear.forward is a member of its own and needs its own docstring). A public value that is not
a function, class or module is documented by its type when the type is ours (tl.float32 by tl.dtype,
tl.cuda by its class, whose own public members count under the type's path), else by its module's
docstring, which names it (tl.distributed.default_pg_timeout)."""
import importlib
import re
import types

# name as a user writes it -> the module object's import path (tl.fused is tensorlogic.ops.fused).
PUBLIC_MODULES = {
    "tensorlogic": "tensorlogic",
    "tensorlogic.nn": "tensorlogic.nn",
    "tensorlogic.nn.functional": "tensorlogic.nn.functional",
    "tensorlogic.nn.init": "tensorlogic.nn.init",
    "tensorlogic.nn.utils": "tensorlogic.nn.utils",
    "tensorlogic.nn.utils.parametrize": "tensorlogic.nn.utils.parametrize",
    "tensorlogic.nn.utils.parametrizations": "tensorlogic.nn.utils.parametrizations",
    "tensorlogic.nn.modules.module": "tensorlogic.nn.modules.module",
    "tensorlogic.nn.parallel": "tensorlogic.nn.parallel",
    "tensorlogic.optim": "tensorlogic.optim",
    "tensorlogic.optim.lr_scheduler": "tensorlogic.optim.lr_scheduler",
    "tensorlogic.optim.swa_utils": "tensorlogic.optim.swa_utils",
    "tensorlogic.utils.data": "tensorlogic.utils.data",
    "tensorlogic.autograd": "tensorlogic.autograd",
    "tensorlogic.autograd.functional": "tensorlogic.autograd.functional",
    "tensorlogic.func": "tensorlogic.func",
    "tensorlogic.utils.checkpoint": "tensorlogic.utils.checkpoint",
    "tensorlogic.utils.dlpack": "tensorlogic.utils.dlpack",
    "tensorlogic.amp": "tensorlogic.amp",
    "tensorlogic.fused": "tensorlogic.ops.fused",
    "tensorlogic.linalg": "tensorlogic.linalg",
    "tensorlogic.fft": "tensorlogic.fft",
    "tensorlogic.special": "tensorlogic.special",
    "tensorlogic.random": "tensorlogic.random",
    "tensorlogic.testing": "tensorlogic.testing",
    "tensorlogic.accelerator": "tensorlogic.accelerator",
    "tensorlogic.backends.cuda": "tensorlogic.backends.cuda",
    "tensorlogic.backends.cudnn": "tensorlogic.backends.cudnn",
    "tensorlogic.backends.mps": "tensorlogic.backends.mps",
    "tensorlogic.memory": "tensorlogic.memory",
    "tensorlogic.errors": "tensorlogic.errors",
    "tensorlogic.lang": "tensorlogic.lang",
    "tensorlogic.notebook": "tensorlogic.notebook",
    "tensorlogic.profiler": "tensorlogic.profiler",
    "tensorlogic.distributed": "tensorlogic.distributed",
    "tensorlogic.distributions": "tensorlogic.distributions",
    "tensorlogic.distributions.constraints": "tensorlogic.distributions.constraints",
    "tensorlogic.distributions.transforms": "tensorlogic.distributions.transforms",
    "tensorlogic.models": "tensorlogic.models",
    "tensorlogic.coreml": "tensorlogic.coreml",
    "tensorlogic.planner": "tensorlogic.planner",
    "tensorlogic.jit": "tensorlogic.jit",
    "tensorlogic.nn.utils.convert_parameters": "tensorlogic.nn.utils.convert_parameters",
    "tensorlogic.nn.utils.init": "tensorlogic.nn.utils.init",
    "tensorlogic.nn.utils.fusion": "tensorlogic.nn.utils.fusion",
    "tensorlogic.nn.utils.prune": "tensorlogic.nn.utils.prune",
    "tensorlogic.nn.utils.stateless": "tensorlogic.nn.utils.stateless",
}


def _names(public, module):
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n, v in vars(module).items()
            if not n.startswith("_") and not isinstance(v, types.ModuleType)
            and (public == "tensorlogic" or getattr(v, "__module__", None) == module.__name__)]


def _own_members(cls):
    """{name: member} of the public methods and properties a tensorlogic class defines itself."""
    return {n: v for n, v in vars(cls).items() if not n.startswith("_") and not isinstance(v, type)
            and (callable(v) or isinstance(v, (staticmethod, classmethod, property)))}


def _is_ours(obj):
    return (getattr(obj, "__module__", None) or "").startswith("tensorlogic")


def is_value(obj):
    """A documented-by-its-type value: not a module, class or function."""
    return not (isinstance(obj, (types.ModuleType, type, property, staticmethod, classmethod)) or callable(obj))


def public_names():
    """{public dotted name: object} for every public module, name and class member (see the module doc)."""
    found = {}
    for public, path in PUBLIC_MODULES.items():
        module = importlib.import_module(path)
        found[public] = module
        for name in _names(public, module):
            obj = getattr(module, name)
            if not isinstance(obj, types.ModuleType):  # a public submodule is an entry of PUBLIC_MODULES
                found[f"{public}.{name}"] = obj
    classes = {id(obj) for obj in found.values() if isinstance(obj, type)}
    for public, obj in list(found.items()):
        if isinstance(obj, type) and _is_ours(obj):
            owner = public
        elif is_value(obj) and _is_ours(type(obj)) and id(type(obj)) not in classes:  # tl.cuda's private class
            owner = f"{type(obj).__module__}.{type(obj).__qualname__}"
        else:
            continue
        for member, value in _own_members(obj if owner == public else type(obj)).items():
            found[f"{owner}.{member}"] = value
    return found


def docstring(obj):
    """The object's own docstring ('' if none): a property's or its getter's; for a value, its type's."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        return (obj.__doc__ or (obj.fget.__doc__ if obj.fget else None) or "").strip()
    if is_value(obj):
        return (type(obj).__doc__ or "").strip()
    own = vars(obj).get("__doc__") if isinstance(obj, type) else obj.__doc__  # a class inherits no docstring
    return (own or "").strip()


def documented_where(public, obj):
    """Where a value may be documented: the path of its type when the type is ours and has a docstring,
    and its public module when the module's docstring names it (empty when neither)."""
    places = []
    if _is_ours(type(obj)) and docstring(obj):
        places.append(f"{type(obj).__module__}.{type(obj).__qualname__}")
    owner, _, name = public.rpartition(".")
    if re.search(rf"\b{name}\b", importlib.import_module(PUBLIC_MODULES[owner]).__doc__ or ""):
        places.append(owner)
    return places


def undocumented(names):
    """The public names (of public_names()) with no docstring of their own (for a value, see
    documented_where). An override counts too: Linear.forward says what Linear computes."""
    return [name for name, obj in names.items()
            if not (documented_where(name, obj) if is_value(obj) else docstring(obj))]


if __name__ == "__main__":  # python tests/public_names.py: the names test_docs would report
    print("\n".join(sorted(undocumented(public_names()))))
