"""A Pygments lexer for `.tl` (registered under the `pygments.lexers` entry point, so `pygmentize`,
MkDocs, Sphinx and Jupyter highlight `.tl`).

The keyword list is read from the Lark grammar (every terminal whose pattern is a quoted word) and
from the seed word pass (`rule`, `query`, `infer`, ...: keywords only where a name or a block follows,
as there), the built-in names from the checker's catalog, so the lexer cannot drift from the language.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

from .check.catalog import BUILTINS, LEARN_SETTINGS
from .syntax import seed_words
from .syntax.grammar import KEYWORDS as GRAMMAR_KEYWORDS

KEYWORDS = sorted(set(GRAMMAR_KEYWORDS) | set(seed_words.KEYWORDS) | set(seed_words.OPERATOR_WORDS))
# A seed word is a keyword where a name or a block follows it (`rule H(x) <- ...`, `infer {`), not in
# `query(x)` or the built-in call `embedding(...)`.
SEED_WORD_FOLLOWS = r"\b(?=[ \t]+[\w{])"
OPERAND_FOLLOWS = r"\b(?=[ \t]+[\w(!\"-])"      # `a and (b or c)`, `a or !b`
CONSTANTS = {"true", "false"}
DECLARATIONS = {"domain", "entity", "relation", "tensor", "fn", "struct", "impl", "let"}
# Rule arrows, projections and the multi-character operators first, so the longest match wins.
OPERATORS = ["<-", "\u2190", "->", ":=", "::", "==", "!=", "<=", ">=", "&&", "||",
             "**", "..", "+=", "-=", "*=", "/=", "<", ">", "=", "+", "-", "*", "/", "%", "@", "^",
             "!", "?", "."]
TYPES = {"float16", "f16", "f32", "int32", "int", "float", "bool", "string", "void"}


class TensorLogicLexer(RegexLexer):
    """Highlights `.tl` programs: keywords, built-ins, declared names, constants, operators."""
    name = "TensorLogic"
    aliases = ["tensorlogic", "tl"]
    filenames = ["*.tl"]
    mimetypes = ["text/x-tensorlogic"]

    tokens = {
        "root": [
            (r"\s+", Text),
            (r"//[^\n]*", Comment.Single),
            # An unclosed comment is highlighted to the end: with the closed form alone, every later `/*` scanned
            # to the end again (100 KB of `/* " ` took three minutes to highlight).
            (r"/\*[\s\S]*?\*/", Comment.Multiline),
            (r"/\*[\s\S]*", Comment.Multiline),
            (r'"([^"\\\n]|\\.)*"', String),
            (r"\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (words(sorted(CONSTANTS), suffix=r"\b"), Keyword.Constant),
            (words(sorted(DECLARATIONS), suffix=r"\b"), Keyword.Declaration),
            (words([k for k in GRAMMAR_KEYWORDS if k not in CONSTANTS | DECLARATIONS], suffix=r"\b"), Keyword),
            (words(seed_words.KEYWORDS, suffix=SEED_WORD_FOLLOWS), Keyword),
            (words(seed_words.OPERATOR_WORDS, suffix=OPERAND_FOLLOWS), Operator.Word),
            (r"(max|min|avg)=(?!=)", Operator),  # projections (`Pooled[i] max= X[i]`) before the builtins
            (words(sorted(BUILTINS), suffix=r"\b(?=\s*\()"), Name.Builtin),
            (words(sorted(TYPES), suffix=r"\b"), Keyword.Type),
            (words(sorted(LEARN_SETTINGS), suffix=r"(?=\s*:(?!:))"), Name.Attribute),
            (r"(?!\d)\w+'*", Name),
            (words(OPERATORS), Operator),
            (r"[()\[\]{},;:]", Punctuation),
        ],
    }
