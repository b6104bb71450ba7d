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

import tensorlogic as tl

from .check.checker import check
from .errors import TensorLogicSyntaxError, TensorLogicTypeError
from .program import Program
from .run.show import show
from .syntax import nodes as N
from .syntax.parser import parse

HISTORY = os.path.join(os.path.expanduser("~"), ".tensorlogic_history")
BANNER = ("TensorLogic language; statements run as entered, a blank line ends multi-line input.\n"
          ":help for help, :quit to leave.")
HELP = """  rules, facts, equations and declarations accumulate; queries (`Y?`, `R(a, x)?`) and
  statements run at once; a bare expression prints its value.
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


def repl(stdin=None) -> int:
    interactive = stdin is None and sys.stdin.isatty()
    stdin = stdin or sys.stdin
    readline = _setup_history() if interactive else None
    if interactive:
        print(BANNER)
    session = Session()
    buffer = []
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


def _run(session, chunk):
    try:
        session.feed(chunk)
    except (TensorLogicSyntaxError, TensorLogicTypeError, AssertionError) as err:
        print(str(err.args[0]) if err.args else type(err).__name__, file=sys.stderr)
    except Exception as err:  # a failing statement must not end the session
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        for note in getattr(err, "__notes__", ()):
            print(note, file=sys.stderr)
