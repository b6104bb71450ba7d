"""Linear recursion in native rounds (lang/logic/linear.py) against clingo on random graphs with fresh
seeds, the choice between native and Python rounds as `explain` shows it, and the iteration and
step limits of native rounds."""
import random
import warnings

import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.errors import TensorLogicRuntimeError
from tensorlogic.lang.run.datalog import FixpointLimitWarning
from tensorlogic.lang.logic import datalog_text

from test_logic import clingo_model, ours, random_graph

# Each test runs with the tuple engine on numpy and on engine tensors (the GPU's code, here on the CPU).
pytestmark = pytest.mark.usefixtures("tuple_arrays")

NATIVE = "rounds: native"

# (rules, whether the recursion runs natively)
PROGRAMS = {
    "right_linear": (["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), e(Y, Z)."], True),
    "left_linear": (["path(X, Y) :- e(X, Y).", "path(X, Z) :- e(X, Y), path(Y, Z)."], True),
    "mutual": (["odd(X, Y) :- e(X, Y).", "even(X, Z) :- odd(X, Y), e(Y, Z).",
                "odd(X, Z) :- even(X, Y), e(Y, Z)."], True),
    "constants_negation": (['r(Y) :- e("n0", Y).', "r(Y) :- r(X), e(X, Y), not b(Y).",
                            'u(X, Y) :- e(X, Y).', 'u("n1", Z) :- u("n1", Y), e(Y, Z), e(Z, W).'],
                           True),
    "repeated_and_test": (["s(X, Y) :- e(X, Y).", "s(Y, Z) :- s(X, X), e(X, Y), e(Y, Z).",
                           "w(X, Z) :- e(X, Z).", "w(X, Z) :- w(X, Y), e(Y, Z), Y != Z."], True),
    "test_on_atom_only": (["v(X, Z) :- e(X, Z).", "v(X, Z) :- v(X, Y), e(Y, Z), X != Z."], False),
    "cross_product": (["sg(X, Y) :- e(P, X), e(P, Y).",
                       "sg(X, Y) :- e(A, X), sg(A, B), e(B, Y)."], False),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_linear_recursion_matches_clingo(name):
    rules, native = PROGRAMS[name]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    n = rng.randrange(3, 30)
    facts = {"e": [list(e) for e in random_graph(rng, n, rng.randrange(1, 3 * n))],
             "b": [[f"n{rng.randrange(n)}"] for _ in range(rng.randrange(1, 4))]}
    heads = {r.split("(")[0] for r in rules}
    got = ours(rules, facts, {h: "sparse" for h in heads})
    want = clingo_model(rules, facts)
    for h in heads:
        assert got[h] == want.get(h, set()), (seed, h)
    prog = lang.compile(datalog_text.program(rules, facts))
    for h in heads:
        prog.storage(f"r_{h}", "sparse")
    assert (NATIVE in prog.explain()) == native


def chain(n, **limits):
    prog = lang.compile(f"domain Node = 0..{n}\nrelation E(a: Node, b: Node)\nR(y) <- R(x), E(x, y)\n",
                        **limits)
    prog.add_facts("E", np.stack([np.arange(n - 1), np.arange(1, n)], axis=1))
    prog.add_facts("R", np.zeros((1, 1), dtype=np.int64))
    prog.storage("R", "sparse")
    return prog


def test_long_chain_runs_natively():
    n = 50_000
    prog = chain(n, max_iterations=n, max_steps=2 * n)
    prog.run()
    assert NATIVE in prog.explain()
    got = np.sort(np.array([r["x"] for r in prog.query("R(x)")]))
    assert np.array_equal(got, np.arange(n))


def test_native_rounds_keep_the_iteration_and_step_limits():
    prog = chain(50, max_iterations=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prog.run()
        assert len(prog.query("R(x)")) == 11
    assert any(issubclass(w.category, FixpointLimitWarning) for w in caught)
    with pytest.raises(TensorLogicRuntimeError, match="steps"):
        chain(50, max_steps=20).run().query("R(x)")


def test_large_key_space_switches_to_a_bitmap():
    # 11,600^2 possible tuples (past the bitmap size the key set starts with) and a closure of
    # 719,400 tuples: the hash set turns into a bitmap on the way (at about
    # a 256th of the key space).
    n, k = 11_600, 1_200
    prog = lang.compile(f"domain Node = 0..{n}\nrelation E(a: Node, b: Node)\n"
                        "Path(x, y) <- E(x, y)\nPath(x, z) <- Path(x, y), E(y, z)\n", max_iterations=2 * k)
    prog.add_facts("E", np.stack([np.arange(k - 1), np.arange(1, k)], axis=1))
    prog.run()
    assert NATIVE in prog.explain()
    rows = prog.runtime.logic.table("Path")
    assert len(rows) == k * (k - 1) // 2 and np.all(rows[:, 0] < rows[:, 1])
    assert len(np.unique(rows[:, 0] * n + rows[:, 1])) == len(rows)


def test_min_relation_with_plain_recursive_rule_keeps_python_rounds():
    # `Best` holds one value per group (min); its plain recursive rule adds candidate values.
    prog = lang.run("E(1, 2)\nE(2, 3)\nW(1, 5)\nW(1, 2)\nBest(x, min(w)) <- W(x, w)\n"
                    "Best(y, w) <- Best(x, w), E(x, y)\n")
    assert prog.query("Best(x, w)") == [{"x": 1, "w": 2}, {"x": 2, "w": 2}, {"x": 3, "w": 2}]
    assert NATIVE not in prog.explain()
