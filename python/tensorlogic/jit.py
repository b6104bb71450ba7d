"""tl.jit: torch.jit's names, so that programs written for TorchScript run. Nothing is scripted here: there is
no TorchScript compiler and no TorchScript archive format. `script` returns what it is given, which then runs as
the Python it is; `trace` runs the function once on its example inputs and returns it compiled by tl.compile
(which captures and replays the ops per input signature, and runs eagerly where it cannot, saying why). The
decorators (ignore, unused, export) and annotations (Final, which is typing.Final, and annotate) only mark code for TorchScript's
compiler, so here they return what they are given; is_scripting and is_tracing are False. save and load raise
SerializationError: keep a model's weights with tl.save(model.state_dict(), path) and load them back with
model.load_state_dict(tl.load(path))."""
import os
from typing import Final  # noqa: F401  (tl.jit.Final is typing.Final, as torch.jit.Final; the module doc names it)

from .compiler import compile as _compile
from .errors import SerializationError
from .tensor import Tensor

__all__ = ["script", "trace", "is_scripting", "is_tracing", "ignore", "unused", "export", "annotate", "save", "load"]


def is_scripting():
    """False: no code is compiled by TorchScript here (`if not torch.jit.is_scripting():` branches run)."""
    return False


def is_tracing():
    """False: tl.jit.trace runs and compiles the Python itself; no TorchScript tracer is active."""
    return False


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """torch.jit.script's signature. Returns `obj` itself (a function, a module or a class), which runs eagerly as
    Python: TorchScript's compiler, its type checks and its restrictions on Python do not exist here. To capture and
    replay a function's ops, use tl.compile."""
    return obj


def _as_args(example_inputs):
    """torch.jit.trace's example_inputs: a tuple of arguments, or a single tensor standing for one argument."""
    if example_inputs is None:
        return ()
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    raise TypeError(f"jit.trace: example_inputs must be a tensor or a tuple of arguments, got "
                    f"{type(example_inputs).__name__}")


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs=True):
    """torch.jit.trace's signature: `func` (a function or an nn.Module) is compiled with tl.compile and run once on
    `example_inputs` (a tuple of arguments or one tensor) and `example_kwarg_inputs` (a dict), which captures its
    ops for those inputs' signature; the compiled callable is returned (a CompiledModule for a module: parameters,
    state_dict, train/eval are the module's). Unlike a TorchScript trace it is not frozen to the example: a call
    with other shapes is captured again, and data-dependent Python control flow is followed (such calls run
    eagerly, with a CompileWarning saying why), so its results are the function's own. check_trace and the other
    arguments are accepted and change nothing (tl.compile checks each capture against a second run itself)."""
    if not callable(func):
        raise TypeError(f"jit.trace: expected a function or an nn.Module, got {type(func).__name__}")
    if example_kwarg_inputs is not None and not isinstance(example_kwarg_inputs, dict):
        raise TypeError(f"jit.trace: example_kwarg_inputs must be a dict, got {type(example_kwarg_inputs).__name__}")
    if example_inputs is None and example_kwarg_inputs is None:
        raise ValueError("jit.trace: example_inputs or example_kwarg_inputs must be given")
    compiled = _compile(func)
    compiled(*_as_args(example_inputs), **(example_kwarg_inputs or {}))
    return compiled


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore or @torch.jit.ignore(drop=...): marks a function that TorchScript leaves as Python. Everything
    is Python here, so the function is returned unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """@torch.jit.unused: marks a method that TorchScript does not compile; returns it unchanged."""
    return fn


def export(fn):
    """@torch.jit.export: marks a method that TorchScript compiles as an entry point; returns it unchanged."""
    return fn


def annotate(the_type, the_value):
    """torch.jit.annotate(type, value): a type hint for TorchScript's compiler; returns the_value."""
    return the_value


def _archive_error(op, f):
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "the file object")
    return SerializationError(f"jit.{op}: '{name}': TorchScript archives are not supported (nothing is scripted "
                              "here); keep the weights with tl.save(model.state_dict(), path) and load them back "
                              "with model.load_state_dict(tl.load(path))")


def save(m, f, _extra_files=None):
    """torch.jit.save: raises SerializationError (TorchScript archives are not supported). Save the weights with
    tl.save(m.state_dict(), f) instead."""
    raise _archive_error("save", f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """torch.jit.load: raises SerializationError (TorchScript archives are not supported). Load weights saved with
    tl.save into a model built in Python: model.load_state_dict(tl.load(f))."""
    raise _archive_error("load", f)
