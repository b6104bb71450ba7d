"""Source text -> syntax tree (`nodes.Program`), with every syntax error as a located
`TensorLogicSyntaxError`."""
from __future__ import annotations

import ast as _pyast
import copy
import threading

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes as N
from ..errors import Span, TensorLogicSyntaxError, located, source_line
from .facts import MAX_INT_DIGITS, split_facts
from .grammar import GRAMMAR
from .seed_words import SeedWordError, seed_words

# Deepest bracket nesting accepted; keeps every later tree walk far from Python's recursion limit.
MAX_NESTING = 32

_KEYWORDS_CONTINUING = {
    "RELATION", "TENSOR", "FN", "LET", "IF", "FOR", "IN", "WHILE", "IMPORT", "LEARN", "MAIN", "TEST",
    "ELSE", "NOT", "DOMAIN", "ENTITY", "STRUCT", "IMPL", "LOAD", "EMBED",
}
# Tokens after which a statement cannot end: a newline after them continues the line.
_CONTINUING = _KEYWORDS_CONTINUING | {
    "PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "AT", "POW", "CMP", "OROR", "ANDAND", "BANG",
    "ASSIGN", "PROJ", "UPDATE", "ARROW", "RARROW", "COMMA", "COLON", "DOTDOT", "LBRACE", "LPAR", "LSQB",
    "COLONEQ", "PATHSEP", "FIELDDOT", "SLBRACE",
}
_OPEN = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE", "SLBRACE": "RBRACE"}
_CLOSE = {"RPAR", "RSQB", "RBRACE"}


class _LayoutError(Exception):
    def __init__(self, message, token):
        super().__init__(message)
        self.token = token


class Layout:
    """Post-lexer: turns raw newlines and `;` into at most one `_SEP` between statements.

    A separator is dropped inside `( )`, `[ ]` and a domain's `{ }`, after a token that cannot end
    a statement, at the start of input or of a block, and before `}`, `else` or the end; one
    is added after a block's `}` when another statement follows on the same line.
    """
    always_accept = ("_SEP",)

    def process(self, stream):
        return self._separators(_type_tokens(seed_words(stream)))

    def _separators(self, stream):
        stack = []          # open brackets: "paren" or "set" (newlines ignored) or "block"
        recent = []         # last three significant token types
        pending = None      # a held separator
        closed_block = False
        for tok in stream:
            kind = tok.type
            if closed_block and kind not in ("_SEP", "RBRACE", "ELSE", "COMMA"):
                # `}` ends a statement even when the next one follows on the same line.
                pending = pending or Token.new_borrow_pos("_SEP", ";", tok)
            closed_block = False
            if kind == "_SEP":
                if stack and stack[-1] != "block":
                    continue
                if not recent or recent[-1] in _CONTINUING:
                    continue
                pending = pending or tok
                continue
            if pending is not None:
                # A `{` after a separator opens a bare block statement (a block's head and its
                # `{` share a line, as in the seed's programs).
                if kind not in ("RBRACE", "ELSE"):
                    yield pending
                pending = None
            if kind in _OPEN:
                if kind == "SLBRACE":
                    stack.append("paren")
                elif kind == "LBRACE":
                    is_set = len(recent) >= 3 and recent[-3] in ("DOMAIN", "ENTITY") and \
                        recent[-2] == "NAME" and recent[-1] == "ASSIGN"
                    stack.append("set" if is_set else "block")
                else:
                    stack.append("paren")
                if len(stack) > MAX_NESTING:
                    raise _LayoutError(f"brackets nested deeper than {MAX_NESTING} levels", tok)
            elif kind in _CLOSE and stack:
                closed_block = stack.pop() == "block"
            recent = (recent + [kind])[-3:]
            yield tok


_TYPE_ARG_TOKENS = {"NAME", "COMMA", "LSQB", "RSQB", "QMARK", "NUMBER"}


def _type_args(token):
    """`<T, float16[?, ?]>` -> ["T", "float16[?, ?]"]: split at commas outside brackets."""
    out, depth, cur = [], 0, ""
    for ch in str(token):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return out + [cur.strip()]


def _type_tokens(stream):
    """Makes `GENERICS` and `SLBRACE` tokens (see grammar.py); needs a few tokens of lookahead."""
    toks = list(stream)
    out = []
    k = 0
    n = len(toks)

    def after(j):
        """Index of the first token at or after j that is not a newline."""
        while j < n and toks[j].type == "_SEP" and str(toks[j]) != ";":
            j += 1
        return j

    while k < n:
        tok = toks[k]
        prev = out[-1] if out else None
        if tok.type == "CMP" and str(tok) == "<" and prev is not None and (
                prev.type == "IMPL" or (prev.type == "NAME" and (str(prev)[:1].isupper() or (
                    len(out) > 1 and out[-2].type in ("STRUCT", "IMPL", "FN"))))):
            # Type arguments: names, or types with dimensions (`<float16[?, ?], T>`), up to `>`.
            j, parts = k + 1, []
            while j < n and toks[j].type in _TYPE_ARG_TOKENS:
                parts.append(str(toks[j]) + (" " if toks[j].type == "COMMA" else ""))
                j += 1
            if parts and toks[j - 1].type in ("NAME", "RSQB") and j < n and str(toks[j]) == ">":
                out.append(Token.new_borrow_pos("GENERICS", "".join(parts), tok))
                k = j + 1
                continue
        if tok.type == "LBRACE" and prev is not None and prev.type in ("NAME", "GENERICS"):
            # `struct Name<T> {` or `Name { field: ...`; an impl's or a function's `{` never.
            back = 2 if prev.type == "NAME" else 3
            head = out[-back] if len(out) >= back else None
            declared = head is not None and head.type == "STRUCT"
            j = after(k + 1)
            literal = j + 1 < n and toks[j].type == "NAME" and toks[j + 1].type == "COLON" and \
                not any(t.type == "IMPL" for t in out[-5:])
            if declared or literal:
                out.append(Token.new_borrow_pos("SLBRACE", "{", tok))
                k += 1
                continue
        out.append(tok)
        k += 1
    return out


_lark = None
_lark_lock = threading.Lock()


def _parser() -> Lark:
    global _lark
    with _lark_lock:
        if _lark is None:
            _lark = Lark(GRAMMAR, parser="lalr", lexer="basic", postlex=Layout(),
                         propagate_positions=False, maybe_placeholders=False, cache=True)
        return _lark


def _tok_span(tok: Token, file=None) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column, file)


class _SyntaxProblem(Exception):
    """Raised inside the transformer; converted to a located error by `parse`."""
    def __init__(self, message, span):
        super().__init__(message)
        self.span = span


def _toks(children, *types):
    return [c for c in children if isinstance(c, Token) and c.type in types]


def _nodes(children):
    return [c for c in children if not isinstance(c, Token)]


class _Block(list):
    """The statements of a `{ }` block, remembering the braces' span."""

    def __init__(self, items, span):
        super().__init__(items)
        self.span = span


class _ToAst(Transformer_NonRecursive):
    """Parse tree -> nodes.  Every node's span runs from its first token to its last."""

    def __init__(self, filename):
        super().__init__()
        self.file = filename

    def _t(self, tok):
        return _tok_span(tok, self.file)

    def _s(self, ch):
        first, last = ch[0], ch[-1]
        a = self._t(first) if isinstance(first, Token) else first.span
        b = self._t(last) if isinstance(last, Token) else last.span
        return Span(a.line, a.column, b.end_line, b.end_column, self.file)

    # ---- top level and declarations -----------------------------------------------------------
    def start(self, ch):
        return [c for c in ch if not isinstance(c, Token)]

    def domain_decl(self, ch):
        name = _toks(ch, "NAME")[0]
        body = _nodes(ch)
        end = body[0][-1] if body else self._t(ch[-1])
        decl = N.DomainDecl(span=self._span_to(ch[0], end), name=str(name), kind="open",
                            name_span=self._t(name))
        if body:
            kind, *rest = body[0]
            if kind == "set":
                decl.kind, decl.members = "set", rest[0]
            else:
                decl.kind, decl.start, decl.stop = "range", rest[0].value, rest[1].value
        return decl

    def domain_set(self, ch):
        members = [self._const(c) for c in ch if not (isinstance(c, Token) and
                                                      c.type in ("LBRACE", "RBRACE", "COMMA"))]
        return ("set", members, self._s(ch))

    def domain_range(self, ch):
        lo, hi = _nodes(ch)
        return ("range", lo, hi, self._s(ch))

    def int_lit(self, ch):
        num = ch[-1]
        value = _number(num)
        if not isinstance(value, int):
            raise _SyntaxProblem(f"expected an integer, found {num}", self._t(num))
        if len(ch) == 2:
            value = -value
        return N.Num(span=self._s(ch), value=value, text=str(value))

    def _const(self, c):
        if isinstance(c, N.Num):
            return c
        if c.type == "STRING":
            return N.Str(span=self._t(c), value=_unquote(c))
        return N.Name(span=self._t(c), id=str(c))

    def relation_decl(self, ch):
        name = _toks(ch, "NAME")[0]
        nodes = _nodes(ch)
        embed = [n for n in nodes if isinstance(n, N.TypeSpec)]
        return N.RelationDecl(span=self._s(ch), name=str(name),
                              params=[n for n in nodes if isinstance(n, N.RelParam)],
                              name_span=self._t(name), embed=embed[0] if embed else None)

    def rel_param(self, ch):
        names = _toks(ch, "NAME")
        # `x: entity` is the seed's spelling of an argument whose domain is inferred.
        return N.RelParam(span=self._s(ch), name=str(names[0]),
                          domain=str(names[1]) if len(names) > 1 else None)

    def tensor_decl(self, ch):
        name = _toks(ch, "NAME")[0]
        mode = _toks(ch, "LEARNABLE", "FROZEN")
        rest = _nodes(ch)
        return N.TensorDecl(span=self._s(ch), name=str(name), type=rest[0],
                            mode=str(mode[0]) if mode else "frozen",
                            init=rest[1] if len(rest) > 1 else None, name_span=self._t(name))

    def type_spec(self, ch):
        generics = _toks(ch, "GENERICS")
        return N.TypeSpec(span=self._s(ch), dtype=str(ch[0]), dims=_nodes(ch),
                          args=_type_args(generics[0]) if generics else [])

    def struct_decl(self, ch):
        name = _toks(ch, "NAME")[0]
        generics = _toks(ch, "GENERICS")
        return N.StructDecl(span=self._s(ch), name=str(name), fields=_nodes(ch),
                            type_params=_type_args(generics[0]) if generics else [],
                            name_span=self._t(name))

    def field_decl(self, ch):
        return N.FieldDecl(span=self._s(ch), name=str(ch[0]), type=ch[2],
                           learnable=bool(_toks(ch, "LEARNABLE")))

    def impl_block(self, ch):
        names = _toks(ch, "NAME")
        generics = _toks(ch, "GENERICS")
        trait = str(names[0]) if _toks(ch, "FOR") else None
        target = names[1] if trait else names[0]
        return N.ImplBlock(span=self._s(ch), type_name=str(target), trait=trait,
                           type_params=_type_args(generics[0]) if generics else [],
                           methods=_nodes(ch), name_span=self._t(target))

    def load_stmt(self, ch):
        name, word, path = ch[1], ch[2], ch[3]
        if str(word) != "from":
            raise _SyntaxProblem(f"expected 'from', found '{word}'", self._t(word))
        return N.Load(span=self._s(ch), name=str(name), path=_unquote(path), name_span=self._t(name))

    def break_stmt(self, ch):
        return N.Break(span=self._s(ch))

    def continue_stmt(self, ch):
        return N.Continue(span=self._s(ch))

    def block_stmt(self, ch):
        return N.Block(span=ch[0].span, body=list(ch[0]))

    def dim(self, ch):
        tok = ch[0]
        span = self._t(tok)
        if tok.type == "QMARK":
            return N.Dim(span=span, kind="any")
        if tok.type == "NUMBER":
            value = _number(tok)
            if not isinstance(value, int):
                raise _SyntaxProblem(f"a dimension must be an integer, found {tok}", span)
            return N.Dim(span=span, kind="int", value=value)
        return N.Dim(span=span, kind="name", value=str(tok))

    def fn_decl(self, ch):
        name = _toks(ch, "NAME")[0]
        nodes = _nodes(ch)
        params = [c for c in nodes if isinstance(c, N.Param)]
        ret = [c for c in nodes if isinstance(c, N.TypeSpec)]
        generics = _toks(ch, "GENERICS")
        return N.FnDecl(span=self._s(ch), name=str(name), params=params,
                        ret=ret[0] if ret else None, body=nodes[-1], name_span=self._t(name),
                        type_params=_type_args(generics[0]) if generics else [])

    def param(self, ch):
        types = _nodes(ch)
        return N.Param(span=self._s(ch), name=str(ch[0]), type=types[0] if types else None)

    def main_block(self, ch):
        return N.MainBlock(span=self._s(ch), body=_nodes(ch)[0])

    def test_block(self, ch):
        name = ch[1]
        return N.TestBlock(span=self._s(ch), body=_nodes(ch)[0],
                           name=_unquote(name) if name.type == "STRING" else str(name))

    def import_stmt(self, ch):
        return N.Import(span=self._s(ch), path=_unquote(ch[1]))

    def learn_block(self, ch):
        items = _nodes(ch)
        settings = [c for c in items if isinstance(c, N.Setting)]
        body = [c for c in items if not isinstance(c, N.Setting)]
        return N.Learn(span=self._s(ch), body=body, settings=settings)

    def setting(self, ch):
        return N.Setting(span=self._t(ch[0]), key=str(ch[0]), value=ch[-1])

    # ---- statements ---------------------------------------------------------------------------
    def block(self, ch):
        return _Block(_nodes(ch), self._s(ch))

    def expr_stmt(self, ch):
        return N.ExprStmt(span=ch[0].span, expr=ch[0])

    def assign(self, ch):
        target, op, value = ch
        _check_target(target)
        return N.Assign(span=self._s(ch), target=target, op=str(op), value=value)

    def update(self, ch):
        """`x += e` is `x = x + e` (also -= *= /=), for a variable, a field or elements (`q[k] += 1`)."""
        target, op, value = ch
        if not (isinstance(target, (N.Name, N.Member)) or
                (isinstance(target, N.Index) and isinstance(target.base, N.Name) and len(target.groups) == 1)):
            raise _SyntaxProblem(f"`{op}` updates a variable, a field or elements, like x {op} 1", target.span)
        combined = N.BinChain(span=Span(target.span.line, target.span.column, value.span.end_line,
                                        value.span.end_column, target.span.file),
                              ops=[str(op)[0]], operands=[copy.deepcopy(target), value])
        return N.Assign(span=self._s(ch), target=target, op="=", value=combined, update=str(op))

    def expr_query(self, ch):
        lit = N.Literal(span=ch[0].span, negated=False, expr=ch[0])
        return N.Query(span=self._s(ch), literals=[lit])

    def query(self, ch):
        return N.Query(span=self._s(ch), literals=_nodes(ch))

    def rule(self, ch):
        return N.Rule(span=self._s([ch[0], ch[2][-1]]), head=ch[0], body=ch[2])

    def body(self, ch):
        return _nodes(ch)

    def literal(self, ch):
        return N.Literal(span=self._s(ch), negated=len(ch) == 2, expr=ch[-1])

    def equal_literal(self, ch):
        # `x = e` in a rule body is the comparison `x == e` (Datalog's spelling).
        span = self._s(ch)
        return N.Literal(span=span, negated=False,
                         expr=N.Compare(span=span, op="==", left=ch[0], right=ch[2]))

    def let_stmt(self, ch):
        name = _toks(ch, "NAME")[0]
        types = [c for c in ch if isinstance(c, N.TypeSpec)]
        return N.Let(span=self._s(ch), name=str(name), type=types[0] if types else None,
                     value=ch[-1], name_span=self._t(name))

    def if_stmt(self, ch):
        nodes = _nodes(ch)
        orelse = None
        if len(nodes) == 3:
            orelse = nodes[2] if isinstance(nodes[2], list) else [nodes[2]]
        return N.If(span=self._s(ch), cond=nodes[0], then=nodes[1], orelse=orelse)

    def _span_to(self, first, last):
        a = self._t(first) if isinstance(first, Token) else getattr(first, "span", first)
        b = self._t(last) if isinstance(last, Token) else getattr(last, "span", last)
        return Span(a.line, a.column, b.end_line, b.end_column, self.file)

    def for_stmt(self, ch):
        name = _toks(ch, "NAME")[0]
        nodes = _nodes(ch)
        iterable = nodes[0]
        if len(nodes) == 3:     # `for i in a..b` is `for i in range(a, b)`
            span = Span(iterable.span.line, iterable.span.column, nodes[1].span.end_line,
                        nodes[1].span.end_column, iterable.span.file)
            iterable = N.Call(span=span, name="range", args=[nodes[0], nodes[1]], kwargs=[],
                              name_span=iterable.span)
        return N.For(span=self._s(ch), var=str(name),
                     iterable=iterable, body=nodes[-1], var_span=self._t(name))

    def while_stmt(self, ch):
        nodes = _nodes(ch)
        return N.While(span=self._s(ch), cond=nodes[0], body=nodes[1])

    def return_stmt(self, ch):
        return N.Return(span=self._s(ch), value=ch[1] if len(ch) > 1 else None)

    # ---- expressions --------------------------------------------------------------------------
    def _chain(self, ch):
        return N.BinChain(span=self._s(ch), ops=[str(t) for t in ch[1::2]], operands=ch[0::2])

    or_expr = and_expr = arith = term = _chain

    def cmp_expr(self, ch):
        return N.Compare(span=self._s(ch), op=str(ch[1]), left=ch[0], right=ch[2])

    def juxt(self, ch):
        return N.Juxt(span=self._s(ch), factors=list(ch))

    def prefix(self, ch):
        return N.Prefix(span=self._s(ch), ops=[str(t) for t in ch[:-1]], operand=ch[-1])

    def neg_arg(self, ch):
        return N.Prefix(span=self._s(ch), ops=["-"], operand=ch[1])

    def power(self, ch):
        return N.Power(span=self._s(ch), operands=ch[0::2])

    def indexed(self, ch):
        base, lsqb, group = ch[0], ch[1], ch[2]
        if isinstance(base, N.Index) and base.span.end_line == lsqb.line and \
                base.span.end_column == lsqb.column:
            # `X[1][2]` is one Index with two groups (`(X[1])[2]` is not).
            return N.Index(span=self._s(ch), base=base.base, groups=base.groups + [group])
        return N.Index(span=self._s(ch), base=base, groups=[group])

    def member(self, ch):
        return N.Member(span=self._s(ch), obj=ch[0], name=str(ch[2]), name_span=self._t(ch[2]))

    def method_call(self, ch):
        args, kwargs = _arguments(_nodes(ch[1:]))
        return N.MethodCall(span=self._s(ch), obj=ch[0], name=str(ch[2]), args=args, kwargs=kwargs,
                            name_span=self._t(ch[2]))

    def path_call(self, ch):
        names = _toks(ch, "NAME")
        args, kwargs = _arguments(_nodes(ch))
        return N.Call(span=self._s(ch), name=f"{names[0]}::{names[1]}", args=args, kwargs=kwargs,
                      name_span=self._span_to(names[0], names[1]))

    def struct_lit(self, ch):
        name = ch[0]
        return N.StructLit(span=self._s(ch), name=str(name), fields=_nodes(ch), name_span=self._t(name))

    def field_init(self, ch):
        return N.FieldInit(span=self._s(ch), name=str(ch[0]), value=ch[2])

    def index_list(self, ch):
        return _nodes(ch)

    def index(self, ch):
        return N.Idx(span=ch[0].span, expr=ch[0])

    def marked_index(self, ch):
        return N.Idx(span=self._s(ch), expr=ch[0], marked=True)

    def slice(self, ch):
        parts, current = [], None
        for c in ch:
            if isinstance(c, Token) and c.type in ("COLON", "PATHSEP"):
                parts.append(current)
                current = None
                if c.type == "PATHSEP":     # `::` is an empty stop between two colons
                    parts.append(None)
            else:
                current = c
        parts.append(current)
        parts += [None] * (3 - len(parts))
        return N.Slice(span=self._s(ch), start=parts[0], stop=parts[1], step=parts[2])

    def name(self, ch):
        return N.Name(span=self._t(ch[0]), id=str(ch[0]))

    def number(self, ch):
        return N.Num(span=self._t(ch[0]), value=_number(ch[0]), text=str(ch[0]))

    def string(self, ch):
        return N.Str(span=self._t(ch[0]), value=_unquote(ch[0]))

    def true(self, ch):
        return N.Bool(span=self._t(ch[0]), value=True)

    def false(self, ch):
        return N.Bool(span=self._t(ch[0]), value=False)

    def paren(self, ch):
        return ch[1]

    def tuple(self, ch):
        return N.TupleLit(span=self._s(ch), items=_nodes(ch))

    def list(self, ch):
        return N.ListLit(span=self._s(ch), items=_nodes(ch))

    def call(self, ch):
        name = ch[0]
        args, kwargs = _arguments(_nodes(ch))
        return N.Call(span=self._s(ch), name=str(name), args=args, kwargs=kwargs,
                      name_span=self._t(name))

    def kwarg(self, ch):
        return N.KwArg(span=self._t(ch[0]), name=str(ch[0]), value=ch[-1])


def _arguments(inner):
    """Positional and keyword arguments of a call, keywords last and each once."""
    args = [c for c in inner if not isinstance(c, N.KwArg)]
    kwargs = [c for c in inner if isinstance(c, N.KwArg)]
    if kwargs:
        first_kw = inner.index(kwargs[0])
        if len(args) > first_kw:
            raise _SyntaxProblem("positional argument after a keyword argument", args[first_kw].span)
        seen = set()
        for kw in kwargs:
            if kw.name in seen:
                raise _SyntaxProblem(f"keyword argument '{kw.name}' given twice", kw.span)
            seen.add(kw.name)
    return args, kwargs


def _check_target(target):
    if isinstance(target, (N.Name, N.Member)):
        return
    if isinstance(target, N.Index) and isinstance(target.base, N.Name) and len(target.groups) == 1:
        return          # (slices set elements of a value: check/resolve.py)
    raise _SyntaxProblem("the left side of `=` must be a name or a name with indices, like Y[i, j]",
                         target.span)


def _number(tok):
    text = str(tok)
    if not text.isdigit():
        return float(text)
    if len(text) > MAX_INT_DIGITS:
        raise _SyntaxProblem(f"an integer literal of {len(text):,} digits is too long (at most {MAX_INT_DIGITS})",
                             _tok_span(tok))
    return int(text)


def _unquote(tok) -> str:
    try:
        return _pyast.literal_eval(str(tok))
    except (ValueError, SyntaxError):
        return str(tok)[1:-1]


_READABLE = {
    "_SEP": "end of line", "$END": "end of input", "NAME": "a name", "NUMBER": "a number",
    "STRING": "a string", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'",
    "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "ARROW": "'<-'", "RARROW": "'->'",
    "PROJ": "'max='/'avg='/'min='", "UPDATE": "'+='", "CMP": "a comparison", "ASSIGN": "'='", "POW": "'^'",
    "MINUS": "'-'", "PLUS": "'+'", "STAR": "'*'", "SLASH": "'/'", "PERCENT": "'%'", "AT": "'@'",
    "OROR": "'||'", "ANDAND": "'&&'", "BANG": "'!'", "DOT": "'.'", "DOTDOT": "'..'",
    "COLON": "':'", "QMARK": "'?'", "FIELDDOT": "'.'", "PATHSEP": "'::'", "COLONEQ": "':='",
    "SLBRACE": "'{'", "GENERICS": "type arguments",
}


def _readable(term: str) -> str:
    if term in _READABLE:
        return _READABLE[term]
    return f"'{term.lower()}'" if term.isalpha() else term


_EXPR_START = {"NAME", "NUMBER", "STRING", "LPAR", "LSQB", "MINUS", "PLUS", "BANG", "TRUE", "FALSE"}


def _expected_list(terms) -> list[str]:
    terms = {t for t in terms if not t.startswith("__")}
    out = []
    if {"NAME", "NUMBER", "LPAR"} <= terms:
        out.append("an expression")
        terms -= _EXPR_START
    return out + sorted(_readable(t) for t in terms)


def _reserved(tok: Token, expected) -> str:
    """Why a keyword cannot stand where a name is expected (`fn main()`, `let in = 1`)."""
    if "a name" not in expected or not str(tok).isalpha() or tok.type != str(tok).upper():
        return ""
    if tok.type == "MAIN":
        return " (a reserved word: the program's entry block is written `main { ... }`)"
    return " (a reserved word)"


def _foreign(tok: Token, text: str) -> str | None:
    """The message for a token that a Prolog or clingo habit (or an unclosed comment) put there:
    what the language writes instead."""
    if tok.type in ("$END", "_SEP") or tok.line is None:
        return None
    after = source_line(text, tok.line)[tok.column - 1:]
    if after.startswith("/*"):
        return "unterminated comment: this `/*` has no closing `*/`"
    if after.startswith(":-"):
        return "unexpected ':-': a rule is written `Head <- Body` (or with `←`); `:-` is Prolog's and clingo's"
    if after.startswith("?-"):
        return "unexpected '?-': a query is the atom followed by `?`, like Edge(x, y)?"
    if after.startswith(".") and after[1:].split("//")[0].strip() == "":
        return "unexpected '.': statements end at a newline or ';' (the full stop of Prolog and clingo is not used)"
    return None


# Operators of the seed's reference with no meaning of their own here: what to write instead.
_SEED_OPERATORS = {
    "\u2248": "unexpected '\u2248': approximate equality is no operator here; write abs(a - b) < tolerance",
    "~": "unexpected '~': an equation is written with `=` (the seed's approximate equation `~` has no "
         "meaning of its own; to fit a tensor to data, minimise a loss in `learn { }`)",
}


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_SEP":
        return "end of line" if str(tok) != ";" else "';'"
    return f"'{tok}'"


def parse(text: str, filename: str = "<string>") -> N.Program:
    """Parses `.tl` source into a `Program`; raises `TensorLogicSyntaxError` with file, line, column
    and a caret on any syntax error."""
    def fail(message, span):
        return located(TensorLogicSyntaxError, message, filename,
                       None if span is None else Span(span.line, span.column, span.end_line, span.end_column, filename),
                       text)

    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        col = text.index("\x00") - (text.rfind("\n", 0, text.index("\x00")) + 1) + 1
        raise fail("NUL character in source", Span(line, col))
    try:
        rest, facts = split_facts(text, filename)
        tree = _parser().parse(rest)
        items = _merge(_ToAst(filename).transform(tree), facts)
    except (_LayoutError, SeedWordError) as e:
        raise fail(str(e), _tok_span(e.token)) from None
    except VisitError as e:
        if isinstance(e.orig_exc, _SyntaxProblem):
            raise fail(str(e.orig_exc), e.orig_exc.span) from None
        raise
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else ""
        what = "unterminated string" if ch == '"' else _SEED_OPERATORS.get(ch, f"unexpected character {ch!r}")
        raise fail(what, Span(e.line, e.column)) from None
    except UnexpectedToken as e:
        tok = e.token
        expected = _expected_list(e.expected)
        hint = f"; expected {', '.join(expected[:8])}" if expected else ""
        if len(expected) > 8:
            hint += ", ..."
        if tok.type == "$END" or tok.line is None:
            line, col = _end_position(text)
            end_line = end_col = None
        else:
            line, col = tok.line, tok.column
            end_line, end_col = (None, None) if tok.type == "_SEP" else (tok.end_line, tok.end_column)
        foreign = _foreign(tok, text)
        if foreign is not None:
            raise fail(foreign, Span(line, col, end_line, end_col)) from None
        raise fail(f"unexpected {_describe_token(tok)}{_reserved(tok, expected)}{hint}",
                   Span(line, col, end_line, end_col)) from None
    except UnexpectedEOF:
        raise fail("unexpected end of input", Span(*_end_position(text))) from None
    except UnexpectedInput as e:
        raise fail("syntax error", Span(getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1)) from None
    return N.Program(span=Span(1, 1, file=filename), items=items, filename=filename, text=text)


def _merge(items, facts):
    """The parsed items and the fast path's fact blocks (in line order), in line order."""
    if not facts:
        return items
    out, k = [], 0
    for item in items:
        while k < len(facts) and facts[k].span.line < item.span.line:
            out.append(facts[k])
            k += 1
        out.append(item)
    return out + facts[k:]


def _end_position(text: str) -> tuple[int, int]:
    """Line and column just after the last non-blank character."""
    stripped = text.rstrip()
    line = stripped.count("\n") + 1
    return line, len(stripped) - (stripped.rfind("\n") + 1) + 1
