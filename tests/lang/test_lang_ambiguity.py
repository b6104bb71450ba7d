"""Forms whose meaning a program cannot state are located errors that say why and what to write
instead; the forms they point to answer as numpy and clingo do."""
import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.lang import TensorLogicTypeError

from fuzz_logic_clingo import clingo_model


def f16_matrix(rng, rows, cols):
    return rng.standard_normal((rows, cols)).astype(np.float16)


def literal(a):
    return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in a) + "]"


@pytest.mark.parametrize("fn", ["lnorm", "softmax"])
def test_normalising_an_index_the_left_side_sums_is_an_error(fn):
    rng = np.random.default_rng()
    x, w = f16_matrix(rng, 3, 5), f16_matrix(rng, 5, 2)
    head = f"tensor X: float16[3, 5] = {literal(x)}\ntensor W: float16[5, 2] = {literal(w)}\n"
    with pytest.raises(TensorLogicTypeError) as info:
        lang.run(head + f"Y[n, j] = {fn}(X[n, i]) W[i, j]\nY?\n", "prog.tl")
    assert (info.value.lineno, info.value.offset) == (3, 11)
    assert "'i', which the left side sums" in info.value.message
    # The equation of its own that the error names normalises along i, as numpy does.
    prog = lang.run(head + f"A[n, i.] = {fn}(X[n, i])\nY[n, j] = A[n, i] W[i, j]\n")
    xd = x.astype(np.float64)
    if fn == "lnorm":
        a = (xd - xd.mean(1, keepdims=True)) / np.sqrt(xd.var(1, keepdims=True) + 1e-5)
    else:
        a = np.exp(xd - xd.max(1, keepdims=True))
        a /= a.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(prog["Y"].numpy(), np.float64), a @ w, rtol=2e-2, atol=2e-2)


def mixed_program(rng):
    """Val's positions hold names and integers alike (one class of positions through Mixed)."""
    rows = {(rng.choice(["a", "b", "c", 1, 2, 3]), rng.choice(["a", "b", "c", 1, 2, 3])) for _ in range(8)}
    return sorted(rows, key=repr)


def test_mixed_names_and_integers_compare_as_clingo_orders_them():
    """== and != compare any constants; < <= > >= follow clingo's total order (integers by value, then
    names by their text); arithmetic reads the integers, and a row holding a name there drops."""
    rng = np.random.default_rng()
    rows = [tuple(str(v) if isinstance(v, str) else int(v) for v in r) for r in mixed_program(rng)]
    facts = "".join(f"Val({a}, {b})\n" for a, b in rows)
    rules = ("Mixed(x) <- Val(x, _)\nMixed(y) <- Val(_, y)\nPair(x, y) <- Mixed(x), Mixed(y), x != y, not Val(x, y)\n"
             "Less(x, y) <- Mixed(x), Mixed(y), x < y\nBig(x) <- Mixed(x), x > 1\nTag(b)\nLow(x) <- Mixed(x), x <= b\n"
             "Next(x) <- Mixed(x), x + 1 > 2\nSucc(x + 1) <- Mixed(x)\n")
    prog = lang.run(facts + rules)
    want = clingo_model("".join(f"val({a}, {b}).\n" for a, b in rows) +
                        "mixed(X) :- val(X, _). mixed(Y) :- val(_, Y).\n"
                        "pair(X, Y) :- mixed(X), mixed(Y), X != Y, not val(X, Y).\n"
                        "less(X, Y) :- mixed(X), mixed(Y), X < Y. big(X) :- mixed(X), X > 1.\n"
                        "tag(b). low(X) :- mixed(X), X <= b.\n"
                        "next(X) :- mixed(X), X + 1 > 2. succ(X + 1) :- mixed(X).\n")
    for name, names in (("Pair", "xy"), ("Less", "xy"), ("Big", "x"), ("Low", "x"), ("Next", "x"), ("Succ", "x")):
        got = {tuple(r[v] for v in names) for r in prog.query(f"{name}({', '.join(names)})")}
        assert got == want.get(name.lower(), set()), name
