"""The seed reference's word forms (syntax/seed_words.py): `rule`, `query ... where`, `infer`, `and`
`or` `not` on values, `concept` arguments and `rank` mean what the language's own spellings mean;
`embedding` blocks declare a domain and a learnable table; `infer gradient`, `~` and `≈` are located
errors saying what to write; the words stay free as names."""
import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.lang import TensorLogicSyntaxError, TensorLogicTypeError

from fuzz_logic_clingo import clingo_model


def out(src, capsys):
    lang.run(src, "prog.tl")
    return capsys.readouterr().out


def edges(rng):
    """A random graph over six nodes (at least one edge)."""
    pairs = {(f"n{a}", f"n{b}") for a, b in rng.integers(0, 6, size=(int(rng.integers(4, 12)), 2))}
    return sorted(pairs)


def test_each_word_form_prints_what_the_plain_form_prints(capsys):
    rng = np.random.default_rng()
    facts = "".join(f"Edge({a}, {b})\n" for a, b in edges(rng))
    start = facts.split("(")[1].split(",")[0]
    seed = (f"{facts}rule Reach(x, y) <- Edge(x, y)\nrule Reach(x, z) <- Reach(x, y), Edge(y, z)\n"
            f"main {{\n    query Reach({start}, y)\n    query Reach(x, y) where x != y and y != {start}\n"
            f"    infer forward Reach(x, x)?\n    infer {{\n        backward Reach(x, {start})?\n"
            f"        forward Edge(x, y)?\n    }}\n}}\n")
    plain = (f"{facts}Reach(x, y) <- Edge(x, y)\nReach(x, z) <- Reach(x, y), Edge(y, z)\n"
             f"main {{\n    Reach({start}, y)?\n    Reach(x, y), x != y, y != {start}?\n    Reach(x, x)?\n"
             f"    {{\n        Reach(x, {start})?\n        Edge(x, y)?\n    }}\n}}\n")
    assert out(seed, capsys) == out(plain, capsys)
    model = clingo_model(facts.replace("Edge", "edge").replace("\n", ".\n") +
                         "reach(X, Y) :- edge(X, Y). reach(X, Z) :- reach(X, Y), edge(Y, Z).\n")
    prog = lang.run(seed)
    got = {(r["x"], r["y"]) for r in prog.query("Reach(x, y)")}
    assert got == model.get("reach", set())


def test_a_where_list_may_continue_on_the_next_line(capsys):
    src = "E(a, b)\nE(b, b)\nE(b, c)\nmain {\n    query E(x, y)\n        where x != y,\n        y != c\n}\n"
    assert out(src, capsys) == "x = a, y = b\n"


def test_and_or_not_on_values(capsys):
    src = ("let t = true\nlet f = false\nprint(t and f, t or f, not t, not f and t, f or not f)\n"
           "if not f and t { print(\"in\") }\nlet n = 3\nwhile n > 0 and not (n == 1) { n = n - 1 }\nprint(n)\n")
    assert out(src, capsys) == "false true false true true\nin\n1\n"


def test_not_in_a_rule_body_stays_negation(capsys):
    src = "P(a)\nP(b)\nQ(b)\nR(x) <- P(x), not Q(x)\nS(x) <- P(x), !Q(x)\nR(x)?\nS(x)?\n"
    assert out(src, capsys) == "x = a\nx = a\n"


def test_the_words_stay_free_as_names(capsys):
    src = ("let query = 2\nlet rule = 3\nlet infer = 4\nprint(query + rule * infer)\n"
           "tensor X: float16[3] = [-1.0, 2.0, -3.0]\nprint(where(X > 0, X, 0.0))\n"
           "E(a, b)\nmain {\n    query E(x, y) where y == b\n}\n")
    assert out(src, capsys) == "14\n[0., 2., 0.]\nx = a, y = b\n"


@pytest.mark.parametrize("init, check", [
    ("random", lambda e, n, d: np.abs(e).max() <= 0.1 and e.std() > 0.04),
    ("xavier", lambda e, n, d: np.abs(e).max() <= np.sqrt(6 / (n + d)) + 1e-3 and
     abs(e.std() / np.sqrt(2 / (n + d)) - 1) < 0.15),
    ("he", lambda e, n, d: abs(e.std() / np.sqrt(2 / d) - 1) < 0.15 and abs(e.mean()) < 0.1),
    ("zeros", lambda e, n, d: (e == 0).all()),
    ("ones", lambda e, n, d: (e == 1).all()),
])
def test_an_embedding_block_declares_its_domain_and_table(init, check):
    names = [f"e{k}" for k in range(64)]
    src = f"embedding E {{\n    entities: {{{', '.join(names)}}}\n    dimension: 32\n    init: {init}\n}}\n"
    prog = lang.run(src + "let row = E[\"e5\"]\n")
    table = prog["E"].numpy().astype(np.float64)
    assert table.shape == (64, 32) and prog.domain("E_entities") == names
    assert check(table, 64, 32), (table.min(), table.max(), table.std())
    np.testing.assert_array_equal(prog["row"].numpy(), prog["E"].numpy()[5])


def test_concept_arguments_and_rank(capsys):
    src = ("relation Role(p: entity, r: concept)\nRole(ada, engineer)\nRole(ben, manager)\nRole(x, manager)?\n"
           "print(rank(ones([2, 3, 4])), rank(ones([5])), rank(2.0))\n")
    assert out(src, capsys) == "x = ben\n3 1 0\n"


@pytest.mark.parametrize("src, line, col, words", [
    ("E(a, b)\nmain {\n    infer gradient E(a, x)?\n}\n", 3, 11, "'infer gradient' has no meaning here"),
    ("E(a, b)\ninfer {\n    symbolic E(a, x)?\n}\n", 3, 5, "'infer symbolic' has no meaning here"),
    ("tensor W: float16[2] = [1.0, 2.0]\nY ~ W * 2.0\n", 2, 3, "an equation is written with `=`"),
    ("let a = 1.0\nprint(a \u2248 1.0)\n", 2, 9, "write abs(a - b) < tolerance"),
    ("E(a, b)\ninfer {\n    forward\n}\n", 3, 5, "'forward' needs a query after it"),
    ("main {\n    embedding people { entities: {a}, dimension: 4 }\n}\n", 2, 5, "write it at the top level"),
    ("embedding people { entities: {}, dimension: 4 }\n", 1, 1, "lists at least one entity"),
    ("embedding people { entities: {a}, dimension: 0, init: he }\n", 1, 46, "whole number of at least 1"),
    ("embedding people {\n    entities: auto\n    dimension: 4\n}\n", 2, 15, "`entities: auto` is absent"),
    ("embedding people {\n    entities: {a, b}\n}\n", 1, 1, "needs `entities: {...}` and `dimension: n`"),
    ("embedding people {\n    entities: {a, b}\n    dimension: 4\n    init: glorot\n}\n", 4, 11,
     "unknown init 'glorot'"),
    ("embedding people {\n    entities: {a, b}\n    size: 4\n}\n", 3, 5, "has no setting 'size'"),
])
def test_seed_forms_without_a_meaning_here_are_located_errors(src, line, col, words):
    with pytest.raises(TensorLogicSyntaxError) as info:
        lang.run(src, "prog.tl")
    err = info.value
    assert words in str(err) and (err.lineno, err.offset) == (line, col), str(err)


@pytest.mark.parametrize("src, line, col, where", [
    ("S(a, 3)\nS(b, 9)\nmain {\n    query S(p, s) where s > 8 or s < 4\n}\n", 4, 25, "a query"),
    ("S(a, 3)\nrule H(s) <- S(_, s), s > 8 || s < 4\nH(s)?\n", 2, 23, "a rule's body"),
])
def test_or_between_conditions_is_a_located_error(src, line, col, where):
    """A where list and a rule body are conjunctions: `or` there says so (it said only what they hold)."""
    with pytest.raises(TensorLogicTypeError) as info:
        lang.run(src, "prog.tl")
    err = info.value
    assert f"{where} is a conjunction" in str(err) and (err.lineno, err.offset) == (line, col), str(err)
