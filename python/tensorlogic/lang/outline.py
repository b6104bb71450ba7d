"""What an editor asks about a program, answered from the checker's `Model` without running it:
the first error (as `tl check` reports it), the declared names with where they are defined, a
description of each (a tensor's type and shape, a relation's domains, a built-in's signature), and
the words to complete.  The language server (`lsp.py`) turns these into protocol messages."""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from .check import catalog
from .check.checker import check
from .constants import shown
from .engine import tl
from .errors import Span, TensorLogicSyntaxError, TensorLogicTypeError
from .highlight import KEYWORDS
from .syntax import nodes as N

WORD = re.compile(r"(?!\d)\w+'*")


@dataclass
class Problem:
    """The first error of a program: the bare message and its 1-based span (end exclusive)."""
    message: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Symbol:
    name: str
    kind: str            # "domain", "relation", "tensor", "function", "struct", "variable" or "constant"
    span: Span           # the name where it is defined
    detail: str          # the hover text


@dataclass
class Outline:
    problem: Problem | None
    symbols: dict = field(default_factory=dict)   # name -> Symbol (empty when the program has an error)
    items: list = field(default_factory=list)     # the checked items, for local names


def problem_of(err, filename: str) -> Problem:
    """A located error of the parser or checker as a `Problem` in `filename`; an error inside an
    imported file is reported at the top of this one with its full `file:line:col` text."""
    if getattr(err, "lineno", None) is None or (err.filename or filename) != filename:
        return Problem(str(err.args[0]), 1, 1, 1, 1)
    line, column = err.lineno, err.offset
    end_line = err.end_lineno or line
    end_column = err.end_offset if err.end_offset and (end_line, err.end_offset) > (line, column) else column + 1
    return Problem(err.message, line, column, end_line, end_column)


def outline(text: str, filename: str) -> Outline:
    try:
        model = check(text, filename)
    except (TensorLogicSyntaxError, TensorLogicTypeError) as err:
        return Outline(problem_of(err, filename))
    return Outline(None, _symbols(model, text), model.items)


def _name_span(span: Span, name: str, lines: list) -> Span:
    """The span of `name` itself at or after the start of `span` (a derived tensor's first
    appearance spans its whole left side `Y[i, j]`)."""
    if span.line <= len(lines):
        at = lines[span.line - 1].find(name, span.column - 1)
        if at >= 0:
            return Span(span.line, at + 1, span.line, at + 1 + len(name), span.file)
    return span


def _dims(t: N.TypeSpec) -> str:
    if t.dims is None:
        return t.dtype
    return f"{t.dtype}[{', '.join('?' if d.kind == 'any' else str(d.value) for d in t.dims)}]"


def _tensor_detail(info) -> str:
    if info.static_shape is not None:
        shape = f"[{', '.join('?' if s is None else str(s) for s in info.static_shape)}]"
    else:
        shape = "[?]" if info.rank is None else f"[{', '.join('?' * info.rank)}]"
    declared = f" (declared {_dims(info.decl.type)})" if info.decl is not None else ""
    return f"tensor {info.name}: {info.dtype}{shape} {info.mode}{declared}"


def _domain_detail(d) -> str:
    if d.kind == "range":
        return f"domain {d.name} = {d.start}..{d.stop} ({d.size} values)"
    listed = ", ".join(shown(m) for m in d.members[:12]) + (", ..." if d.size > 12 else "")
    return f"domain {d.name} = {{{listed}}} ({d.size} constants, {d.kind})"


def _fn_detail(fn: N.FnDecl) -> str:
    params = ", ".join(p.name + (f": {_dims(p.type)}" if p.type else "") for p in fn.params)
    return f"fn {fn.name}({params})" + (f" -> {_dims(fn.ret)}" if fn.ret else "")


def _walk(items):
    for item in items:
        if isinstance(item, N.Node):
            yield item
            yield from _walk(N.iter_children(item))


def _symbols(model, text: str) -> dict:
    lines = text.splitlines()
    out = {}

    def add(name, kind, span, detail):
        if span is not None and name not in out:
            out[name] = Symbol(name, kind, _name_span(span, name, lines), detail)

    for name, d in model.domains.items():
        add(name, "domain", d.span, _domain_detail(d))
    for node in _walk(model.items):
        if isinstance(node, N.DomainDecl):
            for m in node.members:
                if isinstance(m, N.Name):
                    add(m.id, "constant", m.span, f"{m.id}: a constant of domain {node.name}")
        elif isinstance(node, N.Let) and node.name in model.global_vars:
            add(node.name, "variable", node.name_span or node.span, f"let {node.name}")
    for name, r in model.relations.items():
        if r.undefined:
            continue            # no place defines it (`not R(x)` of a relation nothing defines)
        span = r.decl.name_span if r.decl is not None else r.span
        domains = ", ".join(f"{d.name} ({d.size})" for d in r.domains) or ", ".join("?" * r.arity)
        add(name, "relation", span, f"relation {name}({domains})")
    for name, t in model.tensors.items():
        add(name, "tensor", t.decl.name_span if t.decl is not None else t.span, _tensor_detail(t))
    for name, fn in model.functions.items():
        add(name, "function", fn.name_span or fn.span, _fn_detail(fn))
    for (owner, name), fn in list(model.methods.items()) + [((o, "drop"), f) for o, f in model.drops.items()]:
        add(name, "function", fn.name_span or fn.span, f"{owner}::{_fn_detail(fn)[3:]}")
    for name, s in model.structs.items():
        fields = ", ".join(f"{f.name}: {_dims(f.type)}" for f in s.fields)
        add(name, "struct", s.name_span or s.span, f"struct {name} {{ {fields} }}")
    return out


def _contains(span, pos) -> bool:
    if span is None or span.end_line is None:
        return True     # a node without a span is taken to cover what its parent covers
    return (span.line, span.column) <= pos < (span.end_line, span.end_column)


def local_definition(items, name: str, line: int, column: int, text: str, filename: str) -> Span | None:
    """Where the local `name` used at 1-based (line, column) of `filename` is bound: the latest `let`,
    parameter or loop variable before it whose scope (the enclosing function, block or loop) contains
    it.  Items imported from other files are skipped: their positions are not this file's."""
    pos, lines = (line, column), text.splitlines()
    found = []

    def before(span):
        return span is not None and (span.line, span.column) < pos and span.file in (None, filename)

    def walk(node, inside):
        inside = inside and _contains(node.span, pos)
        if inside and isinstance(node, N.FnDecl):
            found.extend(p.span for p in node.params if p.name == name and before(p.span))
        if inside and isinstance(node, N.For) and node.var == name and before(node.var_span):
            found.append(node.var_span)
        for child in N.iter_children(node):
            if inside and isinstance(child, N.Let) and child.name == name and before(child.name_span):
                found.append(child.name_span)
            walk(child, inside)

    for item in items:
        if isinstance(item, N.Node) and (item.span is None or item.span.file in (None, filename)):
            walk(item, True)
    if not found:
        return None
    return _name_span(max(found, key=lambda s: (s.line, s.column)), name, lines)


def is_index_variable(items, line: int, column: int, filename: str) -> bool:
    """Whether the name at 1-based (line, column) is an index variable of an equation, rule or query
    (`c` in `LogP[n, c.]`): it has no definition elsewhere, whatever variable shares its name."""
    pos = (line, column)
    for node in _walk(items):
        span = node.span
        if isinstance(node, N.Name) and node.role == "var" and span is not None and span.end_line is not None \
                and span.file in (None, filename) and _contains(span, pos):
            return True
    return False


def word_at(text: str, line: int, column: int):
    """(name, 0-based start column) of the name under a 0-based (line, column), or None."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    for m in WORD.finditer(lines[line]):
        if m.start() <= column <= m.end():
            return m.group(), m.start()
    return None


def builtin_signature(name: str) -> str | None:
    """`softmax(input, dim=None, ...)` and the first line of its docstring for an engine op; the
    argument count for the language's own built-ins."""
    if name not in catalog.BUILTINS:
        return None
    fn = getattr(tl, name, None)
    if callable(fn):
        try:
            head = f"{name}{inspect.signature(fn)}"
        except (TypeError, ValueError):  # native functions without a signature
            head = f"{name}(...)"
        doc = (inspect.getdoc(fn) or "").strip().splitlines()
        return head + (f"\n\n{doc[0]}" if doc else "")
    low, high = catalog.ARITY.get(name, (None, None))
    if low is None:
        return f"{name}(...): built-in"
    count = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
    return f"{name}(...): built-in taking {count} argument{'s' * (count != '1')}"


def completions(symbols: dict) -> list:
    """(word, kind) for every declared name, built-in and keyword."""
    out = [(s.name, s.kind) for s in symbols.values()]
    out += [(b, "builtin") for b in sorted(catalog.BUILTINS)]
    out += [(k, "keyword") for k in KEYWORDS]
    return out
