"""Programs that run but rarely mean what they say get a located warning (file:line:col, the line
and a caret, like an error), with how to write them instead; the rewrites they suggest run."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.lang import (AddedEquationsWarning, ConstantNameWarning, NonFiniteLossWarning,
                              TensorLogicTypeError, TensorLogicWarning)

# Programs run here to show what a warning is about warn on purpose; `caught` records them.
pytestmark = pytest.mark.filterwarnings("ignore::tensorlogic.lang.TensorLogicWarning")


def arr(t):
    return np.asarray(t.numpy(), dtype=np.float64)


def caught(src, category=TensorLogicWarning, run=False):
    """The warnings of `category` that checking (and running) `src` gives, as (line, column, bare message)."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        prog = lang.compile(src, "prog.tl")
        if run:
            prog.run()
    return [(w.message.lineno, w.message.column, w.message.message) for w in got
            if issubclass(w.category, category)]


def f16(x):
    return np.asarray(x, dtype=np.float16).astype(np.float64)


def sig(x):
    return 1 / (1 + np.exp(-x))


# ---- equations adding over entries another one sets ---------------------------------------------
PAPER_MLP = """tensor X0: float16[3] = [1, 0, 1]
tensor W: float16[2, 3, 3] = ones(2, 3, 3)
tensor X: float16[3, 3]
X[0, j] = X0[j]
X[i, j] = sig(W[i - 1, j, k] X[i - 1, k])
"""


def test_the_paper_mlp_with_the_layer_as_an_index_warns_with_the_rewrite():
    (w,) = caught(PAPER_MLP, AddedEquationsWarning)
    assert w[:2] == (5, 1)
    assert "this equation also gives X[0, j], which line 4 sets: equations with one left side add up" in w[2]
    assert "at i = 0 it reads W[i - 1, j, k] and X[i - 1, k] outside their axes (as 0)" in w[2]
    assert w[2].endswith("to start i at 1, write: X[i + 1, j] = sig(W[i, j, k] X[i, k])")
    # what it warns about: the input row gets sig(0) added
    np.testing.assert_allclose(arr(lang.run(PAPER_MLP)["X"])[0], [1.5, 0.5, 1.5])


def test_the_suggested_mlp_runs_the_layers_after_the_input():
    seed = int(np.random.default_rng().integers(1 << 30))
    rng = np.random.default_rng(seed)
    x0, w = f16(rng.uniform(-1, 1, 4)), f16(rng.uniform(-1, 1, (3, 4, 4)))
    src = (f"tensor X0: float16[4] = {x0.tolist()}\ntensor W: float16[3, 4, 4] = {w.tolist()}\n"
           "tensor X: float16[4, 4]\nX[0, j] = X0[j]\nX[i + 1, j] = sig(W[i, j, k] X[i, k])\n")
    assert caught(src) == []
    want = [x0]
    for layer in w:
        want.append(sig(layer @ want[-1]))
    np.testing.assert_allclose(arr(lang.run(src)["X"]), np.array(want), atol=4e-3, err_msg=f"seed {seed}")


def test_a_recurrence_shifted_on_the_left_reads_the_longer_tensors_in_part():
    seed = int(np.random.default_rng().integers(1 << 30))
    u = f16(np.random.default_rng(seed).uniform(-1, 1, 4))
    prog = lang.run(f"tensor U: float16[4] = {u.tolist()}\ntensor H: float16[5]\nH[t + 1] = tanh(H[t] + U[t])\n")
    want = [0.0]
    for x in u:
        want.append(np.tanh(want[-1] + x))
    np.testing.assert_allclose(arr(prog["H"]), want, atol=4e-3, err_msg=f"seed {seed}")


@pytest.mark.parametrize("src, line, fragment", [
    # the covering equation first: the warning stands at the equation setting the entries
    ("tensor X: float16[3]\nX[i] = 0.5 X[i - 1] + 1\nX[0] = 4\n", 3,
     "the equation at line 2 also gives X[0] (at i = 0)"),
    # two first entries: the covering equation starts after both
    ("tensor F: float16[8]\nF[0] = 1\nF[1] = 1\nF[i] = F[i - 1] + F[i - 2]\n", 4,
     "to start i at 2, write: F[i + 2] = F[i + 1] + F[i]"),
    # the last entry set: the covering equation ends before it
    ("tensor X: float16[5]\nX[4] = 1\nX[i] = 0.5 * X[i + 1] + 1\n", 3,
     "at i = 4 it reads X[i + 1] outside its axis (as 0), yet its value there is not 0; to end i before 4, "
     "write: X[i - 1] = 0.5 * X[i] + 1"),
    # no read outside an axis: the two values still add
    ("tensor A: float16[4] = [1, 2, 3, 4]\ntensor Y: float16[4]\nY[0] = 10\nY[i] = A[i]\n", 4,
     "so Y[0] gets both values; to start i at 1, write: Y[i + 1] = A[i + 1]"),
    ("Y[0] = 1\nY[0] = 2\n", 2, "Y[0] is also set at line 1"),
])
def test_entries_given_by_two_equations_warn(src, line, fragment):
    (w,) = caught(src, AddedEquationsWarning)
    assert w[0] == line and fragment in w[2], w


@pytest.mark.parametrize("src", [
    "tensor F: float16[8]\nF[0] = 1\nF[1] = 1\nF[i + 2] = F[i + 1] + F[i]\n",      # the rewrites
    "tensor X: float16[5]\nX[4] = 1\nX[i - 1] = 0.5 * X[i] + 1\n",
    # 0 where they overlap whatever the data: a product reading before 0, tanh of 0, max of 0
    "tensor I: float16[2] = [1, 2]\ntensor T: float16[2, 2] = ones(2, 2)\ntensor A: float16[4, 2]\n"
    "A[0, s] = I[s]\nA[t, s] = A[t - 1, r] T[r, s]\n",
    "tensor U: float16[2, 4] = ones(2, 4)\ntensor H: float16[2, 5]\nH[i, 0] = 1\n"
    "H[i, t] = tanh(H[i, t - 1] + U[i, t - 1])\n",
    "tensor T: float16[2, 2] = ones(2, 2)\ntensor D: float16[3, 2]\nD[0, s] = 1\nD[t, s] max= D[t - 1, r] T[r, s]\n",
    # equations without constant indices add up as in the paper; a left side starting after the set row
    "tensor A: float16[3] = [1, 2, 3]\nY[i] = A[i]\nY[i] = 2 * A[i]\n",
    "tensor F: float16[2, 2] = ones(2, 2)\ntensor E: float16[2, 3, 2]\nE[n, 0, d] = F[n, d]\n"
    "E[n, l + 1, d] = relu(E[n, l, d])\n",
])
def test_no_warning_where_the_sum_is_each_value(src):
    assert caught(src) == []


# ---- a rule's name that is a constant only because an unrelated fact holds it ------------------
def test_a_rule_variable_spelt_like_an_unrelated_constant_warns():
    src = ("Var(x)\nVar(y)\nEdge(a, b)\nEdge(b, c)\nPath(x, y) <- Edge(x, y)\n"
           "Path(u, w) <- Path(u, v), Edge(v, w)\n")
    got = caught(src, ConstantNameWarning)
    assert [w[:2] for w in got] == [(5, 20), (5, 23)]
    assert got[0][2] == ("'x' is a constant, since a fact of 'Var' holds it (line 1), but nothing puts 'x' at "
                         "this position of 'Edge', so this atom never holds. A name that any fact holds is a "
                         "constant in every rule: to mean a variable, give it another name (\"x\" in quotes "
                         "is a string, another constant)")
    assert lang.run(src).query("Path(p, q)") == []
    # under `not`, the atom always holds
    (w,) = caught("Var(x)\nNode(a)\nEdge(a, a)\nFree(n) <- Node(n), not Edge(n, x)\n", ConstantNameWarning)
    assert w[:2] == (4, 33) and "so `not Edge(...)` always holds" in w[2]


@pytest.mark.parametrize("src", [
    # a query about a tuple that does not hold, with the program's own constants
    "Edge(a, b)\nnot Edge(b, a)?\nEdge(b, a)?\n",
    "Parent(ann, bob)\nParent(bob, cy)\nAnc(x, y) <- Parent(x, y)\nAnc(x, z) <- Anc(x, y), Parent(y, z)\n"
    "Anc(cy, ann)?\n",
    # a constant a rule's head gives, read by another rule
    "Apple(a1)\nPaint(red)\nColor(x, red) <- Apple(x)\nRed(x) <- Color(x, red)\n",
    # the constant through a comparison, and a quoted string that a fact holds
    "Var(x)\nVar(\"y\")\nNode(a)\nTag(n, t) <- Node(n), Var(t)\nHasX(n) <- Tag(n, x)\nQ(n) <- Node(n), Var(\"y\")\n",
    # declared domains, relations given from outside the program
    "domain P = {ann, bob}\nrelation Likes(a: P, b: P)\nLikes(ann, bob)\nFan(x) <- Likes(x, bob)\n",
    "relation Likes(a, b)\nOther(bob)\nFan(x) <- Likes(x, bob)\n",
])
def test_no_constant_warning_on_ordinary_programs(src):
    assert caught(src) == []


# ---- learning that ends in nan ------------------------------------------------------------------
def test_a_learn_block_ending_in_nan_warns_once_at_the_objective():
    # 0 * log(0): sig of a large negative number is 0 in float16
    src = ("tensor X: float16[2] = [0, 1]\ntensor Y: float16[2] = [0, 1]\ntensor W: float16 learnable = 0\n"
           "P[n] = sig(W * (X[n] - 0.5) * 40)\nLoss = -(Y[n] log(P[n]) + (1 - Y[n]) log(1 - P[n]))\n"
           "for r in range(2) {\n  learn {\n    objective: Loss,\n    optimizer: sgd(lr: 100.0),\n"
           "    epochs: 5\n  }\n}\n")
    got = caught(src, NonFiniteLossWarning, run=True)
    assert len(got) == 1 and got[0][:2] == (8, 16)
    assert "the objective is nan after 5 epochs" in got[0][2] and "write log(p + 0.0001)" in got[0][2]


# ---- how they print -----------------------------------------------------------------------------
def test_tl_prints_warnings_located_like_errors(tmp_path):
    path = tmp_path / "mlp.tl"
    path.write_text(PAPER_MLP)
    done = subprocess.run([sys.executable, "-m", "tensorlogic", "check", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == f"{path}: ok\n"
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"{path}:5:1: warning: this equation also gives X[0, j]")
    assert lines[1:] == ["    X[i, j] = sig(W[i - 1, j, k] X[i - 1, k])", "    ^^^^^^^"]


def test_small_kindnesses(capsys):
    lang.run("tensor A: float16[3] = [-0.2, 0.4, -1.6]\nprint(round(A))\nprint(round(A[0]))\n")
    assert capsys.readouterr().out == "[ 0.,  0., -2.]\n0\n"       # no -0 from rounding
    with pytest.raises(TensorLogicTypeError, match="range: takes integers, not 2.5"):
        lang.run("for i in range(2.5) { print(i) }\n")
    with pytest.raises(TensorLogicTypeError) as info:
        lang.run("tensor W: float16[2] learnable = [0, 0]\nL = W[i] W[i]\nlearn {\n  objective: L,\n"
                 "  optimizer: adam(lr: \"fast\"),\n  epochs: 3\n}\n", "prog.tl")
    assert info.value.message == "Adam: option 'lr' must be a number (or a tuple of numbers), got str"
    with pytest.raises(TensorLogicTypeError) as info:
        lang.run("tensor A: float16[2, 2] = eye(2)\nprint(einsum(\"ij,jk->il\", A, A))\n")
    assert info.value.message == "einsum: output index 'l' does not appear in any input"
