"""Rules that read a relation in part (lang/logic/demand.py: `From(s, y) <- Start(s), Path(s, y)`
derives Path only from the s in Start), and the rewrite's linear recursions run in the native loop:
relations against clingo and against the full evaluation on random graphs with fresh seeds, the work
done (the tuple engine's count of derived tuples) on large graphs, and deep chains in few Python
rounds."""
import random

import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.lang.logic import datalog_text, demand

from test_logic import clingo_model, random_graph
from test_logic_demand import graph_program, large_graph

pytestmark = pytest.mark.usefixtures("tuple_arrays")

PATHS = {
    "left_linear": ["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), e(Y, Z)."],
    "right_linear": ["path(X, Y) :- e(X, Y).", "path(X, Z) :- e(X, Y), path(Y, Z)."],
    "nonlinear": ["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), path(Y, Z)."],
}
# (rules reading path, the relation they define, the relations read in part)
READERS = {
    "start": (["from(S, Y) :- s(S), path(S, Y)."], "from", {"r_path"}),
    "two_patterns": (["q(X, Y) :- s(X), path(X, Y).", "q(X, Y) :- b(Y), path(X, Y)."], "q", {"r_path"}),
    "twice": (["two(S, Z) :- s(S), path(S, Y), path(Y, Z), Y != Z."], "two", {"r_path"}),
    "recursive_reader": (["hop(S, Y) :- s(S), path(S, Y).", "hop(S, Z) :- hop(S, Y), s(Y), path(Y, Z)."],
                         "hop", {"r_path"}),
    "constant": (['from3(Y) :- path("n3", Y).'], "from3", {"r_path"}),
    "below_a_wrapper": (["via(X, Y) :- path(X, Y), b(X).", "from(S, Y) :- s(S), via(S, Y)."], "from",
                        {"r_via", "r_path"}),
    # Read whole: negated (stratified below), and bound by nothing outside the recursion.
    "negated": (["miss(S, Y) :- s(S), e(Y, _), not path(S, Y)."], "miss", set()),
    "free": (["reach(Y) :- s(Y).", "reach(Y) :- reach(X), path(X, Y)."], "reach", set()),
}


def contents(prog, name, arity):
    names = [f"v_{k}" for k in range(arity)]
    return {tuple(r[v] for v in names) for r in prog.query(f"{name}({', '.join(names)})")}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("path_storage", [None, "sparse"])
def test_rules_read_in_part_match_clingo_and_the_full_evaluation(reader, path_storage, monkeypatch):
    rules, head, parts = READERS[reader]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    n = rng.randrange(4, 16)
    edges = set(random_graph(rng, n, rng.randrange(1, 3 * n))) | {(f"n{k}", f"n{rng.randrange(n)}") for k in range(4)}
    facts = {"e": [list(e) for e in sorted(edges)], "s": [[f"n{rng.randrange(n)}"] for _ in range(rng.randrange(1, 4))],
             "b": [[f"n{rng.randrange(n)}"] for _ in range(rng.randrange(1, 4))]}
    for shape, path in PATHS.items():
        want = clingo_model(path + rules, facts).get(head, set())
        arity = 1 if head in ("reach", "from3") else 2

        def run():
            prog = lang.compile(datalog_text.program(path + rules, facts))
            prog.storage(f"r_{head}", "sparse")     # (the tuple engine reads in part)
            if path_storage:
                prog.storage("r_path", path_storage)
            return prog, contents(prog, f"r_{head}", arity)

        prog, got = run()
        assert got == want, (seed, shape)
        assert prog.runtime.logic.demanded == parts, (seed, shape)
        with monkeypatch.context() as m:
            m.setattr(demand, "restrict", lambda logic, comp: {})
            m.setattr(demand, "read_in_part", lambda logic, comp: (set(), set()))
            full, full_rows = run()
        assert full_rows == want and not full.runtime.logic.demanded, (seed, shape)


@pytest.mark.parametrize("rules", list(PATHS.values()), ids=list(PATHS))
def test_a_rule_bound_by_a_small_relation_derives_what_it_reaches(rules):
    # Not timed: the work is the count of tuples derived. The closure of the large component holds
    # about (n - 100)^2 tuples; From derives one per edge leaving what 3 and 7 reach.
    n, rng = 100_000, np.random.default_rng(random.randrange(1 << 30))
    edges, tree_edges = large_graph(n, rng)
    text = "\n".join(datalog_text.translate_rule(r) for r in rules).replace("r_path", "Path").replace("r_e", "Edge")
    text += "\nrelation Start(a: Node)\nStart(3)\nStart(7)\nFrom(s, y) <- Start(s), Path(s, y)\n"
    text += "Reached(s, count(y)) <- Start(s), Path(s, y)\nFrom?\n"
    prog = graph_program(n, edges, text.replace("v_", ""))
    want = [{"s": s, "y": y} for s in (3, 7) for y in range(10 * s, 10 * s + 10)]     # (the tree's)
    assert prog.query("From(s, y)") == want
    assert prog.query("Reached(s, c)") == [{"s": 3, "c": 10}, {"s": 7, "c": 10}]
    assert prog.runtime.logic.tuples_derived <= 8 * tree_edges
    prog.run()      # (`From?` reads From again; what nothing read, Path, stays unevaluated)
    assert prog.runtime.logic.tuples_derived <= 8 * tree_edges


@pytest.mark.parametrize("rules", ["Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n",
                                   "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Edge(x, y), Path(y, z)\n"],
                         ids=["left_linear", "right_linear"])
def test_deep_chains_run_their_rounds_natively(rules, monkeypatch):
    # A chain of 3,000 nodes: its requests and answers are thousands of rounds, which the native loop
    # runs (a Python round each cost 0.3 ms); the rewrite's rules are joined a few times in Python.
    n = 3000
    edges = np.array([(k, k + 1) for k in range(n - 1)])
    prog = graph_program(n, edges, rules, max_iterations=n + 10)
    prog.storage("Path", "sparse")
    joins = []
    real = demand.Demand._derive
    monkeypatch.setattr(demand.Demand, "_derive", lambda self, *a, **k: joins.append(1) or real(self, *a, **k))
    start = random.randrange(n // 2)
    assert [r["y"] for r in prog.query(f"Path({start}, y)")] == list(range(start + 1, n))
    assert prog.runtime.logic.demanded == {"Path"} and 0 < len(joins) <= 4
