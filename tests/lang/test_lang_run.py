"""Running programs: Datalog on tensors, equations, statements, the Program API."""
import random
import re

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import lang
from tensorlogic.lang import TensorLogicTypeError, UndefinedRelationWarning
from tensorlogic.lang.run.datalog import FixpointLimitWarning


def run(src, **kw):
    return lang.run(src, "prog.tl", **kw)


def arr(t):
    return np.asarray(t.numpy(), dtype=np.float64)


def graph(relation, n, edges, domain="N"):
    """A program's opening: the numbered domain 0..n and a binary relation over it holding the edges."""
    return (f"domain {domain} = 0..{n}\nrelation {relation}(a: {domain}, b: {domain})\n"
            + "".join(f"{relation}({a}, {b})\n" for a, b in edges))


# ---- Datalog ----------------------------------------------------------------------------------
FAMILY = """
domain Person = {Alice, Bob, Charlie, Dana}
relation Parent(x: Person, y: Person)
Parent(Alice, Bob)
Parent(Bob, Charlie)
Parent(Charlie, Dana)
Ancestor(x, y) <- Parent(x, y)
Ancestor(x, z) <- Ancestor(x, y), Parent(y, z)
"""


def test_facts_rules_queries_print_and_api(capsys):
    prog = run(FAMILY + "Ancestor(Alice, x)?\nAncestor(Alice, Charlie)?\nAncestor(Dana, x)?\n")
    assert capsys.readouterr().out == "x = Bob\nx = Charlie\nx = Dana\ntrue\nfalse\n"
    anc = prog["Ancestor"]
    assert isinstance(anc, tl.Tensor) and anc.dtype == tl.float16 and tuple(anc.shape) == (4, 4)
    assert arr(anc).tolist() == [[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert prog.domain("Person") == ["Alice", "Bob", "Charlie", "Dana"]
    assert prog.query("Ancestor(x, Dana)") == [{"x": "Alice"}, {"x": "Bob"}, {"x": "Charlie"}]
    assert prog.query("Ancestor(Alice, Dana)") is True and prog.query("Ancestor(Dana, Alice)?") is False
    assert prog.query("Ancestor(x, y), Parent(y, Dana)") == [{"x": "Alice", "y": "Charlie"},
                                                            {"x": "Bob", "y": "Charlie"}]


def test_a_query_joins_a_tensor_read_as_an_atom(capsys):
    # `Old[x], Parent(x, y)?`: a KeyError in the tuple engine's domain check before
    prog = run(FAMILY + "tensor Age: float16[Person] = [80, 50, 20, 1]\nOld[x] = Age[x] > 30\n"
               "Old[x], Parent(x, y)?\n")
    assert capsys.readouterr().out == "x = Alice, y = Bob\nx = Bob, y = Charlie\n"
    assert prog.query("Old[x], not Parent(x, Charlie)") == [{"x": "Alice"}]


def test_relation_print(capsys):
    run(FAMILY + "Parent?\n")
    assert capsys.readouterr().out.splitlines() == ["Parent(Alice, Bob)", "Parent(Bob, Charlie)",
                                                     "Parent(Charlie, Dana)"]


def test_untyped_relations_infer_their_domains():
    prog = run("Edge(a, b)\nEdge(b, c)\nEdge(c, a)\nEdge(d, d)\n"
               "Reach(x, y) <- Edge(x, y)\nReach(x, z) <- Reach(x, y), Edge(y, z)\n")
    assert prog.domain("Edge.0") == ["a", "b", "c", "d"] == prog.domain("Reach.1")
    assert prog.query("Reach(a, x)") == [{"x": "a"}, {"x": "b"}, {"x": "c"}]
    prog = run("E(0, 3)\nE(3, 1)\nP(x, y) <- E(x, y)\nP(x, z) <- P(x, y), E(y, z)\n")
    assert prog.domain("E.0") == [0, 1, 2, 3] and prog.query("P(0, x)") == [{"x": 1}, {"x": 3}]


def test_negative_integer_constants_are_values_to_compute_with():
    """`Temp(oslo, -5)`: an inferred integer domain with negative members is a range from its least one (it
    was a set of names: 'holds no integers to compute with')."""
    rng = random.Random()
    temps = {f"c{k}": rng.randrange(-30, 30) for k in range(rng.randrange(2, 8))}
    prog = run("".join(f"Temp({c}, {t})\n" for c, t in temps.items()) +
               "Warm(c) <- Temp(c, t), t > 10\nShift(c, t + 5) <- Temp(c, t)\nLow(min(t)) <- Temp(c, t)\n")
    assert {r["c"] for r in prog.query("Warm(c)")} == {c for c, t in temps.items() if t > 10}, temps
    assert {(r["c"], r["t"]) for r in prog.query("Shift(c, t)")} == {(c, t + 5) for c, t in temps.items()}
    assert prog.query("Low(m)") == [{"m": min(temps.values())}], temps


def test_relation_arguments_typed_int_or_string():
    """`relation Road(a: City, b: City, km: int)`: a scalar type instead of a domain (it was 'unknown domain
    int'); the column's domain is inferred."""
    rng = random.Random()
    roads = [(f"c{k}", f"c{k + 1}", rng.randrange(1, 500)) for k in range(rng.randrange(2, 6))]
    prog = run("domain City = {" + ", ".join(f"c{k}" for k in range(len(roads) + 1)) + "}\n"
               "relation Road(a: City, b: City, km: int)\nrelation Name(c: City, n: string)\n" +
               "".join(f"Road({a}, {b}, {d})\n" for a, b, d in roads) + 'Name(c0, "start")\n'
               "Far(a) <- Road(a, b, d), d > 250\nTotal(sum(d)) <- Road(a, b, d)\n")
    assert {r["a"] for r in prog.query("Far(a)")} == {a for a, b, d in roads if d > 250}, roads
    assert prog.query("Total(t)") == [{"t": sum(d for _, _, d in roads)}]
    assert prog.query("Name(c, n)") == [{"c": "c0", "n": "start"}]


def test_negation_comparisons_wildcards_constants():
    prog = run(FAMILY + """
Person2(Alice)
Person2(Bob)
Person2(Charlie)
Person2(Dana)
NotAnc(x, y) <- Person2(x), Person2(y), not Ancestor(x, y), x != y
HasChild(x) <- Parent(x, _)
Root(x) <- Person2(x), not Parent(_, x)
FromAlice(y) <- Ancestor(Alice, y)
Self(x, x) <- Person2(x)
AliceTo(Alice, y) <- Parent(Bob, y)
""")
    anc = arr(prog["Ancestor"])
    not_anc = arr(prog["NotAnc"])
    expected = ((anc == 0) & ~np.eye(4, dtype=bool)).astype(float)
    np.testing.assert_array_equal(not_anc, expected)
    assert [r["x"] for r in prog.query("HasChild(x)")] == ["Alice", "Bob", "Charlie"]
    assert prog.query("Root(x)") == [{"x": "Alice"}]
    assert [r["y"] for r in prog.query("FromAlice(y)")] == ["Bob", "Charlie", "Dana"]
    np.testing.assert_array_equal(arr(prog["Self"]), np.eye(4))
    assert prog.query("AliceTo(x, y)") == [{"x": "Alice", "y": "Charlie"}]


def test_negation_of_a_relation_nothing_defines_holds_with_a_warning():
    # clingo's and Datalog's meaning: an atom no rule or fact derives is false (clingo: an info).
    src = FAMILY + "Free(x) <- Parent(x, y), not Banned(x)\nLone(x) <- Parent(x, y), not Rival(x, z)\n"
    with pytest.warns(UndefinedRelationWarning) as got:
        prog = run(src)
    assert sorted((w.filename, w.lineno, w.message.column, w.message.message) for w in got) == [
        ("prog.tl", 9, 30, "relation 'Banned' has no facts or rules: `not Banned(...)` always holds"),
        ("prog.tl", 10, 30, "relation 'Rival' has no facts or rules: `not Rival(...)` always holds")]
    assert str(got[0].message).startswith("prog.tl:9:30: warning: relation 'Banned' has no facts")
    assert [r["x"] for r in prog.query("Free(x)")] == ["Alice", "Bob", "Charlie"]
    assert [r["x"] for r in prog.query("Lone(x)")] == ["Alice", "Bob", "Charlie"]
    assert prog.query("Banned(x)") == []
    with pytest.raises(TensorLogicTypeError, match="unknown relation 'Banned'"):
        run(FAMILY + "Free(x) <- Parent(x, y), Banned(x)\n")


def test_a_declared_domain_reads_as_the_relation_of_its_members(capsys):
    # A rule ranges over a domain through its name (otherwise only facts listing it would do).
    src = FAMILY + """domain N = 2..7
Leaf(x) <- Person(x), not Parent(x, y)
Odd(n) <- N(n), n % 2 == 1
Others(x, y) <- Person(x), Person(y), x != y
Weight[x] = Person(x) * 2
print(Person, N)
Person?
"""
    prog = run(src)
    assert [r["x"] for r in prog.query("Leaf(x)")] == ["Dana"]
    assert [r["n"] for r in prog.query("Odd(n)")] == [3, 5]
    assert len(prog.query("Others(x, y)")) == 4 * 3
    assert arr(prog["Weight"]).tolist() == [2, 2, 2, 2]
    assert capsys.readouterr().out == "4 5\nPerson = 4\n"    # the name as a value is still the size
    for sparse in (False, True):
        prog = lang.compile(FAMILY + "Leaf(x) <- Person(x), not Parent(x, y)\n", "prog.tl")
        if sparse:
            prog.storage("Leaf", "sparse")
        assert prog.run().query("Leaf(x)") == [{"x": "Dana"}]
    with pytest.raises(TensorLogicTypeError, match="'Person' is a domain .line 2., not a relation"):
        run(FAMILY + "Person(Eve)\n")
    with pytest.raises(TensorLogicTypeError, match="'Open' is a domain that grows") as err:
        run("domain Open\nR(x) <- Open(x)\n")
    assert err.value.lineno == 2 and err.value.column == 9


def test_mutual_recursion_and_rules_over_several_strata():
    prog = run(graph("Succ", 7, [(i, i + 1) for i in range(6)]) + """
Zero(0)
Even(x) <- Zero(x)
Even(y) <- Odd(x), Succ(x, y)
Odd(y) <- Even(x), Succ(x, y)
Both(x) <- Even(x), Odd(x)
""")
    assert [r["x"] for r in prog.query("Even(x)")] == [0, 2, 4, 6]
    assert [r["y"] for r in prog.query("Odd(y)")] == [1, 3, 5]
    assert prog.query("Both(x)") == []


def python_closure(edges):
    succ = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    total, delta = set(edges), set(edges)
    while delta:
        delta = {(x, z) for x, y in delta for z in succ.get(y, ())} - total
        total |= delta
    return total


@pytest.mark.parametrize("n, m, seed", [(30, 40, 0), (60, 50, 1), (80, 400, 2)])
def test_semi_naive_closure_matches_python(n, m, seed):
    rng = random.Random(seed)
    edges = {(rng.randrange(n), rng.randrange(n)) for _ in range(m)}
    src = graph("E", n, edges, "V")
    src += "P(x, y) <- E(x, y)\nP(x, z) <- P(x, y), E(y, z)\nQ(x, z) <- E(x, y), Q(y, z)\nQ(x, y) <- E(x, y)\n"
    src += "D(x, z) <- D(x, y), D(y, z)\nD(x, y) <- E(x, y)\n"
    prog = run(src)
    expected = python_closure(edges)
    for name in ("P", "Q", "D"):      # left-linear (sparse join), right-linear, non-linear
        got = {tuple(map(int, ij)) for ij in np.argwhere(arr(prog[name]) > 0)}
        assert got == expected, name


def test_iteration_limit_is_reported():
    src = FAMILY.replace("Parent(Charlie, Dana)", "Parent(Charlie, Dana)\nParent(Dana, Alice)")
    prog = lang.compile(src, "prog.tl", max_iterations=1)
    with pytest.warns(FixpointLimitWarning, match="Ancestor") as caught:
        prog.run()["Ancestor"]
    rule_line = src.splitlines().index("Ancestor(x, y) <- Parent(x, y)") + 1
    # located at the program's rule, not at the library line that raised it
    assert [(w.filename, w.lineno) for w in caught] == [("prog.tl", rule_line)]


# ---- equations --------------------------------------------------------------------------------
def test_equations_projections_and_index_arithmetic():
    prog = run("""
tensor W: float16[2, 3] = [[1, 2, 3], [4, 5, 6]]
tensor X: float16[3] = [1, 0, -1]
tensor F: float16[4, 5] = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15], [16, 17, 18, 19, 20]]
Y[i] = relu(W[i, j] X[j] + 1)
S = (W[i, j] - 1) ^ 2
Two[i] = X[i]
Two[i] = 2 X[i]
Mx[x / 2, y / 2] max= F[x, y]
Mn[x / 2] min= F[x, y]
Av[x / 2, y / 2] avg= F[x, y]
Sh[i] = X[i + 1]
Back[i] = X[i - 1]
Up[i] = X[i / 2]
Rev[i] = X[2 - i]
tensor Sq: float16[2, 2] = [[1, 2], [3, 4]]
Diag[i] = Sq[i, i]
Col[i] = F[i, 2]
Cst[0] = 5
Cst[3] = 7
tensor Out: float16[3, 2]
Out[i, j] = X[i]
Left[i + 1] = X[i]
""")
    w, x, f = arr(prog["W"]), arr(prog["X"]), arr(prog["F"])
    np.testing.assert_allclose(arr(prog["Y"]), np.maximum(w @ x + 1, 0))
    assert float(arr(prog["S"])) == ((w - 1) ** 2).sum()
    np.testing.assert_allclose(arr(prog["Two"]), 3 * x)
    np.testing.assert_allclose(arr(prog["Mx"]), [[7, 9, 10], [17, 19, 20]])
    np.testing.assert_allclose(arr(prog["Mn"]), [1, 11])
    np.testing.assert_allclose(arr(prog["Av"]), [[4, 6, 7.5], [14, 16, 17.5]])
    np.testing.assert_allclose(arr(prog["Sh"]), [0, -1])
    np.testing.assert_allclose(arr(prog["Back"]), [0, 1, 0, -1])
    np.testing.assert_allclose(arr(prog["Up"]), [1, 1, 0, 0, -1, -1])
    np.testing.assert_allclose(arr(prog["Rev"]), [-1, 0, 1])
    np.testing.assert_allclose(arr(prog["Diag"]), [1, 4])
    np.testing.assert_allclose(arr(prog["Col"]), f[:, 2])
    np.testing.assert_allclose(arr(prog["Cst"]), [5, 0, 0, 7])
    with pytest.raises(TensorLogicTypeError, match="the size of index 'j' is unknown"):
        lang.compile("tensor X: float16[3] = [1, 0, -1]\nBc[i, j] = X[i]\n")
    np.testing.assert_allclose(arr(prog["Out"]), np.repeat(x[:, None], 2, 1))
    np.testing.assert_allclose(arr(prog["Left"]), [0, 1, 0, -1])


def test_normalised_axes_and_temperature():
    prog = run("""
tensor A: float16[2, 3] = [[1, 2, 3], [0, 0, 1]]
Rows[i, j.] = softmax(A[i, j])
Cols[i., j] = softmax(A[i, j])
Ln[i, j.] = lnorm(A[i, j])
Hard[i, j] = sig(A[i, j] - 1.5, 0)
Soft[i, j] = sig(A[i, j] - 1.5, 2)
Plain[i, j] = sig(A[i, j])
""")
    a = arr(prog["A"])
    e = np.exp(a)
    np.testing.assert_allclose(arr(prog["Rows"]), e / e.sum(1, keepdims=True), atol=2e-3)
    np.testing.assert_allclose(arr(prog["Cols"]), e / e.sum(0, keepdims=True), atol=2e-3)
    ln = (a - a.mean(1, keepdims=True)) / np.sqrt(a.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(arr(prog["Ln"]), ln, atol=5e-3)
    np.testing.assert_array_equal(arr(prog["Hard"]), (a > 1.5).astype(float))
    np.testing.assert_allclose(arr(prog["Soft"]), 1 / (1 + np.exp(-(a - 1.5) / 2)), atol=2e-3)
    np.testing.assert_allclose(arr(prog["Plain"]), 1 / (1 + np.exp(-a)), atol=2e-3)


def test_recursive_equation_runs_to_a_fixpoint():
    prog = run("tensor X: float16[3]\nX[i] = 0.5 X[i] + 1\n")
    np.testing.assert_allclose(arr(prog["X"]), [2, 2, 2], atol=1e-2)
    prog = lang.compile("tensor X: float16[2]\nX[i] = 1 - X[i]\n", "p.tl", max_iterations=20)
    with pytest.warns(FixpointLimitWarning) as caught:
        prog.run()["X"]
    assert [(w.filename, w.lineno) for w in caught] == [("p.tl", 2)]


def test_an_equation_without_indices_holds_the_right_sides_value(rng):
    """`W = randn(3, 4)` and `X = [1, 2]` are whole tensors that later equations index; `S = X[i] X[i]`
    (index notation on the right) is a scalar, and indexing it is a located error."""
    a = rng.standard_normal((3, 4)).astype(np.float16)
    prog = run(f"W = {a.tolist()}\nX = [1.0, 2.0, 4.0, -1.0]\nS = X[i] X[i]\nY[i] = W[i, j] X[j] + S\n"
               "tensor D: float16[2]\nD = [5, 6]\n")
    x = np.array([1, 2, 4, -1], dtype=np.float64)
    np.testing.assert_allclose(arr(prog["Y"]), a.astype(np.float64) @ x + x @ x, rtol=2e-3, atol=2e-2)
    assert arr(prog["D"]).tolist() == [5, 6]
    with pytest.raises(TensorLogicTypeError, match=r"prog.tl:3:8: 'S' has 0 axes but 1 index is given"):
        run("tensor A: float16[2] = [1, 2]\nS = A[i] A[i]\nQ[k] = S[k]\nprint(Q)\n")


def test_an_equations_indices_are_its_own_where_a_loop_binds_the_same_names(capsys):
    """A top-level `for w in Word` makes w a global variable; `(w != v)` and `X[i] * i` in equations
    still read the equations' own indices."""
    prog = run("domain Word = {a, b, c}\ntensor E: float16[Word] = [1, 2, 3]\nfor w in Word { let z = w }\n"
               "let i = 5\nS[w, v] = E[w] E[v] * (w != v)\ntensor X: float16[3] = [1, 2, 3]\nY[i] = X[i] * i\n"
               "S[x, y], x = b?\nprint(i)\n")
    assert arr(prog["S"]).tolist() == [[0, 2, 3], [2, 0, 6], [3, 6, 0]]
    assert arr(prog["Y"]).tolist() == [0, 2, 6]
    # a query's `x = b` (Datalog's spelling) reads the name on the tensor's axis of Word
    assert capsys.readouterr().out == "x = b, y = a\nx = b, y = c\n5\n"


def test_functions_are_hygienic_the_programs_variables_bind_none_of_their_indices(capsys):
    """A top-level `for i` (or `let i`) made `i` a global variable, and inside a function the `i` of
    `S[i] = M[i, j]` read its value: each call summed another row, or failed before the loop ran.
    A function's index variables are its own; only its parameters and locals stand for values."""
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float64)
    src = ("tensor A: float16[2, 3] = [[1, 2, 3], [4, 5, 6]]\n"
           "fn rowsum(M: float16[2, 3]) -> float16[2] {\n    S[i] = M[i, j]\n    S\n}\n"
           "fn total(M: float16[2, 3]) {\n    let t = M[i, j] * 1.0\n    sum(t)\n}\n"
           "fn scaled(M: float16[2, 3]) -> float16[2, 3] {\n    S[i, j] = M[i, j] * i\n    S\n}\n"
           "fn pick(M: float16[2, 3], i) { M[i, 0] }\n"
           "print(rowsum(A))\n"
           "for i in range(2) {\n    print(rowsum(A))\n}\n"
           "for j in range(3) {\n    print(total(A))\n}\n"
           "let i = 1\nprint(scaled(A))\nprint(pick(A, i))\n")
    run(src)
    out = capsys.readouterr().out.splitlines()
    printed = [[float(v) for v in re.findall(r"-?\d+(?:\.\d*)?", line)] for line in out]
    assert printed[:6] == [a.sum(axis=1).tolist()] * 3 + [[a.sum()]] * 3, out
    assert printed[6] + printed[7] == (a * np.arange(2)[:, None]).ravel().tolist(), out
    # (a parameter named like the program's variable is the function's own: it binds the index)
    assert printed[8] == [a[1, 0]], out
    # A query in a function: `x` is its own variable, whatever `let x` the program ran before.
    run("Edge(1, 2)\nEdge(2, 3)\nPath(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n"
        "let x = 2\nfn reach() {\n    Path(x, y)?\n}\nreach()\n")
    assert capsys.readouterr().out == "x = 1, y = 2\nx = 1, y = 3\nx = 2, y = 3\n"
    # A program's variable where a value was meant: the error says why the index has no size.
    with pytest.raises(TensorLogicTypeError, match=r"prog.tl:4:7: cannot infer the size of index 'k' "
                                                   r"\(the program's variable 'k' binds no index"):
        run("let k = 1\nfn f() {\n    let h = zeros(3)\n    h[k] = 1.0\n    h\n}\nprint(f())\n")


def test_boolean_and_numeric_tensors_mix_and_definitions_follow_changes():
    prog = run(graph("Link", 3, [(0, 1), (1, 2)]) + """
tensor Z: float16[3, 2] = [[1, 2], [3, 4], [5, 6]]
let scale = 2
Agg[n, d] = Link(n, n') Z[n', d] * scale
""")
    np.testing.assert_allclose(arr(prog["Agg"]), [[6, 8], [10, 12], [0, 0]])
    prog.runtime.globals["scale"] = 1
    prog.runtime.versions["scale"] += 1
    np.testing.assert_allclose(arr(prog["Agg"]), [[3, 4], [5, 6], [0, 0]])


def test_queries_of_tensors_print_values(capsys):
    run("tensor X: float16[3] = [1, 2, 3]\nX?\nX[i] X[i]?\nY[i] = X[i] * 2\nY?\n")
    assert capsys.readouterr().out == "X = [1., 2., 3.]\nX[i] X[i] = 14\nY = [2., 4., 6.]\n"


def test_equation_tensors_take_their_axes_domains_from_the_right_side(rng):
    """`Joint[c, w] = PC[c] PW[c, w]` indexes its axes by Bool, so `Joint[c, yes]` reads a constant (it was
    'axis 1 of Joint is not indexed by a domain'); an integer read at run time is a position."""
    seed = int(rng.integers(1 << 30))
    rng = np.random.default_rng(seed)
    pc = rng.dirichlet([1, 1]).astype(np.float16)
    pw = rng.dirichlet([1, 1], size=2).astype(np.float16)
    prog = run(f"""
domain Bool = {{no, yes}}
tensor PC: float16[Bool] = {pc.astype(float).tolist()}
tensor PW: float16[Bool, Bool] = {pw.astype(float).tolist()}
Joint[c, w] = PC[c] PW[c, w]
Wet[c] = Joint[c, yes]
Evidence = Joint[c, yes]
Post[c] = Joint[c, yes] / Evidence
let first = Joint[1, 0]
""")
    joint = pc.astype(float)[:, None] * pw.astype(float)
    np.testing.assert_allclose(arr(prog["Wet"]), joint[:, 1], atol=2e-3, err_msg=f"seed {seed}")
    np.testing.assert_allclose(arr(prog["Post"]), joint[:, 1] / joint[:, 1].sum(), atol=5e-3, err_msg=f"seed {seed}")
    assert float(prog["first"].item()) == pytest.approx(joint[1, 0], abs=2e-3)
    with pytest.raises(TensorLogicTypeError, match="'x' ranges over A .line 3. and over B .line 4."):
        run("domain A = {a}\ndomain B = {b}\ntensor P: float16[A] = [1]\ntensor Q: float16[B] = [1]\n"
            "S[x] = P[x]\nT[x] = S[x] Q[x]\n")
    with pytest.raises(TensorLogicTypeError, match="'c' is not in domain A"):
        run("domain A = {a, b}\ndomain B = {c}\ntensor P: float16[A] = [1, 2]\nS[x] = P[x]\nlet v = S[c]\n")


def test_a_query_reads_only_variables_bound_before_it(capsys):
    """A name in a query atom is a value only where a variable of that name is already bound: `E(n, v)?`
    above a later `for n in ...` asks for n (it was 'an index here must be a single number')."""
    rng = random.Random()
    edges = sorted({(rng.randrange(5), rng.randrange(5)) for _ in range(6)})
    src = graph("E", 5, edges) + "E(n, v)?\nlet k = {k}\nE(k, v)?\nfor n in range(2) {{ let w = n }}\nE(n, v)?\n"
    k = edges[0][0]
    run(src.format(k=k))
    want = ([f"n = {a}, v = {b}" for a, b in edges] + [f"v = {b}" for a, b in edges if a == k] +
            ([f"v = {b}" for a, b in edges if a == 1] or ["false"]))
    assert capsys.readouterr().out.splitlines() == want, edges
    run("main {\n    Big(x)?\n    let x = 2\n    Big(x)?\n}\nBig(3)\n")
    assert capsys.readouterr().out.splitlines() == ["x = 3", "false"]


def test_a_variable_not_yet_set_is_named_in_indices_and_slices():
    """The lookup's own error stands (it was replaced by 'an index here must be a single number')."""
    for src, col in [("relation E(a, b)\nE(1, 2)\nif false { let k = 1 }\nE(k, v)?\n", 3),
                     ("let x = [1, 2, 3]\nif false { let k = 1 }\nprint(x[k:])\n", 9),
                     ("tensor X: float16[3] = [1, 2, 3]\nif false { let k = 1 }\nprint(X[k])\n", 9)]:
        with pytest.raises(TensorLogicTypeError) as info:
            run(src)
        assert "'k' is used before `let k` ran" in str(info.value), str(info.value)
        assert (info.value.lineno, info.value.offset) == (len(src.splitlines()), col), str(info.value)


def test_f16_values_print_as_their_shortest_decimals(rng, capsys):
    """A float16 value prints as the shortest decimal that reads back as it (1.4, not its f16 neighbour
    1.40039); integers stay exact; arrays likewise."""
    seed = int(rng.integers(1 << 30))
    v = np.random.default_rng(seed).uniform(-50, 50, 5).round(2)
    run(f"let v = {v.tolist()} + zeros(5)\nprint(v[0])\nprint(v)\nprint(round(1.43 * 10) / 10)\n"
        "print(65504 + zeros(1)[0], [65504, 0.1] + zeros(2))\n")
    f16 = v.astype(np.float16)
    first, second, third, fourth = capsys.readouterr().out.splitlines()
    assert first == f"{float(str(f16[0])):.6g}", (first, seed)
    assert [float(x) for x in second.strip("[]").split(",")] == [float(str(x)) for x in f16], (second, seed)
    assert third == "1.4"
    assert fourth == "65504 [65504. ,     0.1]", fourth


def test_for_walks_a_domains_constants(capsys):
    """`for p in Person` visits the constants in index order (it was 'cannot loop over int'); each
    binds like a written constant in indices and queries."""
    rng = random.Random()
    names = [f"p{k}" for k in rng.sample(range(100), rng.randrange(2, 6))]
    ages = [rng.randrange(1, 90) for _ in names]
    likes = sorted({(rng.randrange(len(names)), rng.randrange(len(names))) for _ in range(4)})
    run("domain Person = {" + ", ".join(names) + "}\nrelation Likes(x: Person, y: Person)\n" +
        "".join(f"Likes({names[a]}, {names[b]})\n" for a, b in likes) +
        f"tensor Age: float16[Person] = {ages}\nfor p in Person {{\n    print(p, Age[p])\n    Likes(p, y)?\n}}\n")
    want = []
    for k, name in enumerate(names):
        want.append(f"{name} {ages[k]}")
        want += [f"y = {names[b]}" for a, b in likes if a == k] or ["false"]
    assert capsys.readouterr().out.splitlines() == want
    with pytest.raises(TensorLogicTypeError, match=r"cannot loop over a number \(range\(n\) counts to it\)"):
        run("let n = 3\nfor k in n { print(k) }\n")


def test_runtime_shape_mismatch_is_located():
    with pytest.raises(TensorLogicTypeError) as info:
        run("tensor A: float16[?] = [1, 2, 3]\ntensor B: float16[?] = [1, 2]\nS = A[i] B[i]\n")
    assert (info.value.lineno, info.value.offset) == (3, 12)
    assert "index 'i' has size 2 in B[i] but size 3 in A[i]" in str(info.value)
    with pytest.raises(TensorLogicTypeError, match="'t' is shifted on the left side") as info:
        run("tensor U: float16[?] = [1, 2]\nH[t + 1] = tanh(H[t] + U[t])\n")["H"]     # sizes known when it runs
    assert (info.value.lineno, info.value.offset) == (2, 26)


@pytest.mark.parametrize("src, line, col, message", [
    # (sizes only a run knows: with float16[3, 4] declared, `tl check` reports it: test_lang_check_values.py)
    ("tensor W: float16[?, ?] = ones(3, 4)\nM = W @ W\nprint(\"hi\")\n", 2, 9,
     "matmul: shapes [3, 4] and [3, 4] cannot be multiplied"),
    ("domain D = 0..3\nrelation Bad(x: D)\nE(a, 2)\nBad(y * 3) <- E(x, y)\nprint(\"hi\")\n", 4, 5,
     "6 is outside domain D"),
    ("tensor V: float16[?] = [1, 2]\nA[i] = V[i]\nB[i] = A[i] + reshape(V, [3])\nprint(\"hi\")\n", 3, 15,
     "reshape"),
])
def test_a_definition_nothing_reads_is_evaluated_at_the_end_for_its_errors(src, line, col, message, capsys):
    with pytest.raises(TensorLogicTypeError) as info:
        run(src)
    assert (info.value.lineno, info.value.offset) == (line, col) and message in str(info.value), str(info.value)
    assert capsys.readouterr().out == "hi\n"       # the statements ran first


def test_a_rule_over_a_tensor_axis_without_a_domain_says_how_to_give_it_one():
    with pytest.raises(TensorLogicTypeError) as info:
        run("tensor X: float16[4] = [-2, -1, 1, 2]\nPos[n] = X[n] > 0\nYes(n) <- Pos[n]\nYes(n)?\n")
    assert (info.value.lineno, info.value.offset) == (3, 5)
    assert "no fact or rule gives 'Yes' a constant at that position: a rule over a tensor's positions " \
        "needs the axis declared with a domain" in info.value.message
    prog = run("domain I = 0..4\ntensor X: float16[I] = [-2, -1, 1, 2]\nPos[n] = X[n] > 0\nYes(n) <- Pos[n]\n")
    assert prog.query("Yes(n)") == [{"n": 2}, {"n": 3}]


# ---- statements and functions -----------------------------------------------------------------
def test_statements_functions_and_output(capsys):
    run("""
tensor X: float16[4] = [1, 2, 3, 4]
fn double(v) { v * 2 }
fn fact(n) { if n <= 1 { return 1 } ; return n * fact(n - 1) }
fn norm2(x: float16[?]) -> float16 { sqrt(sum(x * x)) }
let s = sum(X)
if s > 20 { print("big", s) } else if s > 5 { print("medium", s) } else { print("small") }
let c = 0
while c < 3 { c = c + 1 }
for i in range(3) { print(i, double(i)) }
print(fact(5), c, shape(X), len(X), norm2(X) > 5.4)
print(matmul(reshape(X, (2, 2)), reshape(X, (2, 2))))
print(softmax(X, dim: 0)[3] > 0.6, shape(concat([X, X])))
main { let m = X[0] + 1 ; print("main", m) }
""")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "medium 10"
    assert out[1:4] == ["0 0", "1 2", "2 4"]
    assert out[4] == "120 3 (4,) 4 1"            # a comparison of tensors is a 0/1 tensor
    assert out[5:7] == ["[[ 7., 10.],", " [15., 22.]]"]
    assert out[7] == "1 (8,)"
    assert out[8] == "main 2"


def test_a_statement_sets_elements_of_a_value(capsys, rng):
    """`h[1] = 7`, `q[i, j] = ...` in loops, slices, `+=`, lists, a given tensor (its definitions
    follow); the value is copied, so another name holding it is unchanged."""
    a = rng.integers(-5, 5, size=(3, 4))
    prog = run(f"""
let h = zeros(3) + 1
h[1] = 7
let b = h
b[0] = -1
let m = zeros(3, 4)
for i in range(3) {{ for j in range(4) {{ m[i, j] = {a.tolist()}[i][j] * (i + 1) }} }}
m[0, 1:3] = [8, 9]
m[2, 3] += 100
let xs = [1, 2, 3]
xs[2] = 30
tensor T: float16[3] = [1, 2, 3]
Y[i] = T[i] * 2
print(Y)
main {{
    T[0] = 10
    print(h, b, xs, Y)
}}
""")
    want = a * np.array([[1], [2], [3]])
    want[0, 1:3] = [8, 9]
    want[2, 3] += 100
    assert arr(prog["m"]).tolist() == want.tolist()
    assert capsys.readouterr().out.endswith("[2., 4., 6.]\n[1., 7., 1.] [-1.,  7.,  1.] [1, 2, 30] [20.,  4.,  6.]\n")
    with pytest.raises(TensorLogicTypeError, match="prog.tl:2:1: cannot set these elements of 'h': index 5"):
        run("let h = zeros(3)\nh[5] = 1\n")


def test_index_notation_in_functions_reads_lists_and_defines_locals(capsys):
    """A list of numbers passed for a tensor is one in index notation; a function's first `y[i] = ...`
    is an equation defining its local y (and a later `y[k] = v` sets elements)."""
    run("fn dot(a, b) { a[i] b[i] }\nfn double_all(x) {\n  y[i] = x[i] * 2\n  y[0] = -1\n  return y\n}\n"
        "print(dot([1.0, 2.0], [3.0, 4.0]), double_all([1.0, 2.0, 3.0]))\n")
    assert capsys.readouterr().out == "11 [-1.,  4.,  6.]\n"


def test_tests_and_assertions(capsys):
    prog = run('test ok { assert(1 + 1 == 2) }\ntest bad { assert(2 < 1, "two is not below one") }\n',
               test=True)
    results = prog.test_results
    assert [(r.name, r.passed) for r in results] == [("ok", True), ("bad", False)]
    assert "prog.tl:2:12: assertion failed: two is not below one" in results[1].message
    out = capsys.readouterr().out
    assert "test ok ... ok" in out and "test bad ... FAILED" in out
    with pytest.raises(AssertionError, match="prog.tl:1:1: assertion failed"):
        run("assert(false)\n")


def test_function_type_annotations_are_checked():
    with pytest.raises(TensorLogicTypeError, match="argument 'x' of f has shape \\[3\\] but float16\\[2\\]"):
        run("fn f(x: float16[2]) { x }\nlet y = f(ones(3))\n")


def test_imports(tmp_path):
    (tmp_path / "facts.tl").write_text("Parent(Alice, Bob)\nParent(Bob, Carl)\n")
    main = tmp_path / "main.tl"
    main.write_text('import "facts.tl"\nimport "facts.tl"\nG(x, z) <- Parent(x, y), Parent(y, z)\n')
    prog = lang.run(main.read_text(), str(main))
    assert prog.query("G(x, y)") == [{"x": "Alice", "y": "Carl"}]


def test_compile_does_not_run(capsys):
    prog = lang.compile('print("hello")\n')
    assert capsys.readouterr().out == ""
    prog.run()
    assert capsys.readouterr().out == "hello\n"


def test_unknown_program_names_raise_key_error():
    prog = run(FAMILY)
    with pytest.raises(KeyError):
        prog["Nope"]
    with pytest.raises(KeyError):
        prog.domain("Nope")


def test_general_left_sides_integer_tensor_indices_and_max_product():
    prog = run("""
tensor A: float16[3] = [1, 2, 3]
tensor B: float16[2] = [1, -1]
Poly[x + y] = A[x] B[y]
PMax[x + y] max= A[x] B[y]
tensor E: float16[4, 2] = [[0, 0], [1, 1], [2, 2], [3, 3]]
tensor Idx: int32[3] = [3, 0, 2]
Pick[i, d] = E[Idx[i], d]
tensor M: float16[2, 3] = [[1, 5, 2], [0, 1, 4]]
tensor V: float16[3] = [1, 1, 2]
MaxProd[i] max= M[i, j] V[j]
""")
    np.testing.assert_allclose(arr(prog["Poly"]), np.convolve([1, 2, 3], [1, -1]))
    np.testing.assert_allclose(arr(prog["PMax"]), [1, 2, 3, -3])
    np.testing.assert_allclose(arr(prog["Pick"]), [[3, 3], [0, 0], [2, 2]])
    np.testing.assert_allclose(arr(prog["MaxProd"]), [5, 8])
    assert prog["Idx"].dtype == tl.int32


def test_named_sizes_bind_at_first_use():
    prog = run("tensor N1: float16[n] = [1, 2]\ntensor N2: float16[n] = [3, 4]\nS[i] = N1[i] + N2[i]\n")
    np.testing.assert_allclose(arr(prog["S"]), [4, 6])
    with pytest.raises(TensorLogicTypeError, match="'N2' is declared float16\\[2\\] but its value has shape \\[3\\]"):
        run("tensor N1: float16[n] = [1, 2]\ntensor N2: float16[n] = [3, 4, 5]\n")


def test_engine_refusals_in_index_notation_are_located():
    """`true - E(x, y)` (a mutated `<-` the fuzzer wrote) subtracts from a bool relation, which the engine refuses
    with a TypeError: in index notation it reached the user unlocated, as the library's own TypeError."""
    src = "domain N = 0..3\nrelation E(a: N, b: N)\nE(0, 1)\nR(x, y) <- E(x, y)\nR(x, y) <true - E(x, y)\n"
    with pytest.raises(TensorLogicTypeError, match="cannot combine .*subtraction with a bool tensor") as info:
        run(src)
    assert info.value.lineno == 5
