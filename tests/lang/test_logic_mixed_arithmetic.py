"""Arithmetic and min/max over positions that hold names and integers alike, against clingo: rules
compute on the integer rows and drop the rows where a term is a name (`Q(x + 1) <- P(x)` over
P(1), P(a) gives Q(2)); min and max order any constants as clingo does (integers by value, then
names by their text).  Fresh random facts each run, on the tuple engine's numpy and tensor arrays."""
import numpy as np
import pytest

from fuzz_logic_clingo import clingo_model
from tensorlogic import lang

pytestmark = pytest.mark.usefixtures("tuple_arrays")

NAMES = ["a", "b", "apple", "zed", "m"]


def ours(src, names):
    prog = lang.run(src)
    out = {}
    for name in names:
        arity = prog.model.relations[name].arity
        rows = prog.query(f"{name}({', '.join(f'q{k}' for k in range(arity))})")
        out[name.lower()] = {tuple(r[f"q{k}"] for k in range(arity)) for r in rows}
    return out


def constant(rng):
    return str(rng.choice(NAMES)) if rng.random() < 0.4 else int(rng.integers(-4, 9))


def facts(rng, name, arity, n):
    rows = {tuple(constant(rng) for _ in range(arity)) for _ in range(n)}
    return sorted(rows, key=repr)


def both(rows_by_name):
    """Fact lines for `.tl` and for clingo."""
    tl_text = "".join(f"{n}({', '.join(map(str, r))})\n" for n, rows in rows_by_name.items() for r in rows)
    lp_text = "".join(f"{n.lower()}({', '.join(map(str, r))}).\n" for n, rows in rows_by_name.items() for r in rows)
    return tl_text, lp_text


# (.tl rules, the same in clingo, the relations compared)
PROGRAMS = {
    "heads_and_tests": (
        "Q(x + 1) <- P(x)\nD(y) <- P(x), y == x * 2\nS(x) <- P(x), x + 0 < 5\nT(x) <- P(x), x - 1 != 2\n"
        "W(x) <- P(x), x + 1 < \"b\"\nV(x, y) <- P(x), P(y), x + 1 <= y\nM(y - x) <- E(x, y)\n",
        "q(X + 1) :- p(X). d(Y) :- p(X), Y = X * 2. s(X) :- p(X), X + 0 < 5. t(X) :- p(X), X - 1 != 2.\n"
        "w(X) :- p(X), X + 1 < b. v(X, Y) :- p(X), p(Y), X + 1 <= Y. m(Y - X) :- e(X, Y).\n",
        ["Q", "D", "S", "T", "W", "V", "M"]),
    "atoms_computed": (
        "Z(x) <- P(x + 1)\nK(x) <- P(x), P(x + 2)\nN(x) <- P(x), not P(x + 2)\nJ(x, y) <- E(x, y), E(y, 2 * x)\n"
        "R(x) <- E(x, _), P(x - 3)\n",
        "z(X) :- p(X + 1). k(X) :- p(X), p(X + 2). n(X) :- p(X), not p(X + 2). j(X, Y) :- e(X, Y), e(Y, 2 * X).\n"
        "r(X) :- e(X, _), p(X - 3).\n",
        ["Z", "K", "N", "J", "R"]),
    # Q's position holds names too (a fact), so computed integers join a domain of names.
    "into_names": (
        "Q(b)\nQ(x + 1) <- P(x)\nL(x, y) <- Q(x), Q(y), x < y\n",
        "q(b). q(X + 1) :- p(X). l(X, Y) :- q(X), q(Y), X < Y.\n",
        ["Q", "L"]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_arithmetic_on_names_and_integers_drops_the_names(name):
    rng = np.random.default_rng()
    rules, lp_rules, compared = PROGRAMS[name]
    tl_facts, lp_facts = both({"P": facts(rng, "P", 1, 9), "E": facts(rng, "E", 2, 12)})
    want = clingo_model(lp_facts + lp_rules)
    got = ours(tl_facts + rules, compared)
    for rel in compared:
        assert got[rel.lower()] == want.get(rel.lower(), set()), (rel, tl_facts)


def test_min_and_max_order_names_after_integers():
    rng = np.random.default_rng()
    tl_facts, lp_facts = both({"E": facts(rng, "E", 2, 14)})
    rules = ("Lo(x, min(y)) <- E(x, y)\nHi(x, max(y)) <- E(x, y)\nTop(max(y)) <- E(_, y)\n"
             "Sum(x, sum(y)) <- E(x, y)\nCnt(x, count(y)) <- E(x, y)\nNext(x, min(y + 1)) <- E(x, y)\n")
    lp = ("lo(X, M) :- e(X, _), M = #min{Y : e(X, Y)}. hi(X, M) :- e(X, _), M = #max{Y : e(X, Y)}.\n"
          "top(M) :- e(_, _), M = #max{Y : e(_, Y)}. cnt(X, N) :- e(X, _), N = #count{Y : e(X, Y)}.\n"
          # A sum leaves out a term that is a name, not its group (clingo's #sum); min leaves out the
          # binding: the groups of integers only, as the body's condition would keep them.
          "int(Y) :- e(_, Y), Y = (Y / 1).\n"
          "sum(X, S) :- e(X, _), S = #sum{Z : e(X, Z)}.\n"
          "next(X, M) :- e(X, Y), int(Y), M = #min{Z + 1 : e(X, Z), int(Z)}.\n")
    want = clingo_model(lp_facts + lp)
    got = ours(tl_facts + rules, ["Lo", "Hi", "Top", "Sum", "Cnt", "Next"])
    for rel in ("lo", "hi", "top", "sum", "cnt", "next"):
        assert got[rel] == want.get(rel, set()), (rel, tl_facts)


def test_recursive_min_over_names():
    """The least constant reachable, names and integers alike, as a lattice fixpoint."""
    rng = np.random.default_rng()
    tl_facts, lp_facts = both({"E": facts(rng, "E", 2, 16)})
    rules = "Low(x, min(y)) <- E(x, y)\nLow(x, min(z)) <- E(x, y), Low(y, z)\n"
    lp = ("reach(X, Y) :- e(X, Y). reach(X, Z) :- e(X, Y), reach(Y, Z).\n"
          "low(X, M) :- reach(X, _), M = #min{Y : reach(X, Y)}.\n")
    assert ours(tl_facts + rules, ["Low"])["low"] == clingo_model(lp_facts + lp).get("low", set()), tl_facts


def test_the_examples_of_the_brief():
    assert lang.run("P(1)\nP(a)\nQ(x + 1) <- P(x)\n").query("Q(x)") == [{"x": 2}]
    prog = lang.run("E(a, c)\nE(a, 3)\nE(b, zed)\nE(b, apple)\nM(x, min(y)) <- E(x, y)\nN(x, max(y)) <- E(x, y)\n")
    assert prog.query("M(x, y)") == [{"x": "a", "y": 3}, {"x": "b", "y": "apple"}]
    assert prog.query("N(x, y)") == [{"x": "a", "y": "c"}, {"x": "b", "y": "zed"}]


def test_min_into_a_declared_domain_of_other_constants_is_a_located_error():
    src = ("domain Person = {ann, bob}\ndomain Tag = {x1, x2}\nrelation E(p: Person, t: Tag)\n"
           "relation M(p: Person, q: Person)\nE(ann, x1)\nM(p, min(t)) <- E(p, t)\n")
    with pytest.raises(lang.TensorLogicTypeError) as err:
        lang.run(src).query("M(p, q)")
    assert "min" in err.value.message and (err.value.lineno, err.value.column) == (6, 6)


def test_division_and_remainder_truncate_as_clingo():
    """`/` and `%` of negative and positive integers are clingo's `/` and `\\` (toward zero); a zero divisor
    derives nothing in both."""
    rng = np.random.default_rng()
    pairs = {(int(rng.integers(-20, 21)), int(rng.integers(-6, 7))) for _ in range(30)} | {(-7, 2), (7, -2), (-7, -2)}
    rows = {"P": sorted(pairs)}
    tl_facts, lp_facts = both(rows)
    src = tl_facts + "Q(x, y, x / y) <- P(x, y)\nR(x, y, x % y) <- P(x, y)\n"
    lp = lp_facts + "q(X, Y, X / Y) :- p(X, Y).\nr(X, Y, X \\ Y) :- p(X, Y).\n"
    expected = clingo_model(lp)
    got = ours(src, ["Q", "R"])
    assert got["q"] == expected["q"] and got["r"] == expected["r"]
    assert (-7, 2, -3) in got["q"] and (-7, 2, -1) in got["r"]
