"""The seed reference's word spellings, rewritten into the language's own tokens before the layout
pass sees them (docs/language.md, "The seed's word forms"):

- `rule H(x) <- ...` is the rule `H(x) <- ...`;
- `query A(x, y) where x != y` is the query `A(x, y), x != y?` (`and` between conditions is `,`);
- `infer forward Q?` and `infer backward Q?` are the query `Q?` (forward chaining reads the fixpoint
  and backward chaining gives the same answers); `infer { forward Q? ... }` is a block of them;
  `infer gradient` and `infer symbolic` have no meaning here and are located errors;
- `embedding E { entities: {a, b}  dimension: 8  init: xavier }` declares the domain `E_entities`
  and the learnable table `E: float16[E_entities, 8]` (`E["a"]` is a's row);
- `a and b`, `a or b`, `not a` in expressions are `a && b`, `a || b`, `!a` (in a rule body, `not`
  stays negation).

Each word is rewritten only where it could not be a name of the program (`rule Foo(...)` at the start
of a statement; `and` between two operands), so programs that name something `query` keep working.
"""
from __future__ import annotations

import math
import re

from lark import Token

_STARTS_OPERAND = {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "LPAR", "LSQB", "MINUS", "BANG", "NOT"}
_ENDS_OPERAND = {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "RPAR", "RSQB"}
# After these `not` negates a value (`let done = not ok`, `if not ok`); elsewhere (a rule's or a
# query's literal) it negates an atom.
_BEFORE_VALUE = {"LPAR", "LSQB", "ASSIGN", "COLONEQ", "CMP", "ANDAND", "OROR", "BANG", "IF", "WHILE", "RETURN",
                 "PLUS", "MINUS", "STAR", "SLASH", "AT", "POW"}
# A query's line continues after these (a `where` list split over lines).
_CONTINUES = {"COMMA", "CMP", "ANDAND", "OROR", "PLUS", "MINUS", "STAR", "SLASH"}
_CHAINING = {"forward", "backward"}
_NO_MEANING = {"gradient", "symbolic"}
# The words this pass reads as keywords where they begin a statement or a clause (a program may still
# name something `query`): the highlighters and the LSP's completion list them from here.
KEYWORDS = ("rule", "query", "where", "infer", "embedding", *sorted(_CHAINING))
OPERATOR_WORDS = ("and", "or")


class SeedWordError(Exception):
    def __init__(self, message, token):
        super().__init__(message)
        self.token = token


def _is(tok, word):
    return tok is not None and tok.type == "NAME" and str(tok) == word


def _as(kind, text, tok):
    return Token.new_borrow_pos(kind, text, tok)


# `init:` of an embedding block -> its table's initialiser for n entities of dimension d (PyTorch's
# uniform(-0.1, 0.1), xavier_uniform_, kaiming_normal_ over the d columns, zeros, ones).
_INITS = {
    "random": lambda n, d: f"rand({n}, {d}) * 0.2 - 0.1",
    "xavier": lambda n, d: f"(rand({n}, {d}) * 2 - 1) * {math.sqrt(6 / (n + d)):.6f}",
    "he": lambda n, d: f"randn({n}, {d}) * {math.sqrt(2 / d):.6f}",
    "zeros": lambda n, d: f"zeros({n}, {d})",
    "ones": lambda n, d: f"ones({n}, {d})",
}
_EXPR_TOKENS = [("NUMBER", r"\d+(\.\d+)?"), ("NAME", r"[a-z]+"), ("LPAR", r"\("), ("RPAR", r"\)"),
                ("COMMA", ","), ("STAR", r"\*"), ("MINUS", "-"), ("WS", " ")]


def _embedding(toks, k):
    """`embedding E { entities: {a, b, c}  dimension: 8  init: xavier }` (settings apart by newlines or
    commas) -> the tokens of `domain E_entities = {a, b, c}; tensor E: float16[E_entities, 8]
    learnable = <init>`, and the index after the block's `}`."""
    keyword, name = toks[k], toks[k + 1]
    j, settings, members = k + 3, {}, []
    while j < len(toks) and toks[j].type != "RBRACE":
        if toks[j].type in ("_SEP", "COMMA"):
            j += 1
            continue
        key = toks[j]
        if key.type != "NAME" or j + 2 >= len(toks) or toks[j + 1].type != "COLON":
            raise SeedWordError("an embedding block holds `entities: {...}`, `dimension: n` and `init: kind`", key)
        value = toks[j + 2]
        if str(key) == "entities" and value.type == "LBRACE":
            j += 3
            while j < len(toks) and toks[j].type != "RBRACE":
                if toks[j].type != "_SEP":
                    members.append(toks[j])
                j += 1
            settings["entities"] = members
            j += 1
            continue
        elif str(key) == "entities":
            raise SeedWordError("`entities: auto` is absent: an embedding's table has a row per entity from the "
                                "start; list them (entities: {alice, bob})", value)
        elif str(key) not in ("dimension", "init"):
            raise SeedWordError(f"an embedding block has no setting '{key}' (entities, dimension, init)", key)
        settings[str(key)] = value
        j += 3
    dim, init = settings.get("dimension"), settings.get("init")
    if "entities" not in settings or dim is None:
        raise SeedWordError("an embedding block needs `entities: {...}` and `dimension: n`", keyword)
    if dim.type != "NUMBER" or not str(dim).isdigit() or int(str(dim)) == 0:
        raise SeedWordError("an embedding's dimension is a whole number of at least 1", dim)
    if init is not None and str(init) not in _INITS:
        raise SeedWordError(f"unknown init '{init}' (random, xavier, he, zeros, ones)", init)
    n = sum(1 for m in members if m.type != "COMMA")
    if n == 0:
        raise SeedWordError("an embedding block lists at least one entity", keyword)
    domain = f"{name}_entities"
    # The declared names take the place of the block's name (where tools point for their definitions).
    out = [_as("DOMAIN", "domain", keyword), _as("NAME", domain, name), _as("ASSIGN", "=", keyword),
           _as("LBRACE", "{", keyword)] + members
    out += [_as(kind, text, keyword) for kind, text in [("RBRACE", "}"), ("_SEP", ";"), ("TENSOR", "tensor")]]
    out.append(name)
    out += [_as(kind, text, keyword) for kind, text in [
        ("COLON", ":"), ("NAME", "float16"), ("LSQB", "["), ("NAME", domain), ("COMMA", ","), ("NUMBER", str(dim)),
        ("RSQB", "]"), ("LEARNABLE", "learnable"), ("ASSIGN", "=")]]
    text = _INITS[str(init) if init is not None else "random"](n, int(str(dim)))
    for m in re.finditer("|".join(f"(?P<{kind}>{rx})" for kind, rx in _EXPR_TOKENS), text):
        if m.lastgroup != "WS":
            out.append(_as(m.lastgroup, m.group(), keyword))
    return out, j + 1


def seed_words(stream):
    toks = list(stream)
    out = []
    depth = 0               # open ( and [
    braces = []             # for each open {: whether it is an `infer { }` block
    query_depth = None      # the depth of the `query` statement being read, else None
    k = 0

    def at(j):
        return toks[j] if j < len(toks) else None

    def next_significant(j):
        while j < len(toks) and toks[j].type == "_SEP" and str(toks[j]) != ";":
            j += 1
        return at(j)

    def statement_start():
        return depth == 0 and (not out or out[-1].type in ("_SEP", "LBRACE", "RBRACE"))

    def end_query(tok):
        nonlocal query_depth
        out.append(_as("QMARK", "?", tok))
        query_depth = None

    while k < len(toks):
        tok, nxt = toks[k], at(k + 1)
        prev = out[-1] if out else None
        if query_depth is not None and depth == query_depth:
            ends = tok.type == "RBRACE" or (tok.type == "_SEP" and (str(tok) == ";" or (
                prev.type not in _CONTINUES and not _is(next_significant(k), "where"))))
            if ends:
                end_query(prev)
            elif tok.type == "_SEP":            # the query goes on on the next line
                k += 1
                continue
            elif _is(tok, "where") or (tok.type == "ANDAND") or (_is(tok, "and") and prev.type in _ENDS_OPERAND):
                out.append(_as("COMMA", ",", tok))
                k += 1
                continue
        if statement_start() and tok.type == "NAME":
            word = str(tok)
            if word == "infer" and nxt is not None and nxt.type == "LBRACE":
                out.append(nxt)
                braces.append(True)
                k += 2
                continue
            in_infer = word == "infer" or (braces and braces[-1] and word in _CHAINING | _NO_MEANING)
            mode = nxt if word == "infer" else tok
            if in_infer and mode is not None and mode.type == "NAME":
                if str(mode) in _NO_MEANING:
                    raise SeedWordError(f"'infer {mode}' has no meaning here: a query is answered from the "
                                        f"rules' fixpoint; write it as the atom followed by `?` (`infer forward` "
                                        f"and `infer backward` give the same answers)", mode)
                if str(mode) in _CHAINING:
                    k += 2 if word == "infer" else 1
                    if at(k) is None or at(k).type in ("_SEP", "RBRACE"):
                        raise SeedWordError(f"'{mode}' needs a query after it, like {mode} Edge(a, x)?", mode)
                    continue
            if word == "embedding" and nxt is not None and nxt.type == "NAME" and at(k + 2) is not None \
                    and at(k + 2).type == "LBRACE":
                if braces:
                    raise SeedWordError("an embedding block declares a domain and a tensor: write it at the "
                                        "top level of the program, outside main and functions", tok)
                declared, k = _embedding(toks, k)
                out.extend(declared)
                continue
            if word == "rule" and nxt is not None and nxt.type == "NAME":
                k += 1
                continue
            if word == "query" and nxt is not None and nxt.type == "NAME":
                query_depth = depth
                k += 1
                continue
        if tok.type == "NAME" and str(tok) in ("and", "or") and prev is not None and prev.type in _ENDS_OPERAND \
                and nxt is not None and nxt.type in _STARTS_OPERAND:
            tok = _as("ANDAND", "&&", tok) if str(tok) == "and" else _as("OROR", "||", tok)
        elif tok.type == "NOT" and prev is not None and (prev.type in _BEFORE_VALUE or
                                                          (prev.type == "COMMA" and depth)):
            tok = _as("BANG", "!", tok)
        if tok.type in ("LPAR", "LSQB"):
            depth += 1
        elif tok.type in ("RPAR", "RSQB"):
            depth = max(depth - 1, 0)
        elif tok.type == "LBRACE":
            braces.append(False)
        elif tok.type == "RBRACE" and braces:
            braces.pop()
        out.append(tok)
        k += 1
    if query_depth is not None and out:
        end_query(out[-1])
    return out
