"""The parser's fast path for knowledge bases: top-level lines that are each exactly one fact
(`Edge(a, b)`, `Age("Bob", 42)`) are read with one regular expression into a compact `Facts` node
(the constants of a run of facts of one relation) instead of going through the LALR parser, so
that 100,000s of fact lines are read a second.  A line inside brackets or continuing the line
before it is left to the parser; positions for messages are recovered from the line when needed.
"""
from __future__ import annotations

import re

from ..constants import Text
from ..errors import Span
from . import nodes as N
from .grammar import KEYWORDS

# The most digits an integer literal may have (Python's own limit on converting decimal text to an int); a
# longer one is left to the parser, which says so.
MAX_INT_DIGITS = 4300
_CONST = rf'(?:[A-Za-z_]\w*\'*|-?\d{{1,{MAX_INT_DIGITS}}}(?!\d)|"[^"\\\n]*")'
_FACT = re.compile(rf'([ \t]*)([A-Za-z_]\w*\'*)\([ \t]*({_CONST}(?:[ \t]*,[ \t]*{_CONST})*)[ \t]*\)'
                   rf'[ \t]*;?[ \t]*(?://[^\n]*)?')
_ARG = re.compile(_CONST)
_BOOLS = re.compile(r'(?<![\w"])(true|false)(?![\w\'])')     # `true`/`false` are not constants
# Keywords that look like calls (`if(x)`, `not(a)`) but are statements, declarations or operators.
_KEYWORDS = set(KEYWORDS)
# A line ending in one of these continues on the next line.
_CONTINUES = set("+-*/%@^,=(<[{&|!:.>")
_STRIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*')


def split_facts(text, filename):
    """(text with the fact lines blanked, [Facts nodes]); lines keep their numbers.  A `Facts` node
    holds a run of fact lines of one relation and arity with nothing but blank lines or comments
    between them."""
    lines = text.split("\n")
    blocks = []
    current = None
    depth = 0
    continues = False
    in_comment = False
    for k, line in enumerate(lines):
        if not in_comment and depth == 0 and not continues and "(" in line:
            m = _FACT.fullmatch(line)
            if m is not None and m.group(2) not in _KEYWORDS and not _BOOLS.search(m.group(3)):
                name, args = m.group(2), m.group(3)
                if '"' in args:
                    row = [Text(a[1:-1]) if a[0] == '"' else int(a) if a[0].isdigit() or a[0] == "-" else a
                           for a in _ARG.findall(args)]
                else:
                    row = [a.strip() for a in args.split(",")]
                    row = [int(a) if a[0].isdigit() or a[0] == "-" else a for a in row]
                if current is None or current.name != name or len(current.rows[0]) != len(row):
                    current = N.Facts(span=Span(k + 1, len(m.group(1)) + 1, file=filename), name=name,
                                      rows=[], lines=[])
                    blocks.append(current)
                current.rows.append(tuple(row))
                current.lines.append(k + 1)
                lines[k] = ""
                continue
        code = _STRIP.sub('""', line)
        if in_comment or "/*" in code:
            in_comment, code = _comments(code, in_comment)
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        stripped = code.strip()
        if stripped:
            current = None
            continues = stripped[-1] in _CONTINUES or stripped.endswith(("else", "not"))
        if depth < 0:           # unbalanced: the parser reports it; stop taking shortcuts
            return text, []
    if not blocks:
        return text, []
    return "\n".join(lines), blocks


def _comments(code, in_comment):
    """`code` without its `/* */` parts and whether a block comment is still open at its end."""
    out = []
    k = 0
    while k < len(code):
        if in_comment:
            end = code.find("*/", k)
            if end < 0:
                return True, "".join(out)
            k, in_comment = end + 2, False
        else:
            start = code.find("/*", k)
            if start < 0:
                out.append(code[k:])
                break
            out.append(code[k:start])
            k, in_comment = start + 2, True
    return in_comment, "".join(out)


def statements(block, text):
    """The block's facts as ordinary statements `Name(args)` (for a name that turns out to be a
    function), parsed again from their lines."""
    source = text.split("\n")
    return [_statement(_FACT.fullmatch(source[line - 1]), line, block.span.file) for line in block.lines]


def arg_span(block, row, k, text):
    """The span of argument k of the block's row, for error messages."""
    line = block.lines[row]
    return _statement(_FACT.fullmatch(text.split("\n")[line - 1]), line, block.span.file).expr.args[k].span


def _statement(m, line, filename):
    indent = len(m.group(1))
    name = m.group(2)
    args = []
    start = m.start(3)
    for a in _ARG.finditer(m.group(3)):
        col = start + a.start() + 1
        span = Span(line, col, line, col + len(a.group()), filename)
        text = a.group()
        if text[0] == '"':
            args.append(N.Str(span=span, value=text[1:-1]))
        elif text[0].isdigit() or text[0] == "-":
            value = int(text)
            if value < 0:
                num = N.Num(span=Span(line, col + 1, line, col + len(text), filename),
                            value=-value, text=text[1:])
                args.append(N.Prefix(span=span, ops=["-"], operand=num))
            else:
                args.append(N.Num(span=span, value=value, text=text))
        else:
            args.append(N.Name(span=span, id=text))
    end = m.end(3)
    while m.string[end] != ")":
        end += 1
    call_span = Span(line, indent + 1, line, end + 2, filename)
    call = N.Call(span=call_span, name=name, args=args, kwargs=[],
                  name_span=Span(line, indent + 1, line, indent + 1 + len(name), filename))
    return N.ExprStmt(span=call_span, expr=call)
