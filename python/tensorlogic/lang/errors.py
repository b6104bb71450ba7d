"""Source positions, the helper that gives the language's error classes (defined in
`tensorlogic.errors`) a file, line, column and a caret under the source, and the language's
warnings."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

from ..errors import (TensorLogicRuntimeError, TensorLogicSyntaxError,  # noqa: F401  (re-exported)
                      TensorLogicTypeError)


class TensorLogicWarning(UserWarning):
    """A program that runs but likely does not mean what it says.  The message is located like an
    error's (``file:line:col: warning: ...``, the line and a caret); ``.message`` is the bare text."""


class UndefinedRelationWarning(TensorLogicWarning):
    """A relation that nothing defines is read under `not`: it is empty, so the negation holds."""


class AddedEquationsWarning(TensorLogicWarning):
    """Equations with one left side add up where one covers entries another sets (`X[0, j] = ...`
    and `X[i, j] = ...`), and the sum is not the single value each gives."""


class NonFiniteLossWarning(TensorLogicWarning):
    """A `learn` block ended with a nan or infinite objective."""


class ConstantNameWarning(TensorLogicWarning):
    """A rule reads a name as a constant only because an unrelated fact or domain holds it."""


@dataclass(frozen=True)
class Span:
    """A 1-based source position; ``end_*`` are exclusive like Lark's."""
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    file: str | None = None


# The most characters of a source line an error shows (a window around the column beyond it).
SHOWN_LINE = 160


def source_line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def format_diagnostic(message: str, filename: str, span: Span | None, text: str | None) -> str:
    """``file:line:col: message`` followed by the source line and a caret (or a run of carets under
    a span on one line)."""
    if span is None:
        return f"{filename}: {message}"
    head = f"{filename}:{span.line}:{span.column}: {message}"
    if text is None:
        return head
    src = source_line(text, span.line)
    start = span.column - 1
    width = 1
    if span.end_line == span.line and span.end_column is not None and span.end_column > span.column:
        width = span.end_column - span.column
    # A line too long to read (generated source) is shown as a window around the column.
    if len(src) > SHOWN_LINE:
        first = max(0, start - SHOWN_LINE // 2)
        shown = src[first: first + SHOWN_LINE]
        lead = "..." if first else ""
        src = lead + shown + ("..." if first + SHOWN_LINE < len(source_line(text, span.line)) else "")
        start = start - first + len(lead)
        width = max(1, min(width, SHOWN_LINE - (start - len(lead))))
    prefix = "".join(c if c == "\t" else " " for c in src[:start])
    return f"{head}\n    {src}\n    {prefix}{'^' * width}"


def located(cls, message: str, filename: str, span: Span | None, text: str | None):
    """Builds ``cls`` (one of the two classes above) carrying the usual SyntaxError attributes:
    ``filename``, ``lineno``, ``offset`` (1-based column), ``text``, ``end_lineno``, ``end_offset``,
    plus ``column`` and ``message`` (the bare message)."""
    err = cls(format_diagnostic(message, filename, span, text))
    err.message = message
    err.filename = filename
    err.lineno = span.line if span else None
    err.offset = span.column if span else None
    err.column = err.offset
    err.end_lineno = span.end_line if span else None
    err.end_offset = span.end_column if span else None
    if isinstance(err, SyntaxError):
        # The traceback printer draws its own caret from `text`; our message already has one.
        err.text = None
        err.msg = str(err.args[0])
    err.source_line = source_line(text, span.line) if (span and text is not None) else None
    return err


def warn_at(cls, message: str, filename: str, span: Span | None, text: str | None):
    """Issues warning `cls` located like an error (see TensorLogicWarning)."""
    w = cls(format_diagnostic(f"warning: {message}", filename, span, text))
    w.message = message
    w.filename, w.lineno = filename, span.line if span else None
    w.column = span.column if span else None
    warnings.warn_explicit(w, cls, filename, span.line if span else 0)


def first_line(err: BaseException) -> str:
    """An exception's message for a one-line diagnostic: its first line, or its class's name when
    it has none."""
    return str(err).splitlines()[0] if str(err) else type(err).__name__
