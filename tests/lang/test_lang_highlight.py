"""The Pygments lexer and the TextMate grammar against the Lark grammar, read at test time so that
neither can drift: every keyword, operator and built-in is highlighted as one, and every program of
the repository lexes with no error token (Pygments) and no unscoped character (TextMate)."""
import functools
import json
import re
import time
from importlib.metadata import entry_points
from pathlib import Path

import lark
import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Operator, Punctuation, Text

from tensorlogic.lang import outline
from tensorlogic.lang.check.catalog import BUILTINS
from tensorlogic.lang.highlight import OPERATORS, TensorLogicLexer
from tensorlogic.lang.syntax import seed_words
from tensorlogic.lang.syntax.grammar import GRAMMAR

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
TEXTMATE = json.loads((VSCODE / "syntaxes" / "tensorlogic.tmLanguage.json").read_text(encoding="utf-8"))
PROGRAMS = sorted(ROOT.glob("examples/*.tl")) + sorted((ROOT / "tests" / "lang" / "programs").glob("*.tl"))
NOT_OPERATORS = {"NAME", "NUMBER", "STRING", "_SEP", "COMMENT", "BLOCK_COMMENT", "WS"}
PUNCTUATION = list("()[]{},;:")


@functools.cache
def _terminals():
    return lark.Lark(GRAMMAR, parser="lalr").terminals


def _keywords():
    return sorted(t.pattern.value for t in _terminals()
                  if isinstance(t.pattern, lark.lexer.PatternStr) and t.pattern.value.isidentifier())


def _operator_terminals():
    return [t for t in _terminals() if t.name not in NOT_OPERATORS
            and not (isinstance(t.pattern, lark.lexer.PatternStr) and t.pattern.value.isidentifier())]


def _samples(terminal):
    """The operator spellings (the lexer's, projections and punctuation) that the terminal matches
    exactly; followed by a letter so that the lookaheads of `.`, `-` and `<` accept them."""
    out = []
    for s in OPERATORS + ["max=", "min=", "avg="] + PUNCTUATION:
        m = re.match(terminal.pattern.to_regexp(), s + "a")
        if m and m.end() == len(s):
            out.append(s)
    return out


def _pygments(text):
    return [(tok, val) for tok, val in TensorLogicLexer().get_tokens(text) if val.strip()]


# ---- a minimal TextMate scanner: per line, the earliest match wins, ties go to the first rule ----
def _compile(rule):
    return {k: re.compile(rule[k], re.M) for k in ("match", "begin", "end") if k in rule}


def _textmate_scopes(text):
    """[(scope, text)] for every matched piece; raises if a non-blank character is left unscoped."""
    rules = [(r["name"], _compile(r)) for r in TEXTMATE["patterns"]]
    out, inside = [], None  # inside: (scope, end regex) of an open begin/end rule
    for lineno, line in enumerate(text.split("\n"), 1):
        pos = 0
        while pos < len(line):
            if inside is not None:
                m = inside[1].search(line, pos)
                stop = m.end() if m else len(line)
                out.append((inside[0], line[pos:stop]))
                inside = None if m else inside
                pos = max(stop, pos + 1) if m else len(line)
                continue
            best = None
            for scope, pats in rules:
                m = pats.get("match", pats.get("begin")).search(line, pos)
                if m and m.end() > m.start() and (best is None or m.start() < best[1].start()):
                    best = (scope, m, pats.get("end"))
            gap = line[pos: best[1].start()] if best else line[pos:]
            assert not gap.strip(), f"line {lineno}: unscoped text {gap.strip()!r}"
            if best is None:
                break
            scope, m, end = best
            out.append((scope, m.group()))
            pos = m.end()
            if end is not None:
                inside = (scope, end)
    return out


def _tm_scope(piece):
    scopes = _textmate_scopes(piece)
    assert len(scopes) == 1 and scopes[0][1] == piece, (piece, scopes)
    return scopes[0][0]


def test_lexer_is_registered_for_pygments():
    names = {ep.name for ep in entry_points(group="pygments.lexers")}
    assert "tensorlogic" in names
    assert isinstance(get_lexer_by_name("tl"), TensorLogicLexer)
    assert isinstance(get_lexer_for_filename("family.tl"), TensorLogicLexer)


def test_vscode_extension_points_at_the_grammar():
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (grammar,) = manifest["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).resolve() == (VSCODE / "syntaxes" / "tensorlogic.tmLanguage.json").resolve()
    assert grammar["scopeName"] == TEXTMATE["scopeName"]
    (language,) = manifest["contributes"]["languages"]
    assert language["extensions"] == [".tl"] and (VSCODE / language["configuration"]).is_file()
    json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("word", _keywords())
def test_every_grammar_keyword_is_a_keyword(word):
    assert [tok in Keyword for tok, _ in _pygments(word)] == [True]
    scope = _tm_scope(word)
    assert scope.startswith(("keyword.", "storage.", "constant.language.")), scope


@pytest.mark.parametrize("terminal", _operator_terminals(), ids=lambda t: t.name)
def test_every_grammar_operator_is_an_operator(terminal):
    samples = _samples(terminal)
    assert samples, f"no highlighter spelling matches terminal {terminal.name}"
    for s in samples:
        toks = _pygments(s)
        assert len(toks) == 1 and (toks[0][0] in Operator or toks[0][0] in Punctuation) and toks[0][1] == s, (s, toks)
        assert _tm_scope(s).startswith(("keyword.operator", "punctuation")), s


def test_every_builtin_is_a_builtin():
    for name in sorted(BUILTINS - set(_keywords())):  # `tensor` is a keyword first
        toks = _pygments(f"{name}(x)")
        assert toks[0] == (Name.Builtin, name), toks
        assert _textmate_scopes(f"{name}(x)")[0] == ("support.function.builtin.tensorlogic", name)


def test_projection_is_not_a_builtin_call():
    assert (Operator, "max=") in _pygments("P[i] max= F[i]")
    assert ("keyword.operator.projection.tensorlogic", "max=") in _textmate_scopes("P[i] max= F[i]")


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_programs_lex_without_errors(path):
    text = path.read_text(encoding="utf-8")
    errors = [val for tok, val in _pygments(text) if tok in Error]
    assert not errors, errors
    _textmate_scopes(text)


def test_an_unclosed_comment_is_highlighted_to_the_end_at_once():
    """Found by attack round 4: with only the closed comment form, each `/*` after an unclosed one scanned to the end
    again (100 KB of `/* " ` took three minutes, a hang for a notebook or a docs build)."""
    start = time.monotonic()
    tokens = _pygments('/* " ' * 20000)
    assert time.monotonic() - start < 10  # linear: a few milliseconds
    assert [tok for tok, _ in tokens if tok is not Text] == [Comment.Multiline]
    assert (Comment.Multiline, "/* a */") in _pygments("/* a */ x /* b")


@pytest.mark.parametrize("word", seed_words.KEYWORDS + seed_words.OPERATOR_WORDS)
def test_seed_words_are_keywords_where_the_seed_forms_use_them(word):
    """`rule`, `query`, `infer`, ... (the seed word pass's own list) are keywords before a name or a block,
    in both highlighters and in the LSP's completion; a relation or a built-in of that name stays a name."""
    operator = word in seed_words.OPERATOR_WORDS
    kind = Operator.Word if operator else Keyword
    for text in (f"{word} X", f"{word} (X)" if operator else f"{word} {{"):
        assert _pygments(text)[0] == (kind, word), text
        scope, piece = _textmate_scopes(text)[0]
        assert piece == word and scope.startswith("keyword."), (text, scope)
    assert not any(_pygments(f"{word}(x)")[0][0] in t for t in (Keyword, Operator.Word))
    assert not _textmate_scopes(f"{word}(x)")[0][0].startswith("keyword.")
    assert (word, "keyword") in outline.completions({})


def test_seed_forms_highlight_their_words():
    text = "rule Anc(x, z) <- Par(x, y), Anc(y, z)\nquery Anc(x, y) where x != y and y != x\ninfer forward Anc(a, y)?\n"
    words = [val for tok, val in _pygments(text) if tok in Keyword or tok in Operator.Word]
    assert words == ["rule", "query", "where", "and", "infer", "forward"]
    scoped = [piece for scope, piece in _textmate_scopes(text) if scope.startswith(("keyword.control", "keyword.operator.word"))]
    assert scoped == words
