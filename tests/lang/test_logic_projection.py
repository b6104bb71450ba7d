"""Products of relations in a rule body (atoms sharing no variable) are taken over distinct bindings:
an atom's variables that nothing needs later are projected away, and rows that became repeats are
merged, before the product (lang/logic/body.py), so that the work follows the answers rather than the
repeats.  Answers against clingo; the rows the rules derived (`Logic.tuples_derived`) bounded far
below what the products of repeats would give."""
import random

import pytest

from tensorlogic import lang
from tensorlogic.lang.logic import datalog_text

from test_logic import clingo_model

pytestmark = pytest.mark.usefixtures("tuple_arrays")


def run(rules, facts):
    """Each head relation's tuples, and how many rows the rules derived."""
    prog = lang.compile(datalog_text.program(rules, facts), time_limit=20.0)
    for name in {r.split("(")[0] for r in rules}:
        prog.storage(f"r_{name}", "sparse")
    prog.run()
    out = {}
    for name, rel in prog.model.relations.items():
        rows = prog.query(f"{name}({', '.join(f'q_{k}_' for k in range(rel.arity))})")
        out[name[2:]] = {tuple(r[f"q_{k}_"] for k in range(rel.arity)) for r in rows}
    return out, prog.runtime.logic.tuples_derived


def test_a_product_reads_the_projection_of_an_atom():
    # H(x, y) <- A(x, z), B(y): 30 values of x with about 100 z each, 300 of y; the product of B
    # with all of A would be about 900,000 rows, with A's x 9,000.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    facts = {"a": sorted({(x, rng.randrange(1000)) for x in range(30) for _ in range(100)}),
             "b": [(y,) for y in range(300)]}
    rules = ["h(X, Y) :- a(X, Z), b(Y).", "k(X, Y) :- a(X, Z), a(Y, W), X < Y."]
    got, derived = run(rules, facts)
    want = clingo_model(rules, facts)
    assert got["h"] == want["h"] and got["k"] == want["k"], seed
    assert derived < 20_000, (seed, derived)


def test_repeats_are_merged_before_a_product_in_a_recursion():
    # The fuzzer's program (fuzz_logic_shapes.py) that ran past its 20 s limit: in
    # `T(x2, x5) <- T(x3, x4), T(x1, x2), not E(x6, x1), T(x5, x3)` each x5 came once per x3 and
    # x4 (thousands of repeats) into the product with T(x1, x2), per round; now once.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    n = 60
    edges = {(k, k + 1) for k in range(n - 1)} | {(rng.randrange(n), rng.randrange(n)) for _ in range(20)}
    facts = {"e": sorted(edges), "s": sorted({(rng.randrange(n), rng.randrange(n)) for _ in range(80)})}
    rules = ["t(X, Z) :- t(X, Y), t(Y, Z).", "t(X, Y) :- s(X, Y).",
             "t(X2, X5) :- t(X3, X4), t(X1, X2), not e(X6, X1), t(X5, X3)."]
    got, derived = run([r.replace("X6", "_") for r in rules], facts)
    want = clingo_model([r.replace("X6", "_") for r in rules], facts)
    assert got["t"] == want["t"], seed
    assert derived < 3_000_000, (seed, derived)
