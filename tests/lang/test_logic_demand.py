"""Queries that bind arguments derive only what they ask for (lang/logic/demand.py, magic sets): their
answers against clingo and against the full evaluation on random graphs with fresh seeds, the work
done (the tuple engine's count of derived tuples) on large graphs, and the cases where the full
evaluation answers instead."""
import random
import re
import warnings

import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.errors import TensorLogicTypeError
from tensorlogic.lang.logic import datalog_text, demand
from tensorlogic.lang.run.datalog import FixpointLimitWarning

from test_logic import clingo_model, random_graph

# Each test runs with the tuple engine on numpy and on engine tensors (the GPU's code, here on the CPU).
pytestmark = pytest.mark.usefixtures("tuple_arrays")

CLOSURE = ["path(X, Y) :- e(X, Y)."]
PATH_QUERIES = ['path("n1", Y)', 'path(X, "n2")', 'path("n0", "n3")', 'b(X), path(X, Y)',
                'path("n1", Y), path(Y, "n1")', 'path("n2", X), X != "n3"', 'path("n1", "n1")', 'path("zz", Y)']
# (rules, queries): the rules of each shape the rewrite meets, queries binding arguments in each way.
PROGRAMS = {
    "right_linear": (CLOSURE + ["path(X, Z) :- e(X, Y), path(Y, Z)."], PATH_QUERIES),
    "left_linear": (CLOSURE + ["path(X, Z) :- path(X, Y), e(Y, Z)."], PATH_QUERIES),
    "nonlinear": (CLOSURE + ["path(X, Z) :- path(X, Y), path(Y, Z)."], PATH_QUERIES),
    "facts_and_rules": (CLOSURE + ["path(X, Z) :- path(X, Y), e(Y, Z).", 'path("n0", "n9").'], PATH_QUERIES),
    "same_generation": (["sg(X, Y) :- e(P, X), e(P, Y), X != Y.", "sg(X, Y) :- e(A, X), sg(A, B), e(B, Y)."],
                        ['sg("n1", Y)', 'sg(X, "n0")', 'sg("n1", "n2")']),
    "mutual": (["odd(X, Y) :- e(X, Y).", "even(X, Z) :- odd(X, Y), e(Y, Z).", "odd(X, Z) :- even(X, Y), e(Y, Z)."],
               ['even("n0", Y)', 'odd(X, "n1")', 'even("n1", Y), odd(Y, Z)']),
    "negation": (CLOSURE + ["path(X, Z) :- path(X, Y), e(Y, Z).", "far(X, Y) :- path(X, Y), not e(X, Y).",
                            "oneway(X, Y) :- far(X, Y), not path(Y, X)."],
                 ['far("n0", Y)', 'oneway("n1", Y)', 'oneway(X, "n2")']),
    "constants_in_rules": (['r(Y) :- e("n0", Y).', "r(Y) :- r(X), e(X, Y), not b(Y).", "u(X, Y) :- e(X, Y).",
                            'u("n1", Z) :- u("n1", Y), e(Y, Z).', 'w(X, "n2") :- u(X, Y), b(Y).'],
                           ['r("n3")', 'u("n1", Y)', 'u("n2", Y)', 'w("n1", Y)', 'w(X, "n2")']),
}


def variables(query):
    return sorted(set(re.findall(r"\b([A-Z])\b", query)))


def compiled(rules, facts, storage):
    prog = lang.compile(datalog_text.program(rules, facts))
    for h in {r.split("(")[0] for r in rules}:
        if storage:
            prog.storage(f"r_{h}", storage)
    return prog


def outcome(prog, query):
    """A query's rows, or its error's message."""
    try:
        return prog.query(datalog_text.translate_rule(query))
    except TensorLogicTypeError as err:
        return str(err)


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("storage", [None, "sparse", "dense"])
def test_bound_queries_match_clingo_and_the_full_evaluation(name, storage, monkeypatch):
    rules, queries = PROGRAMS[name]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    n = rng.randrange(4, 16)
    # (n0..n3 leave an edge each: the queries' constants are in the domain)
    edges = set(random_graph(rng, n, rng.randrange(1, 3 * n))) | {(f"n{k}", f"n{rng.randrange(n)}") for k in range(4)}
    facts = {"e": [list(e) for e in sorted(edges)], "b": [[f"n{rng.randrange(n)}"] for _ in range(rng.randrange(1, 4))]}
    # clingo answers each query as a rule of its own (one with no variable holds q(1))
    asked = [f"q{k}({', '.join(variables(q)) or '1'}) :- {q}." for k, q in enumerate(queries)]
    want = clingo_model([r.replace("P)", "_)") for r in rules] + asked, facts)
    answered = []
    real = demand.answer
    monkeypatch.setattr(demand, "answer", lambda logic, low: answered.append(real(logic, low)) or answered[-1])
    full = compiled(rules, facts, storage)
    with monkeypatch.context() as m:
        m.setattr(demand, "answer", lambda logic, low: None)
        full.run()
        full_rows = [outcome(full, q) for q in queries]
    answered.clear()
    for k, q in enumerate(queries):
        # Each query on a program that computed nothing yet, so that it derives what it asks for.
        got = outcome(compiled(rules, facts, storage), q)
        if isinstance(got, str):    # (the dense path's error for a constant outside the domain)
            assert got == full_rows[k], (seed, q)
            continue
        vs = variables(q)
        rows = {tuple(r[f"v_{v}"] for v in vs) for r in got} if vs else {(1,)} if got else set()
        assert rows == want.get(f"q{k}", set()), (seed, q)
        if "b(" in q:   # (a variable that meets two domains orders rows by the one its plan reads first)
            got, full_rows[k] = sorted(map(repr, got)), sorted(map(repr, full_rows[k]))
        assert got == full_rows[k], (seed, q)
    assert any(a is not None for a in answered), seed


def graph_program(n, edges, rules="Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n", **limits):
    prog = lang.compile(f"domain Node = 0..{n}\nrelation Edge(a: Node, b: Node)\n{rules}", **limits)
    prog.add_facts("Edge", edges)
    return prog


def large_graph(n, rng):
    """A random graph on nodes 100.. (3 edges a node: nearly all reach each other) and, apart from it,
    node 0's tree: 0 -> 1..10, each k -> 10k..10k+9."""
    big = rng.integers(100, n, size=(3 * n, 2))
    tree = [(0, k) for k in range(1, 10)] + [(k, 10 * k + j) for k in range(1, 10) for j in range(10)]
    return np.concatenate([np.array(tree), big]), 9 + 90


def reachable(edges, start):
    out, seen, todo = {}, set(), [start]
    for a, b in edges.tolist():
        out.setdefault(a, []).append(b)
    while todo:
        for y in out.get(todo.pop(), ()):
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return seen


@pytest.mark.parametrize("storage", [None, "sparse"])
def test_a_bound_query_derives_what_is_reachable_not_the_closure(storage):
    # Not timed: the work is the count of tuples derived. The closure of the large component holds
    # about (n - 100)^2 tuples; the query derives one per edge leaving what 0 reaches.
    n, rng = 100_000, np.random.default_rng(random.randrange(1 << 30))
    edges, tree_edges = large_graph(n, rng)
    for rules in ("Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n",
                  "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Edge(x, y), Path(y, z)\n",
                  "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Path(y, z)\n"):
        prog = graph_program(n, edges, rules)
        if storage:
            prog.storage("Path", storage)
        got = prog.query("Path(0, y)")
        assert [r["y"] for r in got] == sorted(reachable(edges, 0))
        work = prog.runtime.logic.tuples_derived
        # (a tuple per tree edge; the right-linear and non-linear rules ask each node of the tree for
        # its own paths, and derive each twice, its atoms' new tuples meeting in one round)
        assert 0 < work <= 4 * tree_edges, (rules, work)
        assert prog.query("Path(0, 55)") is True and prog.query("Path(5, 4)") is False
        assert prog.runtime.logic.tuples_derived - work <= 8 * tree_edges, rules
    # A non-recursive rule binds the constant before its join: Edge(0, y), Edge(y, z), not Edge x Edge.
    two = graph_program(n, edges, "Two(x, z) <- Edge(x, y), Edge(y, z)\n")
    assert [r["z"] for r in two.query("Two(0, z)")] == list(range(10, 100))
    assert two.runtime.logic.tuples_derived <= 2 * tree_edges


def test_a_query_statement_leaves_the_rest_of_the_relation_unevaluated(capsys):
    n, rng = 100_000, np.random.default_rng(random.randrange(1 << 30))
    edges, tree_edges = large_graph(n, rng)
    text = "".join(f"Start({k})\n" for k in (3, 7))
    prog = graph_program(n, edges, "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n" + text +
                         "Path(2, y)?\nStart(s), Path(s, y)?\n")
    prog.run()       # (`tl run` then evaluates what nothing read, which Path was, in part)
    lines = capsys.readouterr().out.splitlines()
    want = [f"y = {y}" for y in range(20, 30)] + [f"s = {s}, y = {y}" for s in (3, 7) for y in range(10 * s, 10 * s + 10)]
    assert lines == want
    assert prog.runtime.logic.tuples_derived <= 6 * tree_edges


def test_a_relation_computed_already_is_read_not_derived_again():
    edges = np.array([(k, k + 1) for k in range(20)])
    prog = graph_program(21, edges)
    prog.storage("Path", "sparse")
    assert len(prog.query("Path(x, y)")) == 20 * 21 // 2
    work = prog.runtime.logic.tuples_derived
    assert [r["y"] for r in prog.query("Path(5, y)")] == list(range(6, 21))
    assert prog.runtime.logic.tuples_derived == work and not prog.runtime.logic.demanded


def test_a_query_that_restricts_little_is_answered_by_the_full_evaluation(monkeypatch):
    # Path(x, 3) through the left-linear rule asks for the ancestors of every ancestor of 3: past its
    # allowance the rewrite gives way to the whole relation (here the allowance is 0).
    monkeypatch.setattr(demand, "ABANDON_FLOOR", 0)
    monkeypatch.setattr(demand, "ABANDON_FACTOR", 0)
    rng = random.Random(random.randrange(1 << 30))
    edges = np.array(sorted({(rng.randrange(40), rng.randrange(40)) for _ in range(80)} | {(0, 3)}))
    prog = graph_program(40, edges)
    want = sorted(x for x in range(40) if 3 in reachable(edges, x))
    assert [r["x"] for r in prog.query("Path(x, 3)")] == want
    assert not prog.runtime.logic.demanded


def test_past_the_iteration_limit_the_full_evaluation_answers(monkeypatch):
    # The rewrite's rounds pass the limit first (its requests go down the chain, then the answers come
    # back up); the full evaluation answers as it would have: completely where it squares the closure
    # (dense), with its own warning where its rounds pass the limit too (sparse).
    edges = np.array([(k, k + 1) for k in range(30)])
    rules = "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Edge(x, y), Path(y, z)\n"
    prog = graph_program(31, edges, rules, max_iterations=20)
    assert [r["y"] for r in prog.query("Path(0, y)")] == list(range(1, 31))
    assert not prog.runtime.logic.demanded

    def sparse_chain():
        prog = graph_program(31, edges, rules, max_iterations=20)
        prog.storage("Path", "sparse")
        return prog.query("Path(0, y)")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = sparse_chain()
    assert any(issubclass(w.category, FixpointLimitWarning) for w in caught)
    monkeypatch.setattr(demand, "answer", lambda logic, low: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FixpointLimitWarning)
        assert got == sparse_chain()
