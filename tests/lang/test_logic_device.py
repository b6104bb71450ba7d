"""Sparse relations on every device present: the tuple engine keeps its arrays on the program's device
(engine tensors there; numpy on the CPU) and answers as the host path does, on random data with fresh
seeds.  The dense path runs on the device too (its relations are tensors there); both mix in one
program."""
import random

import pytest

import tensorlogic as tl
from tensorlogic import lang
from tensorlogic.lang.logic import arrays, datalog_text

from test_logic import clingo_model, random_graph


def edges(rng, n, m):
    return "".join(f"E({a}, {b})\n" for a, b in random_graph(rng, n, m))


def wide_facts(rng):
    ids = [-2 * 10 ** 9, 2 * 10 ** 9] + [rng.randrange(-2 * 10 ** 9, 2 * 10 ** 9) for _ in range(4)]
    return "".join(f"T({rng.choice(ids)}, {rng.choice(ids)}, {rng.choice(ids)})\n" for _ in range(50))


# name -> (program, relations forced sparse, queries)
PROGRAMS = {
    "closure": (lambda rng: edges(rng, 40, 90) + "P(x, y) <- E(x, y)\nP(x, z) <- P(x, y), E(y, z)\n",
                ["P"], ["P(x, y)"]),
    "nonlinear": (lambda rng: edges(rng, 30, 60) + "P(x, y) <- E(x, y)\nP(x, z) <- P(x, y), P(y, z)\n"
                  "Lonely(x) <- E(x, y), not P(x, x)\n", ["P", "Lonely"], ["P(x, y)", "Lonely(x)"]),
    "triangles": (lambda rng: edges(rng, 30, 200) + "T(x, y, z) <- E(x, y), E(y, z), E(z, x)\n",
                  ["T"], ["T(x, y, z)"]),
    "dense_and_sparse": (lambda rng: edges(rng, 25, 60) + "D(x, z) <- E(x, y), E(y, z)\n"
                         "S(x, z) <- D(x, y), E(y, z), not D(x, z)\n", ["S"], ["D(x, z)", "S(x, z)"]),
    "shortest_paths": (lambda rng: "".join(f"W(k{rng.randrange(20)}, k{rng.randrange(20)}, "
                                           f"{rng.randrange(1, 9)})\n" for _ in range(60)) +
                       "Dist(k0, 0)\nDist(y, min(d + w)) <- Dist(x, d), W(x, y, w)\n"
                       "Deg(x, count(y)) <- W(x, y, _)\n", [], ["Dist(x, d)", "Deg(x, n)"]),
    # Ids near 10^9 in three columns: more possible tuples than an int64 numbers (keys of words).
    "wide": (lambda rng: wide_facts(rng) + "L(a, b, c) <- T(a, b, c), not T(c, b, a)\n"
             "J(a, c, e) <- T(a, b, c), T(c, b, e)\nM(a, b, min(c)) <- T(a, b, c)\n"
             "P(a, c) <- T(a, _, c)\nP(a, c) <- P(a, b), P(b, c)\n", [],
             ["L(a, b, c)", "J(a, c, e)", "M(a, b, c)", "P(a, c)"]),
    "arithmetic": (lambda rng: f"Fib(0, 0)\nFib(1, 1)\nFib(n, a + b) <- Fib(n - 1, a), Fib(n - 2, b), "
                   f"n <= {rng.randrange(20, 60)}\nEven(n) <- Fib(n, v), v % 2 == 0\n", [],
                   ["Fib(n, v)", "Even(n)"]),
}


def answers(src, sparse, queries):
    prog = lang.compile(src)
    for name in sparse:
        prog.storage(name, "sparse")
    prog.run()
    return prog, {q: prog.query(q) for q in queries}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_sparse_programs_on_each_device(name, on_device):
    seed = random.randrange(1 << 30)
    make, sparse, queries = PROGRAMS[name]
    src = make(random.Random(seed))
    tl.set_default_device("cpu")
    _, want = answers(src, sparse, queries)
    tl.set_default_device(on_device)
    prog, got = answers(src, sparse, queries)
    assert got == want, seed
    logic = prog.runtime.logic
    if tl.device(on_device).type == "cpu":
        assert logic.xp is arrays.HOST
        return
    # Off the CPU the tuples stay on the device.
    assert isinstance(logic.xp, arrays.Tensors)
    held = [t for t, _ in logic.results.values()]
    assert held and all(t.device.type == tl.device(on_device).type for t in held), seed


def test_tensor_arrays_on_each_device_match_clingo(on_device, monkeypatch):
    # The tensor arrays forced on the CPU too: the device's code on every device present.
    monkeypatch.setattr(arrays, "TENSORS_ON_CPU", True)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    rules = ["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), e(Y, Z).",
             "nosucc(X) :- e(_, X), not e(X, P).", "two(X, Z) :- e(X, Y), e(Y, Z), not e(X, Z)."]
    facts = {"e": [list(e) for e in random_graph(rng, rng.randrange(3, 30), rng.randrange(1, 80))]}
    prog = lang.compile(datalog_text.program(rules, facts))
    for h in ("path", "nosucc", "two"):
        prog.storage(f"r_{h}", "sparse")
    prog.run()
    want = clingo_model([r.replace("P)", "_)") for r in rules], facts)
    for h, arity in (("path", 2), ("nosucc", 1), ("two", 2)):
        rows = prog.query(f"r_{h}({', '.join(f'q{k}' for k in range(arity))})")
        assert {tuple(r[f"q{k}"] for k in range(arity)) for r in rows} == want.get(h, set()), (seed, h)


def test_explain_says_where_sparse_relations_live(on_device):
    prog = lang.compile("E(a, b)\nE(b, c)\nP(x, y) <- E(x, y)\nP(x, z) <- P(x, y), E(y, z)\n")
    prog.storage("P", "sparse")
    where = "numpy arrays in host memory" if tl.device(on_device).type == "cpu" else \
        f"engine tensors on {tl.device(on_device).type}"
    assert f"sparse relations: {where}" in prog.explain()
