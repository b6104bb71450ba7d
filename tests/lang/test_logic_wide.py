"""Relations whose possible tuples pass 2^63 (four columns over 100,000 constants, ids near 10^9 in
three): the tuple engine keys them by rows of int64 words (lang/logic/tuples.py) and runs their
linear recursion natively on dictionary codes (linear.py).  Answers against clingo on random facts
with fresh seeds; the word searches against a plain sort; the same programs with the one-word limit
lowered so that every key is words."""
import bisect
import random

import clingo
import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.lang.logic import arrays, datalog_text
from tensorlogic.lang.logic import tuples as T

from test_logic import RULE_SETS, clingo_model, ours, random_graph

# Each test runs with the tuple engine on numpy and on engine tensors (the GPU's code, here on the CPU).
pytestmark = pytest.mark.usefixtures("tuple_arrays")

IDS = 2 * 10 ** 9           # clingo's integers are 32-bit: ids in (-IDS, IDS) span 4 * 10^9 values

# name -> (rules, {fact relation: (arity, value range)}, whether a linear recursion runs natively)
PROGRAMS = {
    # 100,000^4 = 10^20 possible tuples: keys of two words.
    "arity4_joins": (["j(A, B, C, D) :- e(A, B, C, D), e(D, C, B, A).",
                      "p(A, D) :- e(A, B, C, D), e(B, C, D, A).",
                      "q(A, B, C, D) :- e(A, B, C, D), not e(B, A, C, D)."], {"e": (4, 100_000)}, None),
    # (4 * 10^9)^3 possible tuples: a word per column.
    "ids3_negation": (["lone(A, B, C) :- t(A, B, C), not t(C, B, A).",
                       "two(A, C, E) :- t(A, B, C), t(C, B, E).",
                       "nou(A, B, C) :- t(A, B, C), not u(A, C).",
                       "some(A) :- t(A, B, C), not u(B, P)."], {"t": (3, IDS), "u": (2, IDS)}, None),
    "closure3_linear": (["path(L, X, Y) :- e(L, X, Y).", "path(L, X, Z) :- path(L, X, Y), e(L, Y, Z)."],
                        {"e": (3, IDS)}, True),
    "closure3_nonlinear": (["path(L, X, Y) :- e(L, X, Y).",
                            "path(L, X, Z) :- path(L, X, Y), path(L, Y, Z).",
                            "cyc(L, X) :- path(L, X, X)."], {"e": (3, IDS)}, False),
    "closure4_pairs": (["path(A, B, C, D) :- e(A, B, C, D).",
                        "path(A, B, E, F) :- path(A, B, C, D), e(C, D, E, F)."], {"e": (4, 100_000)}, True),
}


def random_facts(rng, spec):
    """Facts over a few values spread across the whole range (its ends included: the domains' extents
    are the range's), so that joins meet."""
    out = {}
    for name, (arity, span) in spec.items():
        low = -span if span == IDS else 0
        pool = [low, span - 1] + [rng.randrange(low, span) for _ in range(rng.randrange(2, 6))]
        out[name] = sorted({tuple(rng.choice(pool) for _ in range(arity))
                            for _ in range(rng.randrange(5, 60))})
    return out


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_wide_relations_match_clingo(name):
    rules, spec, native = PROGRAMS[name]
    seed = random.randrange(1 << 30)
    facts = random_facts(random.Random(seed), spec)
    heads = {r.split("(")[0] for r in rules}
    got = ours(rules, facts)
    want = clingo_model([r.replace("P)", "_)") for r in rules], facts)
    for h in heads:
        assert got[h] == want.get(h, set()), (seed, h)
    if native is not None:
        prog = lang.run(datalog_text.program(rules, facts))
        text = prog.explain()
        assert ("rounds: native" in text) == native and ("dictionary codes" in text) == native, (seed, text)


@pytest.mark.parametrize("fn", ["count", "sum", "min", "max"])
def test_aggregates_over_wide_groups_match_clingo(fn):
    # Groups of three ids: (4 * 10^9)^3 possible groups.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    pool = [-IDS, IDS - 1] + [rng.randrange(-IDS, IDS) for _ in range(3)]
    rows = {(rng.choice(pool), rng.choice(pool), rng.choice(pool), rng.randrange(-50, 50)) for _ in range(40)}
    facts = "".join(f"G({a}, {b}, {c}, {w})\n" for a, b, c, w in rows)
    prog = lang.run(facts + f"A(a, b, c, {fn}(w)) <- G(a, b, c, w)\n")
    asp = "".join(f"g({a}, {b}, {c}, {w}). " for a, b, c, w in rows)
    asp += f"a(A, B, C, N) :- g(A, B, C, _), N = #{fn}{{W : g(A, B, C, W)}}."
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], asp)
    ctl.ground([("base", [])])
    want = set()
    ctl.solve(on_model=lambda m: want.update(tuple(x.number for x in s.arguments)
                                             for s in m.symbols(atoms=True) if s.name == "a"))
    got = {(r["a"], r["b"], r["c"], r["v"]) for r in prog.query("A(a, b, c, v)")}
    assert got == want, seed


def test_recursive_min_over_wide_groups_is_shortest_paths():
    # Dist(l, s, y) holds one value per group of three ids; a round's changed groups are found by
    # searching keys of words.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    nodes = [-IDS, IDS - 1] + rng.sample(range(-IDS, IDS), 8)
    labels = [-IDS, IDS - 1]
    edges = {(rng.choice(labels), rng.choice(nodes), rng.choice(nodes)): rng.randrange(1, 9) for _ in range(40)}
    src = "".join(f"E({l}, {a}, {b}, {w})\n" for (l, a, b), w in edges.items())
    src += "".join(f"Src({l}, {s})\n" for l in labels for s in nodes[:2])
    prog = lang.run(src + "Dist(l, s, s, 0) <- Src(l, s)\n"
                          "Dist(l, s, y, min(d + w)) <- Dist(l, s, x, d), E(l, x, y, w)\n")
    want = {}
    for l in labels:
        for s in nodes[:2]:
            best = {s: 0}
            for _ in range(len(nodes)):
                for (el, a, b), w in edges.items():
                    if el == l and a in best and best[a] + w < best.get(b, 1 << 40):
                        best[b] = best[a] + w
            want.update({(l, s, y): d for y, d in best.items()})
    got = {(r["l"], r["s"], r["y"]): r["d"] for r in prog.query("Dist(l, s, y, d)")}
    assert got == want, seed


def test_wide_relations_print_and_refuse_a_dense_tensor(capsys):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    rows = sorted({(rng.randrange(-IDS, IDS), rng.randrange(-IDS, IDS), rng.randrange(-IDS, IDS))
                   for _ in range(20)} | {(-IDS, 0, IDS - 1)})
    src = "".join(f"T({a}, {b}, {c})\n" for a, b, c in rows) + "R(c, b, a) <- T(a, b, c)\nR?\n"
    prog = lang.run(src)
    shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("R(")]
    assert shown == [f"R({x}, {y}, {z})" for x, y, z in sorted((c, b, a) for a, b, c in rows)], seed
    with pytest.raises(MemoryError, match="'R' is held as .* tuples; as a dense tensor"):
        prog["R"]
    prog = lang.compile(src)
    prog.storage("R", "dense")
    with pytest.raises(MemoryError, match="'R' is forced dense; its tensor would take"):
        prog.run()


@pytest.mark.parametrize("words", [2, 3, 4])
def test_word_searches_match_a_sort(words):
    # Keys of words with many equal leading words (and a last word of any int64, half the time),
    # searched against bisect over Python tuples.
    seed = random.randrange(1 << 30)
    rng = np.random.default_rng(seed)
    keys = rng.integers(-3, 3, size=(int(rng.integers(0, 300)), words))
    if rng.random() < 0.5:
        keys[:, -1] = rng.integers(-2 ** 63, 2 ** 63 - 1, size=len(keys))
    keys = np.unique(keys, axis=0)
    some = keys[rng.integers(0, len(keys), size=50)] if len(keys) else keys
    probe = np.concatenate([some, rng.integers(-4, 4, size=(50, words))])
    ordered = [tuple(k) for k in keys.tolist()]
    xp = arrays.for_device("cpu")
    index = T.SortedIndex(xp, xp.asarray(keys[rng.permutation(len(keys))]))
    lo, counts = (xp.numpy(a) for a in index.ranges(xp.asarray(probe)))
    hit = xp.numpy(index.contains(xp.asarray(probe)))
    for p, a, c, h in zip(probe.tolist(), lo.tolist(), counts.tolist(), hit.tolist()):
        want = bisect.bisect_left(ordered, tuple(p))
        assert (a, c, h) == (want, int(tuple(p) in set(ordered)), tuple(p) in set(ordered)), (seed, p)


@pytest.mark.parametrize("rules", RULE_SETS, ids=["closure", "triangles", "nonlinear_negation", "comparisons"])
def test_programs_with_every_key_in_words_match_clingo(rules, monkeypatch):
    # With the one-word limit at 64 keys, every relation of these graphs is keyed by words (one per
    # column) and a linear recursion runs natively on dictionary codes only for a graph of at most 7
    # nodes, else in Python rounds.
    monkeypatch.setattr(T, "PACK_LIMIT", 64)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    facts = {"e": [list(e) for e in random_graph(rng, rng.randrange(3, 25), rng.randrange(1, 60))]}
    heads = {r.split("(")[0] for r in rules}
    got = ours(rules, facts, {h: "sparse" for h in heads})
    want = clingo_model([r.replace("P)", "_)") for r in rules], facts)
    for h in heads:
        assert got[h] == want.get(h, set()), (seed, h)


def test_values_across_the_whole_int64_range():
    # Columns spanning nearly all of int64 (a position's extent up to 2^64, a word of its values as they
    # are); a computed key is checked against the domain's bounds, whose end no int64 holds. Against
    # plain Python: clingo's integers are 32-bit.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    pool = [-2 ** 63, 2 ** 63 - 1, -2 ** 62, 2 ** 62, 0, 5]
    e = sorted({tuple(rng.choice(pool) for _ in range(3)) for _ in range(25)})
    prog = lang.compile("relation E(a, b, c)\nR(a, b, c) <- E(a, b, c)\nS(a) <- E(a, b, c), R(a * 1, b, c)\n"
                        "N(a, b, c) <- E(a, b, c), not R(b, a, c)\nP(a, c) <- E(a, _, c)\n"
                        "P(a, c) <- P(a, b), P(b, c)\nL(a, c) <- E(a, _, c)\nL(a, c) <- L(a, b), E(b, _, c)\n")
    prog.add_facts("E", np.array(e, dtype=np.int64))
    prog.run()
    path = {(a, c) for a, _, c in e}
    while True:
        more = path | {(a, d) for a, b in path for c, d in path if b == c}
        if more == path:
            break
        path = more
    assert {r["a"] for r in prog.query("S(a)")} == {a for a, _, _ in e}, seed
    assert {tuple(r.values()) for r in prog.query("N(a, b, c)")} == \
        {(a, b, c) for a, b, c in e if (b, a, c) not in set(e)}, seed
    assert {tuple(r.values()) for r in prog.query("P(a, c)")} == path, seed
    assert {tuple(r.values()) for r in prog.query("L(a, c)")} == path, seed
    assert "dictionary codes" in prog.explain()
