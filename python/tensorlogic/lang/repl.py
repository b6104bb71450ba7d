"""`tl repl`: statements run as they are entered; input continues over several lines while it is
incomplete (open brackets, a line ending in an operator, an unfinished block); history is kept in
~/.tensorlogic_history."""
from __future__ import annotations

import os
import sys

try:
    import readline
except ImportError:  # no line editing on this platform; input still works
    readline = None

from .check.checker import UnreadableSource, check, read_source
from .engine import tl
from .errors import TensorLogicRuntimeError, TensorLogicSyntaxError, TensorLogicTypeError
from .program import Program
from .run.show import show
from .syntax import nodes as N
from .syntax.parser import parse

HISTORY = os.path.join(os.path.expanduser("~"), ".tensorlogic_history")
BANNER = ("TensorLogic language; statements run as entered, a blank line ends multi-line input.\n"
          ":help for help, :quit to leave.")
HELP = """  rules, facts, equations and declarations accumulate; queries (`Y?`, `R(a, x)?`) and
  statements run at once; a bare expression prints its value.
  :type NAME      what NAME is: its kind, type and shape
  :load FILE      runs a .tl file in the session; :reload starts afresh from that file
  :reset forgets everything, :quit (or end of input) leaves."""


class Session:
    """A growing program: every accepted chunk is checked with everything before it, and only its
    own statements run; values, learned tensors and variables carry over."""

    def __init__(self):
        self.text = ""
        self.program = None

    def complete(self, chunk) -> bool:
        """False when `chunk` is only unfinished (the parser ran out of input)."""
        try:
            parse(self.text + chunk, "<repl>")
        except TensorLogicSyntaxError as err:
            return "end of input" not in getattr(err, "message", "")
        return True

    def feed(self, chunk):
        text = self.text + chunk + ("\n" if not chunk.endswith("\n") else "")
        model = check(text, "<repl>")
        first_line = self.text.count("\n") + 1
        program = Program(model)
        if self.program is not None:
            old = self.program.runtime
            new = program.runtime
            new.globals.update(old.globals)
            new.leaves.update({k: v for k, v in old.leaves.items() if k in model.tensors})
            new.versions.update(old.versions)
            program.max_iterations = self.program.max_iterations
        self.text, self.program = text, program
        rt = program.runtime
        with tl.no_grad():
            for item in model.actions:
                if item.span is None or item.span.file != "<repl>" or item.span.line < first_line:
                    continue
                if isinstance(item, N.ExprStmt):
                    with rt.at(item.span):
                        value = rt.exec_stmt(item, None)
                    if value is not None:
                        print(show(value))
                else:
                    rt.exec_top(item)


def _setup_history():
    if readline is None:
        return None
    try:
        readline.read_history_file(HISTORY)
    except OSError:
        pass
    readline.set_history_length(2000)
    return readline


def describe(program, name) -> str:
    """`:type NAME`: the kind of NAME with its type and, when it has a value, its shape."""
    if program is None:
        return f"'{name}' is not defined"
    m = program.model
    if name in m.tensors:
        info = m.tensors[name]
        decl = info.decl
        spec = f"{info.dtype}[{', '.join('?' if d.kind == 'any' else str(d.value) for d in decl.type.dims or ())}]" \
            if decl is not None else info.dtype
        kind = "learnable tensor" if info.mode == "learnable" else \
            "tensor defined by equations" if info.derived else "tensor"
        return f"{name}: {kind} {spec}{_shape_of(program, name)}"
    if name in m.relations:
        rel = m.relations[name]
        doms = ", ".join(d.name for d in rel.domains)
        return f"{name}: relation({doms}), {len(rel.facts) + len(rel.fact_rows) + sum(len(r) for r in rel.rows)} facts, " \
               f"{len(rel.rules)} rules"
    if name in m.domains:
        return f"{name}: domain of {m.domains[name].size} constants"
    if name in m.functions:
        fn = m.functions[name]
        params = ", ".join(p.name + (f": {_spec(p.type)}" if p.type else "") for p in fn.params)
        return f"{name}: fn({params})" + (f" -> {_spec(fn.ret)}" if fn.ret else "")
    if name in m.structs:
        fields = ", ".join(f"{f.name}: {_spec(f.type)}" for f in m.structs[name].fields)
        return f"{name}: struct {{ {fields} }}"
    if name in m.global_vars and name in program.runtime.globals:
        value = program.runtime.globals[name]
        return f"{name}: {type(value).__name__}{_shape_of(program, name)} = {show(value)}"
    return f"'{name}' is not defined"


def _spec(t):
    dims = f"[{', '.join('?' if d.kind == 'any' else str(d.value) for d in t.dims)}]" if t.dims else ""
    return t.dtype + dims


def _shape_of(program, name):
    try:
        value = program[name]
    except Exception:            # no value yet (or one that cannot be computed): no shape shown
        return ""
    return f", shape {list(value.shape)}" if hasattr(value, "shape") else ""


def repl(stdin=None, path=None) -> int:
    interactive = stdin is None and sys.stdin.isatty()
    stdin = stdin or sys.stdin
    readline = _setup_history() if interactive else None
    if interactive:
        print(BANNER)
    session = Session()
    buffer = []
    if path is not None:
        _load(session, path)
    while True:
        prompt = "... " if buffer else "tl> "
        try:
            if interactive:
                line = input(prompt)
            else:
                line = stdin.readline()
                if not line:
                    raise EOFError
                line = line.rstrip("\n")
        except EOFError:
            if buffer:
                _run(session, "\n".join(buffer))
            break
        except KeyboardInterrupt:
            print()
            buffer = []
            continue
        if not buffer and line.strip() in (":quit", ":q", ":exit"):
            break
        if not buffer and line.strip() == ":help":
            print(HELP)
            continue
        if not buffer and line.strip() == ":reset":
            session = Session()
            continue
        command, _, arg = line.strip().partition(" ")
        if not buffer and command == ":type":
            print(describe(session.program, arg.strip()))
            continue
        if not buffer and command in (":load", ":reload"):
            path = arg.strip() or path
            if path is None:
                print(":reload needs a file loaded first (:load FILE)", file=sys.stderr)
                continue
            if command == ":reload":
                session = Session()
            _load(session, path)
            continue
        if not buffer and not line.strip():
            continue
        buffer.append(line)
        chunk = "\n".join(buffer)
        if line.strip() and not session.complete(chunk):
            continue
        _run(session, chunk)
        buffer = []
    if readline is not None:
        try:
            readline.write_history_file(HISTORY)
        except OSError:
            pass
    return 0


def _load(session, path):
    try:
        text = read_source(path)
    except (OSError, UnreadableSource) as err:
        print(f"cannot load '{path}': {getattr(err, 'strerror', None) or err}", file=sys.stderr)
        return
    _run(session, text)


def _run(session, chunk):
    try:
        session.feed(chunk)
    except (TensorLogicSyntaxError, TensorLogicTypeError, TensorLogicRuntimeError, AssertionError) as err:
        print(str(err.args[0]) if err.args else type(err).__name__, file=sys.stderr)
    except Exception as err:  # a failing statement must not end the session
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        for note in getattr(err, "__notes__", ()):
            print(note, file=sys.stderr)
