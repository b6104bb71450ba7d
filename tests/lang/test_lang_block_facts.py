"""Facts written inside functions, loops, `if` blocks and `main` (LANGUAGE.md section 5): each adds
its tuple when it runs, and later queries and rules see it; the closure of facts added in a loop
is checked against clingo's."""
import random

import clingo
import pytest

from tensorlogic import lang
from tensorlogic.errors import TensorLogicTypeError


def rows(prog, query):
    return {tuple(r.values()) for r in prog.query(query)}


def clingo_closure(edges):
    """Path = the transitive closure of edges, as clingo computes it."""
    ctl = clingo.Control(["--warn=none"])
    facts = "".join(f"edge({a},{b}). " for a, b in edges)
    ctl.add("base", [], facts + "path(X,Y) :- edge(X,Y). path(X,Z) :- path(X,Y), edge(Y,Z).")
    ctl.ground([("base", [])])
    out = set()
    ctl.solve(on_model=lambda m: out.update(
        (s.arguments[0].number, s.arguments[1].number) for s in m.symbols(atoms=True) if s.name == "path"))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_loop_facts_closure_matches_clingo(seed):
    rng = random.Random(seed)
    n = rng.randint(4, 9)
    edges = sorted({(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(3, 2 * n))})
    src = (f"let src = {[a for a, _ in edges]}\nlet dst = {[b for _, b in edges]}\n"
           f"for k in range({len(edges)}) {{ Edge(src[k], dst[k]) }}\n"
           "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n")
    prog = lang.run(src)
    assert rows(prog, "Edge(x, y)") == set(edges)
    assert rows(prog, "Path(x, y)") == clingo_closure(edges)


def test_loop_adds_one_fact_per_iteration_with_values():
    prog = lang.run("for i in range(5) { Edge(i, i + 1) }\n"
                    "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n")
    assert rows(prog, "Edge(x, y)") == {(i, i + 1) for i in range(5)}
    assert rows(prog, "Path(0, y)") == {(y,) for y in range(1, 6)}


def test_queries_see_facts_added_before_them(capsys):
    lang.run("Seen(x)?\nlet k = 0\nwhile k < 2 { Seen(k) ; k = k + 1 }\nSeen(x)?\n")
    assert capsys.readouterr().out.split() == ["false", "x", "=", "0", "x", "=", "1"]


def test_function_called_twice_adds_its_facts_each_time():
    prog = lang.run('fn link(a, b) { Link(a, b) ; Link(b, hub) }\n'
                    'link("x", "y")\nlink("x", "z")\nlink("x", "y")\n'
                    'Hub(p) <- Link(p, hub)\n')
    assert rows(prog, "Link(p, q)") == {("x", "y"), ("x", "z"), ("y", "hub"), ("z", "hub")}
    assert rows(prog, "Hub(p)") == {("y",), ("z",)}


def test_fact_under_if_only_when_its_branch_runs():
    prog = lang.run("for i in range(6) { if i % 2 == 0 { Even(i) } else { Odd(i) } }\n")
    assert rows(prog, "Even(x)") == {(0,), (2,), (4,)}
    assert rows(prog, "Odd(x)") == {(1,), (3,), (5,)}


def test_main_variables_are_values_and_constant_facts_are_declarations():
    prog = lang.run("main {\n  Known(early)\n  let n = 3\n  Size(n)\n  Size(n * 2)\n"
                    "  Reach(x, y) <- Known(x), Size(y)\n}\n")
    assert rows(prog, "Size(v)") == {(3,), (6,)}
    assert rows(prog, "Reach(x, y)") == {("early", 3), ("early", 6)}


def test_block_facts_take_declared_domains():
    src = ('domain Node = {a, b, c}\nrelation Edge(Node, Node)\n'
           'for n in ["a", "c"] { Edge(n, b) }\n')
    assert rows(lang.run(src), "Edge(x, y)") == {("a", "b"), ("c", "b")}
    with pytest.raises(TensorLogicTypeError, match="'d' .* is not in domain Node") as info:
        lang.run(src.replace('"c"', '"d"'))
    assert info.value.lineno == 3


@pytest.mark.parametrize("src, line, fragment", [
    ("fn f(a) { A(x) <- B(x) }\n", 1, "write it at the top level or directly inside `main`"),
    ("for i in range(2) { A(x) <- B(x, i) }\n", 1, "write it at the top level or directly inside `main`"),
    ("Edge(a, b)\nfn f() { Edge(a) }\n", 2, "relation 'Edge' takes 2 arguments"),
    ("domain D = {a}\nfor i in range(2) { D(i) }\n", 2, "not a relation"),
])
def test_unsupported_or_wrong_block_facts_are_type_errors(src, line, fragment):
    with pytest.raises(TensorLogicTypeError, match=fragment) as info:
        lang.compile(src)
    assert info.value.lineno == line


@pytest.mark.parametrize("value, shown", [("2.5", "2.5"), ("[1, 2]", "a list"), ("true", "a boolean")])
def test_fact_arguments_must_be_integers_or_strings(value, shown):
    with pytest.raises(TensorLogicTypeError, match=f"must be an integer or a string, not {shown}") as info:
        lang.run(f"let h = {value}\nif true {{ Val(h) }}\n")
    assert info.value.lineno == 2


def test_calls_in_blocks_stay_calls():
    prog = lang.compile("fn helper(n) { n + 1 }\nfor i in range(2) { manual_seed(i) ; helper(i) }\n")
    assert "manual_seed" not in prog and "helper" not in prog
    with pytest.raises(TensorLogicTypeError, match="unknown function 'prnt'; did you mean 'print'"):
        lang.compile('fn f() { prnt("x") }\n')


def test_no_facts_while_a_definition_is_evaluated():
    src = "tensor X: float16[3] = [1, 2, 3]\nfn f(x) { Seen(1) ; x * 2 }\nY[i] = f(X[i])\nY?\n"
    with pytest.raises(TensorLogicTypeError, match="cannot be added while a rule or equation is evaluated") as info:
        lang.run(src)
    assert info.value.lineno == 2
    prog = lang.run("fn f(x) { Seen(x) ; x * 2 }\nlet y = f(3)\n")      # from a statement it is a fact
    assert rows(prog, "Seen(v)") == {(3,)} and prog["y"] == 6
