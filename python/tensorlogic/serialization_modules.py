"""What a whole module becomes in tl.save's safetensors files (torch.save(model, path)), and how tl.load rebuilds it.

A module is stored as the name of its class and its attributes: parameters, buffers and child modules (tensors in the
file; a tensor or module reached twice, as tied weights are, is stored once and comes back shared), options (numbers,
strings, tuples, dicts, devices, dtypes) and references by name to nn.Module classes and to tensorlogic's tensor
functions (an activation such as F.relu). Code is never stored and never loaded: tl.load looks the class up among the modules the
program has already imported (as unpickling a torch.save'd model needs the class's definition too, but without
importing anything the file names), checks it is an nn.Module, makes the instance without calling __init__ and sets
the attributes, which are data only. Anything else in a module (a lambda, a user's function, an open file, a hook)
refuses to save, naming the attribute, so what tl.load gives back is always what was saved."""
import inspect
import sys

from .nn.module import Module
from .nn.parameter import Parameter
from .tensor import Tensor

# Module.__init__'s tables and what each holds.
_TABLES = {"_parameters": Parameter, "_buffers": Tensor, "_modules": Module}
_HOOK_LISTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")
_ADVICE = "save its state_dict() instead (tl.save(model.state_dict(), path))"


def is_table(name):
    """Whether a module attribute is one of the tables whose entries are named like the state_dict's keys."""
    return name in _TABLES


def module_attributes(module, path):
    """The instance attributes to store for `module` (its __dict__), after refusing what cannot come back."""
    where = path or "the module"
    if not hasattr(module, "__dict__") or not all(name in module.__dict__ for name in _TABLES):
        raise TypeError(f"tl.save: {where} ({type(module).__name__}) was not set up by nn.Module.__init__; {_ADVICE}")
    for name in _HOOK_LISTS:
        if module.__dict__.get(name):
            raise TypeError(f"tl.save: {where} ({type(module).__name__}) has {name[1:]} registered; hooks are code and "
                            f"cannot be stored: remove them before saving, or {_ADVICE}")
    return module.__dict__


# The modules whose functions a module may hold by name (an activation such as F.relu or tl.tanh): tensor ops only.
_OP_MODULES = ("tensorlogic.ops", "tensorlogic.nn", "tensorlogic.special", "tensorlogic.linalg", "tensorlogic.fft",
               "tensorlogic.torch_forms")


def _storable(obj):
    """An nn.Module class (from anywhere), or a function defined in one of tensorlogic's op modules."""
    if inspect.isclass(obj):
        return issubclass(obj, Module)
    module = getattr(obj, "__module__", None)
    return callable(obj) and isinstance(module, str) and any(module == m or module.startswith(m + ".")
                                                             for m in _OP_MODULES)


def global_name(obj, path):
    """'module:qualname' for a class or function that tl.load can find again: an nn.Module subclass, or a tensor op
    of tensorlogic's (an activation). Anything else is a TypeError naming the attribute."""
    where = path or "<root>"
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not _storable(obj) or not isinstance(qualname, str):
        kind = "class" if inspect.isclass(obj) else type(obj).__name__
        raise TypeError(f"tl.save: cannot store the {kind} {qualname or obj!r} (at '{where}'): only nn.Module classes "
                        f"and tensorlogic's own tensor functions are stored by name; {_ADVICE}")
    if "<locals>" in qualname:
        raise TypeError(f"tl.save: {qualname} (at '{where}') is defined inside a function, where tl.load cannot find "
                        f"it; define it at the top level of a module, or {_ADVICE}")
    try:
        found = _lookup(module, qualname)
    except (ImportError, ValueError):  # (a class made at run time, such as a parametrized module's)
        found = None
    if found is not obj and getattr(found, "__wrapped__", None) is not obj:  # (the name may give its checked form)
        raise TypeError(f"tl.save: {module}.{qualname} (at '{where}') is not what that name gives when looked up "
                        f"again; {_ADVICE}")
    return f"{module}:{qualname}"


def resolve_global(name):
    """The class or function a 'module:qualname' names, looked up among the modules already imported: an nn.Module
    subclass, or a tensor op of tensorlogic's. ImportError when the program has not imported the module (the file is
    never allowed to import anything), ValueError for a name that gives anything else (a name that reaches os.system
    through a module's imports included: the object itself must be one of the two kinds)."""
    if not isinstance(name, str) or name.count(":") != 1:
        raise ValueError(f"a class or function name must read 'module:qualname', got {str(name)[:80]!r}")
    obj = _lookup(*name.split(":"))
    if not _storable(obj):
        raise ValueError(f"{name[:80]!r} names a {type(obj).__name__}, not an nn.Module class or a tensorlogic tensor "
                         f"function")
    return obj


def _lookup(module, qualname):
    if module not in sys.modules:
        raise ImportError(f"the file holds {qualname} of module '{module}', which this program has not imported; "
                          f"import it (for a class of the saving script, define it in this script) before tl.load")
    obj = sys.modules[module]
    for part in qualname.split("."):
        if part.startswith("__") or not hasattr(obj, part):  # (no walking into dunders: __globals__, __builtins__)
            raise ValueError(f"module '{module}' has no {qualname[:80]}")
        obj = getattr(obj, part)
    return obj


def new_module(name):
    """A bare instance of the Module class `name` names (its __init__ is not called: the attributes come next)."""
    cls = resolve_global(name)
    if not (inspect.isclass(cls) and issubclass(cls, Module)):
        raise ValueError(f"{name[:80]!r} is not an nn.Module class")
    return cls.__new__(cls)


def fill_module(module, attributes):
    """Sets a rebuilt module's attributes, after checking the tables Module's methods rely on."""
    for table, kind in _TABLES.items():
        entries = attributes.get(table)
        if not isinstance(entries, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, kind))
                                                    for k, v in entries.items()):
            raise ValueError(f"the module's {table} must map names to {kind.__name__}s")
    for name in _HOOK_LISTS:
        if attributes.get(name, []) != []:
            raise ValueError(f"the module's {name} must be empty")
        attributes[name] = []
    module.__dict__.update(attributes)
    return module
