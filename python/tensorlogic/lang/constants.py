"""The constants rules hold: integers, names (`a`, `Ann`, or a Python `str` a program loads) and
quoted strings (`"a"`, a `Text`), in clingo's total order.

As in clingo, the string `"a"` and the name `a` are different terms (two tuples `P("a")` and `P(a)`,
matched apart), and every integer orders before every name, and every name before every string; names
compare by their text, strings too.

As Python values a `Text` equals the `str` of its characters (so that rows compare with plain strings
wherever the two kinds are not mixed); the tables that tell constants apart key them by `constant_key`.
"""
from __future__ import annotations


class Text(str):
    """A quoted string constant of the logic: `"a"` in a rule or fact, `tl.lang.Text("a")` from
    Python (query rows hold it; `add_facts` takes it); a name is a plain `str`."""
    __slots__ = ()

    def __repr__(self):
        return f"Text({str.__repr__(self)})"


# The kinds of constants, numbered in clingo's order.
INTEGER, NAME, STRING = 0, 1, 2


def constant_kind(c) -> int:
    return STRING if isinstance(c, Text) else NAME if isinstance(c, str) else INTEGER


def constant_key(c):
    """A constant as a dictionary key that tells a string from the name of the same text."""
    return (STRING, str.__str__(c)) if isinstance(c, Text) else c


def constant_of(k):
    """The constant a `constant_key` stands for."""
    return Text(k[1]) if isinstance(k, tuple) else k


def clingo_order(c):
    """A sort key of a constant in clingo's order (integers by value, then names, then strings, each
    by its text)."""
    k = constant_kind(c)
    return (k, c if k == INTEGER else 0, "" if k == INTEGER else str.__str__(c))


def shown(c) -> str:
    """A constant as a program writes it: a string in quotes, a name or an integer as it is."""
    return '"' + str.__str__(c).replace("\\", "\\\\").replace('"', '\\"') + '"' if isinstance(c, Text) else str(c)
