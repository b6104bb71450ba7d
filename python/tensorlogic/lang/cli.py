"""`tl run prog.tl [--device ...] [--test]`, `tl check prog.tl`, `tl repl`, `tl lsp` (also
installed as `tensorlogic`)."""
from __future__ import annotations

import argparse
import subprocess
import sys
import warnings

import tensorlogic

from ..models import cli as models_cli
from .check.checker import UnreadableSource, check, read_source
from .engine import tl
from .errors import TensorLogicRuntimeError, TensorLogicSyntaxError, TensorLogicTypeError, TensorLogicWarning
from .program import DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_STEPS, compile
from .repl import repl


def _positive(kind):
    """An argparse type: a positive number of `kind` (a finite one for floats), else argparse's usage error."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _parser():
    ap = argparse.ArgumentParser(prog="tl", description="The TensorLogic language: run, check or "
                                 "explore .tl programs.")
    ap.add_argument("--version", action="version", version=f"tl (tensorlogic-engine) {tensorlogic.__version__}")
    sub = ap.add_subparsers(dest="command", metavar="command")
    run = sub.add_parser("run", help="run a program")
    run.add_argument("file")
    run.add_argument("--device", choices=["cpu", "cuda", "metal", "ane"], help="default device")
    run.add_argument("--test", action="store_true", help="also run the program's test blocks")
    run.add_argument("--explain", action="store_true",
                     help="print how each relation is stored and each rule's join order, then run")
    run.add_argument("--max-iterations", type=_positive(int), default=None, metavar="N",
                     help="iteration limit of fixpoints (default 1000)")
    run.add_argument("--max-steps", type=_positive(int), default=DEFAULT_MAX_STEPS, metavar="N",
                     help=f"step budget shared by loops, calls and fixpoints (default {DEFAULT_MAX_STEPS})")
    run.add_argument("--time-limit", type=_positive(float), default=None, metavar="SECONDS",
                     help="stop the program after this wall-clock time")
    run.add_argument("--import-path", action="append", default=[], metavar="DIR",
                     help="also look for imported files in DIR (repeatable)")
    check = sub.add_parser("check", help="parse and check programs without running them")
    check.add_argument("files", nargs="+")
    repl = sub.add_parser("repl", help="interactive session")
    repl.add_argument("--device", choices=["cpu", "cuda", "metal", "ane"])
    repl.add_argument("file", nargs="?", help="a .tl file to run first (:reload runs it again)")
    sub.add_parser("lsp", help="language server on stdio (needs the `lsp` extra: pygls)")
    models_cli.add_parser(sub)  # tl generate: language models (tensorlogic.models)
    return ap


def _read(path):
    try:
        return read_source(path)
    except UnreadableSource as err:
        raise UnreadableSource(f"{path}: {err}") from None


def _set_device(name):
    if name is None:
        return True
    try:
        tl.set_default_device(name)
    except (RuntimeError, ValueError) as err:
        print(f"tl: {err}", file=sys.stderr)
        return False
    return True


def _available_memory(meminfo="/proc/meminfo"):
    """Bytes of memory the system can give without swapping (Linux's MemAvailable), or None where unknown."""
    try:
        with open(meminfo) as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _cap_host_memory(meminfo="/proc/meminfo"):
    """A program's host tensors may hold at most the memory free when it starts: a shape past it (a huge domain
    or declared size) is a MemoryError at its allocation, not the kernel's out-of-memory killer, which a request
    below the machine's total but above what is free would meet. A limit set before is kept."""
    available = _available_memory(meminfo)
    if available and not tensorlogic.memory.stats("cpu")["limit_bytes"]:
        tensorlogic.memory.set_limit(available, "cpu")


def main(argv=None) -> int:
    previous, limit = tl.get_default_device(), tensorlogic.memory.stats("cpu")["limit_bytes"]
    try:
        with warnings.catch_warnings():
            warnings.formatwarning = _format_warning
            return _run(argv)
    finally:  # `--device` and the memory cap hold for this command only (main is also called from Python)
        tl.set_default_device(previous)
        tensorlogic.memory.set_limit(limit, "cpu")


_default_formatwarning = warnings.formatwarning


def _format_warning(message, category, filename, lineno, line=None):
    """A program's warning is printed as the language's errors are (its message is located);
    any other as Python prints it."""
    if issubclass(category, TensorLogicWarning):
        return f"{message}\n"
    return _default_formatwarning(message, category, filename, lineno, line)


def _run(argv) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    warnings.simplefilter("default")
    if args.command == "generate":
        return models_cli.run(args)
    try:
        if args.command == "check":
            for path in args.files:
                check(_read(path), path)
                print(f"{path}: ok")
            return 0
        if args.command == "lsp":
            # Its own interpreter: pygls is an optional extra (and slow to load) that `run`, `check`
            # and `repl` must not need; the server inherits this process's stdio.
            return subprocess.call([sys.executable, "-m", "tensorlogic.lang.lsp"])
        if not _set_device(args.device):
            return 2
        _cap_host_memory()
        if args.command == "repl":
            return repl(path=args.file)
        prog = compile(_read(args.file), args.file,
                       args.max_iterations if args.max_iterations is not None else DEFAULT_MAX_ITERATIONS,
                       max_steps=args.max_steps, time_limit=args.time_limit,
                       search_path=args.import_path)
        if args.explain:
            print(prog.explain())
        prog.run(test=args.test)
        if args.test and not all(r.passed for r in prog.test_results):
            failed = sum(not r.passed for r in prog.test_results)
            print(f"{failed} of {len(prog.test_results)} tests failed", file=sys.stderr)
            return 1
        return 0
    except (TensorLogicSyntaxError, TensorLogicTypeError, TensorLogicRuntimeError, AssertionError) as err:
        print(str(err.args[0]) if err.args else type(err).__name__, file=sys.stderr)
        return 1
    except OSError as err:
        print(f"tl: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return 2
    except UnreadableSource as err:
        print(f"tl: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the engine's own errors (a MemoryError, a ValueError) under a statement
        print(_engine_error(err), file=sys.stderr)
        return 1


def _engine_error(err):
    """An error the engine raised as its own type: its first line at the location of the statement that ran
    (the note the runtime adds), with the source line and caret; never a traceback."""
    message = str(err).splitlines()[0] if str(err).strip() else ("out of memory" if isinstance(err, MemoryError)
                                                                  else "no message")
    what = f"{type(err).__name__}: {message}"
    note = next((n for n in getattr(err, "__notes__", ()) if ": raised here" in n.split("\n")[0]), None)
    if note is None:
        return f"tl: {what}"
    first, *rest = note.split("\n")
    return "\n".join([first.replace("raised here", what, 1), *rest])


if __name__ == "__main__":
    sys.exit(main())
