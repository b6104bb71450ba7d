"""Datalog classes the conformance suite holds, each as a program in both syntaxes over a fresh
random instance, compared with clingo relation by relation and through queries with a constant at
every position: negation through several strata, aggregates over recursive relations and recursive
min, comparisons between computed values, self-joins with repeated variables, names and integers at
one position, relations that stay empty, and facts written in several places (some after the rules
that read them)."""
import random

import pytest

from tensorlogic import lang

from fuzz_logic_clingo import clingo_model

NODES = ["a", "b", "c", "d", "e", "f"]

# (rules in TensorLogic, the same in clingo, the relations compared with their arities)
CLASSES = {
    "strata": (
        """Node(x) <- E(x, _)
Node(y) <- E(_, y)
Reach(x, y) <- E(x, y)
Reach(x, z) <- Reach(x, y), E(y, z)
Cyclic(x) <- Reach(x, x)
Sink(x) <- Node(x), not E(x, _)
Tail(x) <- Node(x), not Cyclic(x), not Sink(x)
Lone(x) <- Node(x), not Tail(x), not Cyclic(x)
OneWay(x, y) <- Reach(x, y), not Lone(y), not Reach(y, x)""",
        """node(X) :- e(X, _). node(Y) :- e(_, Y).
reach(X, Y) :- e(X, Y). reach(X, Z) :- reach(X, Y), e(Y, Z).
cyclic(X) :- reach(X, X).
out(X) :- e(X, _). sink(X) :- node(X), not out(X).
tail(X) :- node(X), not cyclic(X), not sink(X).
lone(X) :- node(X), not tail(X), not cyclic(X).
oneway(X, Y) :- reach(X, Y), not lone(Y), not reach(Y, X).""",
        [("Node", 1), ("Reach", 2), ("Cyclic", 1), ("Sink", 1), ("Tail", 1), ("Lone", 1), ("OneWay", 2)]),
    "aggregates": (
        """Dist(x, 0) <- Src(x)
Dist(y, min(dd + w)) <- Dist(x, dd), W(x, y, w)
Reach(x, y) <- W(x, y, _)
Reach(x, z) <- Reach(x, y), W(y, z, _)
Out(x, count(y)) <- Reach(x, y)
Tot(x, sum(w)) <- Reach(x, y), W(y, _, w)
Top(y, max(dd)) <- Dist(y, dd), W(_, y, _)
Far(x, y) <- Dist(x, d1), Dist(y, d2), d1 + 2 < d2 - 1
Heavy(x) <- Tot(x, s), Out(x, k), s > 3 * k""",
        """dv(X, 0) :- src(X). dv(Y, D + W) :- dist(X, D), w(X, Y, W), D + W <= 200.
dist(X, M) :- dv(X, _), M = #min{D : dv(X, D)}.
reach(X, Y) :- w(X, Y, _). reach(X, Z) :- reach(X, Y), w(Y, Z, _).
out(X, N) :- reach(X, _), N = #count{Y : reach(X, Y)}.
hastot(X) :- reach(X, Y), w(Y, _, _).
tot(X, S) :- hastot(X), S = #sum{W, Y, Z : reach(X, Y), w(Y, Z, W)}.
hastop(Y) :- dist(Y, _), w(_, Y, _). top(Y, M) :- hastop(Y), M = #max{D : dist(Y, D)}.
far(X, Y) :- dist(X, D1), dist(Y, D2), D1 + 2 < D2 - 1.
heavy(X) :- tot(X, S), out(X, K), S > 3 * K.""",
        [("Dist", 2), ("Out", 2), ("Tot", 2), ("Top", 2), ("Far", 2), ("Heavy", 1)]),
    "joins": (
        """Loop(x) <- E(x, x)
Back(x, y) <- E(x, y), E(y, x)
Tri(x, y, z) <- E(x, y), E(y, z), E(z, x)
Pair(x, y) <- Num(x, n), Num(y, n), x != y
Sum(x, y, s) <- Num(x, m), Num(y, n), s = m + n, s * 2 > m * n + 1
Mixed(v) <- Tag(_, v)
Same(x) <- Tag(x, v), Tag(v, x)
Other(x, v) <- Tag(x, v), v != 3, not E(x, _)
FromEmpty(x) <- Empty(x, y), E(y, _)
NotEmpty(x) <- Mixed(x), not Empty(x, _)""",
        """loop(X) :- e(X, X). back(X, Y) :- e(X, Y), e(Y, X). tri(X, Y, Z) :- e(X, Y), e(Y, Z), e(Z, X).
pair(X, Y) :- num(X, N), num(Y, N), X != Y.
sum(X, Y, S) :- num(X, M), num(Y, N), S = M + N, S * 2 > M * N + 1.
mixed(V) :- tag(_, V). same(X) :- tag(X, V), tag(V, X).
haso(X) :- e(X, _). other(X, V) :- tag(X, V), V != 3, not haso(X).
empty(0, 0) :- #false. fromempty(X) :- empty(X, Y), e(Y, _).
hasempty(X) :- empty(X, _). notempty(X) :- mixed(X), not hasempty(X).""",
        [("Loop", 1), ("Back", 2), ("Tri", 3), ("Pair", 2), ("Sum", 3), ("Mixed", 1), ("Same", 1),
         ("Other", 2), ("FromEmpty", 1), ("NotEmpty", 1)]),
}


def instance(rng):
    """Fresh facts: edges, weighted edges, a source, integer attributes and tags that mix names and
    integers at one position, as {relation: rows}."""
    edges = {(rng.choice(NODES), rng.choice(NODES)) for _ in range(rng.randint(4, 12))}
    weighted = {(a, b, rng.randint(0, 9)) for a, b in list(edges)[: rng.randint(1, len(edges))]}
    tags = {(rng.choice(NODES), rng.choice(NODES[:3] + [1, 2, 3])) for _ in range(rng.randint(2, 8))}
    return {"E": sorted(edges), "W": sorted(weighted), "Src": [(rng.choice(NODES),)],
            "Num": sorted({(n, rng.randint(0, 4)) for n in rng.sample(NODES, 4)}),
            "Tag": sorted(tags, key=repr)}


def facts(rows, name, clingo):
    text = lambda v: str(v)
    if clingo:
        return "".join(f"{name.lower()}({', '.join(map(text, r))}).\n" for r in rows)
    return "".join(f"{name}({', '.join(map(text, r))})\n" for r in rows)


def texts(rules, clingo_rules, data):
    """The program in both syntaxes; TensorLogic's facts are split, half before the rules and half
    after them (a relation's facts OR together wherever they stand)."""
    before = "relation Empty(x, y)\n" + "".join(facts(rows[::2], n, False) for n, rows in data.items())
    after = "".join(facts(rows[1::2], n, False) for n, rows in data.items())
    return before + rules + "\n" + after, "".join(facts(rows, n, True) for n, rows in data.items()) + clingo_rules


def rows_of(prog, query, names):
    got = prog.query(query)
    return ({()} if got else set()) if not names else {tuple(r[v] for v in names) for r in got}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_against_clingo(name):
    seed = random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    rules, clingo_rules, compared = CLASSES[name]
    tl_text, lp_text = texts(rules, clingo_rules, instance(rng))
    want = clingo_model(lp_text)
    prog = lang.run(tl_text)
    for rel, arity in compared:
        names = [f"q{k}" for k in range(arity)]
        rows = want.get(rel.lower(), set())
        assert rows_of(prog, f"{rel}({', '.join(names)})", names) == rows, (seed, rel)
        for row in sorted(rows, key=repr)[:3]:
            for k in range(arity):
                # A constant at position k, asked of the finished program and of a fresh one (which
                # may answer on demand, deriving only what the query needs).
                query = f"{rel}({', '.join(names[:k] + [str(row[k])] + names[k + 1:])})"
                rest = names[:k] + names[k + 1:]
                expect = {r[:k] + r[k + 1:] for r in rows if r[k] == row[k]}
                assert rows_of(prog, query, rest) == expect, (seed, query)
                assert rows_of(lang.compile(tl_text), query, rest) == expect, (seed, query, "on demand")
