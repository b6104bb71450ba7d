"""Atoms naming a constant that no tuple can hold at that position (a name where facts put only
integers or other names, an integer outside an integer domain, an integer among names): as in clingo,
the atom never holds. A query's answer is empty, a rule body's atom matches nothing and `not` of it
always holds; a declared domain gives a ConstantNameWarning there, not an error. Integers a rule
computes (`w == y - 1`) meet positions of names without a match. All against clingo, on random
facts with fresh seeds, with each storage."""
import random
import warnings

import pytest
from fuzz_logic_clingo import clingo_model

from tensorlogic import lang
from tensorlogic.errors import TensorLogicTypeError

pytestmark = pytest.mark.usefixtures("tuple_arrays")

STORAGES = [None, "sparse", "dense"]

# (our query, clingo's body): `h` is a name some fact holds at P's first position.
QUERIES = [
    ('P("zzz", n)', "p(zzz, N)"), ("P(0, n)", "p(0, N)"), ("P(1, n)", "p(1, N)"),
    ("P(x, 99999)", "p(X, 99999)"), ("P(x, -5)", "p(X, -5)"), ('P(x, "zzz")', "p(X, zzz)"),
    ("P(h, 99999)", "p(h, 99999)"), ("P(h, n)", "p(h, N)"),
    ('T("zzz", n)', "t(zzz, N)"), ("T(x, 99999)", "t(X, 99999)"), ('T(x, "zzz")', "t(X, zzz)"),
    ("T(1, n)", "t(1, N)"), ("T(h, n), n > 3", "t(h, N), N > 3"),
]

# Rules whose bodies name such constants, beside ones that hold (our text, clingo's).
RULES = [
    ('Q(x) <- P(x, "zzz")\nQ(x) <- P(x, 99999)\nQ(x) <- P(x, 2)',
     "q(X) :- p(X, zzz). q(X) :- p(X, 99999). q(X) :- p(X, 2)."),
    ('R(n) <- P("zzz", n)\nR(n) <- P(1, n)\nR(n) <- P(h, n)', "r(N) :- p(zzz, N). r(N) :- p(1, N). r(N) :- p(h, N)."),
    ('S(x) <- P(x, _), not P(x, "zzz"), not P("zzz", 1), not P(x, -5)',
     "s(X) :- p(X, _), not p(X, zzz), not p(zzz, 1), not p(X, -5)."),
    ("T(x, n) <- P(x, n)\nT(x, n + 1) <- T(x, n), n < 9", "t(X, N) :- p(X, N). t(X, N + 1) :- t(X, N), N < 9."),
]


def random_facts(rng):
    names = [f"c{k}" for k in range(rng.randrange(2, 6))]
    return sorted({(rng.choice(names), rng.randrange(0, 8)) for _ in range(rng.randrange(3, 12))})


def clingo_answers(text, bodies):
    """clingo's tuples for each query body (its variables in order of appearance)."""
    lines = [text]
    for k, b in enumerate(bodies):
        seen = []
        for v in (w for w in b.replace("(", " ").replace(")", " ").replace(",", " ").split() if w[:1].isupper()):
            seen += [v] if v not in seen else []
        lines.append(f"ans{k}({', '.join(seen)}) :- {b}.")
    return clingo_model("\n".join(lines))


def our_answer(prog, query):
    rows = prog.query(query)
    if isinstance(rows, bool):
        return {()} if rows else set()
    return {tuple(r.values()) for r in rows}


def compiled(src, storage):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (ConstantNameWarning at the atoms that never hold)
        prog = lang.compile(src)
    for r in prog.model.relations if storage else ():
        prog.storage(r, storage)
    prog.run()
    return prog


@pytest.mark.parametrize("storage", STORAGES)
def test_constants_no_tuple_holds_match_clingo(storage):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    facts = random_facts(rng)
    held = facts[0][0]

    def named(text):
        return text.replace("(h, ", f"({held}, ")

    ours_text = "".join(f"P({a}, {n})\n" for a, n in facts) + named("\n".join(r for r, _ in RULES)) + "\n"
    theirs = " ".join(f"p({a}, {n})." for a, n in facts) + " " + named(" ".join(c for _, c in RULES))
    want = clingo_answers(theirs, [named(c) for _, c in QUERIES] + ["q(X)", "r(N)", "s(X)", "t(X, N)"])
    prog = compiled(ours_text, storage)
    queries = [named(q) for q, _ in QUERIES] + ["Q(x)", "R(n)", "S(x)", "T(x, n)"]
    for k, q in enumerate(queries):
        assert our_answer(prog, q) == want.get(f"ans{k}", set()), (q, f"seed {seed}")
    # The integer positions stay integer ones that rules compute with (a name only read joins none).
    assert prog.model.relations["P"].domains[1].kind == "range"


@pytest.mark.parametrize("storage", STORAGES)
def test_declared_domains_warn_and_match_clingo(storage):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    facts = sorted({(rng.choice("ab"), rng.randrange(0, 5)) for _ in range(rng.randrange(2, 8))})
    src = ("domain D = {a, b}\ndomain K = 0..5\nrelation P(x: D, n: K)\n" + "".join(f"P({a}, {n})\n" for a, n in facts) +
           'Q(n) <- P("zzz", n)\nQ(n) <- P(a, n)\nR(x) <- P(x, _), not P(x, 99)\n')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lang.compile(src)
    assert sorted(str(w.message).split(":", 3)[3].split(",")[0] for w in caught
                  if w.category is lang.ConstantNameWarning) == \
        [" warning: '99' is not in domain K", " warning: 'zzz' is not in domain D"]
    theirs = " ".join(f"p({a}, {n})." for a, n in facts) + " q(N) :- p(zzz, N). q(N) :- p(a, N). r(X) :- p(X, _), not p(X, 99)."
    bodies = ["p(zzz, N)", "p(X, 99)", "p(X, -1)", "p(a, N)", "q(N)", "r(X)"]
    want = clingo_answers(theirs, bodies)
    prog = compiled(src, storage)
    for k, q in enumerate(['P("zzz", n)', "P(x, 99)", "P(x, -1)", "P(a, n)", "Q(n)", "R(x)"]):
        assert our_answer(prog, q) == want.get(f"ans{k}", set()), (q, f"seed {seed}")


def test_a_fact_outside_a_declared_domain_is_still_an_error():
    with pytest.raises(TensorLogicTypeError, match="'zzz' is not in domain D"):
        lang.compile("domain D = {a, b}\nrelation P(x: D)\nP(a)\nP(zzz)\n")


@pytest.mark.parametrize("storage", [None, "sparse"])
def test_computed_integers_meet_names_without_a_match(storage):
    """`w == y - 1` then w at a position of names (a name never equals a number), in clingo's order and
    reversed, positively, negated and in a head; `w != y - 1` holds for every name."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    ns = sorted(set(rng.sample(range(-3, 9), rng.randrange(2, 6))))
    pairs = sorted({(rng.choice("abc"), rng.choice("abc")) for _ in range(rng.randrange(1, 5))})
    rules = [("A(y) <- N(y), w == y - 1, E(w, _)", "a(Y) :- n(Y), W = Y - 1, e(W, _)."),
             ("B(y) <- N(y), E(_, w), w == y + 1", "b(Y) :- n(Y), e(_, W), W = Y + 1."),
             ("C(y) <- N(y), y - 1 == w, not E(w, _)", "c(Y) :- n(Y), W = Y - 1, not e(W, _)."),
             ("D(w) <- N(y), w == y - 1, E(w, _)", "d(W) :- n(Y), W = Y - 1, e(W, _)."),
             ("F(y) <- N(y), E(w, _), w != y - 1", "f(Y) :- n(Y), e(W, _), W != Y - 1.")]
    src = "".join(f"N({n})\n" for n in ns) + "".join(f"E({a}, {b})\n" for a, b in pairs) + "\n".join(r for r, _ in rules) + "\n"
    theirs = " ".join(f"n({n})." for n in ns) + " " + " ".join(f"e({a}, {b})." for a, b in pairs) + " " + \
        " ".join(c for _, c in rules)
    want = clingo_answers(theirs, ["a(Y)", "b(Y)", "c(Y)", "d(W)", "f(Y)"])
    prog = compiled(src, storage)
    for k, q in enumerate(["A(y)", "B(y)", "C(y)", "D(w)", "F(y)"]):
        assert our_answer(prog, q) == want.get(f"ans{k}", set()), (q, f"seed {seed}")


@pytest.mark.parametrize("storage", [None, "sparse"])
def test_a_name_read_where_rules_compute_integers_matches_nothing(storage):
    """A name read at a position that only counts, sums, averages or arithmetic in heads fill
    (`Deg(x, c0)?` of `Deg(x, count(y))`, where c0 is a node): never holds, and the position still
    takes what the rules compute (it was made one of names, and the rule a located error)."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    facts = random_facts(rng)
    held = facts[0][0]
    ours_text = "".join(f"P({a}, {n})\n" for a, n in facts) + \
        f"Deg(x, count(n)) <- P(x, n)\nTot(x, sum(n)) <- P(x, n)\nNext(x, n + 1) <- P(x, n)\nDeg(x, {held})?\n"
    theirs = " ".join(f"p({a}, {n})." for a, n in facts) + \
        " deg(X, C) :- p(X, _), C = #count{N : p(X, N)}. tot(X, S) :- p(X, _), S = #sum{N : p(X, N)}." \
        " next(X, N + 1) :- p(X, N)."
    queries = [(f"Deg(x, {held})", f"deg(X, {held})"), (f"Tot(x, {held})", f"tot(X, {held})"),
               (f"Next({held}, {held})", f"next({held}, {held})"), ("Deg(x, n)", "deg(X, N)"),
               ("Tot(x, n)", "tot(X, N)"), ("Next(x, n)", "next(X, N)")]
    want = clingo_answers(theirs, [c for _, c in queries])
    prog = compiled(ours_text, storage)
    for k, (q, _) in enumerate(queries):
        assert our_answer(prog, q) == want.get(f"ans{k}", set()), (q, f"seed {seed}")
