"""Where a tensor equation sums an index that is not on its left side (LANGUAGE.md §4): at the
innermost scope (the right side, a function's argument), term (an operand of a scope's sums) or
product repeating it that holds every occurrence of it.  Each equation is checked against numpy (float64 einsums on the same f16-rounded inputs),
with fresh random inputs whose seed a failure prints."""
import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import lang
from tensorlogic.lang import TensorLogicTypeError

SHAPES = {"A": (3, 4), "W": (3, 4), "V": (4, 5), "C": (3, 5), "X": (4,), "Z": (5,), "B": (3,)}
DECLS = "".join(f"tensor {n}: float16[{', '.join(map(str, s))}] = zeros({', '.join(map(str, s))})\n"
                for n, s in SHAPES.items())


def relu(x):
    return np.maximum(x, 0)


def sig(x):
    return 1 / (1 + np.exp(-x))


def ein(spec, *xs):
    return np.einsum(spec, *xs)


# (equation, oracle over the inputs as float64 arrays)
CASES = [
    ("Y[i] = A[i, j] + B[i]", lambda t: t["A"].sum(1) + t["B"]),
    ("Y[i] = A[i, j] - B[i]", lambda t: t["A"].sum(1) - t["B"]),
    ("Y[i] = W[i, j] X[j] + B[i]", lambda t: t["W"] @ t["X"] + t["B"]),
    ("Y[i] = relu(W[i, j]) X[j] + B[i]", lambda t: relu(t["W"]) @ t["X"] + t["B"]),
    ("Y[i] = relu(W[i, j]) + B[i]", lambda t: relu(t["W"].sum(1)) + t["B"]),
    ("R[i, j] = relu(W[i, j])\nY[i] = R[i, j] + B[i]", lambda t: relu(t["W"]).sum(1) + t["B"]),
    ("Y[i] = relu(A[i, j] + B[i])", lambda t: relu(t["A"].sum(1) + t["B"])),
    ("Y[i] = A[i, j] * X[j] + B[i]", lambda t: t["A"] @ t["X"] + t["B"]),
    ("Y[i] = A[i, j] X[j] / 2 - B[i]", lambda t: t["A"] @ t["X"] / 2 - t["B"]),
    ("Y[i] = A[i, j] + C[i, k]", lambda t: t["A"].sum(1) + t["C"].sum(1)),
    ("Y[i] = A[i, j] X[j] + C[i, k] Z[k]", lambda t: t["A"] @ t["X"] + t["C"] @ t["Z"]),
    ("Y[i] = A[i, j] + W[i, j] X[j]", lambda t: t["A"].sum(1) + t["W"] @ t["X"]),
    ("Y[i] = sig(relu(W[i, j]) X[j]) + B[i]", lambda t: sig(relu(t["W"]) @ t["X"]) + t["B"]),
    ("Y[i] = tanh(W[i, j] relu(V[j, k] Z[k]) + B[i])",
     lambda t: np.tanh(t["W"] @ relu(t["V"] @ t["Z"]) + t["B"])),
    ("Y[i] = sig(A[i, j] + relu(C[i, k] - B[i]))",
     lambda t: sig(t["A"].sum(1) + relu(t["C"].sum(1) - t["B"]))),
    # One index in a function's argument and outside it, in one term, is one index.
    ("Y[i] = relu(A[i, j] - B[i]) X[j]", lambda t: relu(t["A"] - t["B"][:, None]) @ t["X"]),
    ("Y[i] = -A[i, j] + B[i]", lambda t: -t["A"].sum(1) + t["B"]),
    ("Y[i] = (A[i, j] X[j]) ^ 2", lambda t: (t["A"] @ t["X"]) ** 2),
    ("Y[i] = (A[i, j] - X[j]) ^ 2", lambda t: ((t["A"] - t["X"]) ** 2).sum(1)),
    ("Y = (A[i, j] - 1) ^ 2", lambda t: ((t["A"] - 1) ** 2).sum()),
    # A sum in parentheses inside a power or a product is one factor: its operands are not terms.
    ("Y[i] = (A[i, j] + B[i]) ^ 2", lambda t: ((t["A"] + t["B"][:, None]) ** 2).sum(1)),
    ("Y[i] = (A[i, j] + B[i]) B[i]", lambda t: ((t["A"] + t["B"][:, None]) * t["B"][:, None]).sum(1)),
    ("Y[i] = (2 A[i, j]) ^ 2", lambda t: ((2 * t["A"]) ** 2).sum(1)),
    ("Y[i] = -(A[i, j] + B[i])", lambda t: -(t["A"].sum(1) + t["B"])),
    ("Y[i] = A[i, j] B[i] + C[i, k]", lambda t: t["A"].sum(1) * t["B"] + t["C"].sum(1)),
    ("Y[i, k] = exp(-(A[i, j] - A[k, j]) ^ 2 / 4)",
     lambda t: np.exp(-((t["A"][:, None, :] - t["A"][None, :, :]) ** 2).sum(-1) / 4)),
    ("Y[i, k] = (A[i, j] A[k, j] + 1) ^ 2", lambda t: (t["A"] @ t["A"].T + 1) ** 2),
    ("Y = (W[i, j] X[j] - B[i]) ^ 2", lambda t: ((t["W"] @ t["X"] - t["B"]) ** 2).sum()),
    # Terms add after their own sums: a term without an index is not repeated along it.
    ("Y = A[i, j] ^ 2 + X[j] ^ 2 + 1", lambda t: (t["A"] ** 2).sum() + (t["X"] ** 2).sum() + 1),
    ("Y = (W[i, j] X[j] - B[i]) ^ 2 + 0.5 A[i, j] ^ 2 + 0.5 C[i, k] ^ 2",
     lambda t: ((t["W"] @ t["X"] - t["B"]) ** 2).sum() + 0.5 * (t["A"] ** 2).sum() + 0.5 * (t["C"] ** 2).sum()),
    ("Y[i] = relu(A[i, j] - B[i]) + X[j]", lambda t: relu(t["A"].sum(1) - t["B"]) + t["X"].sum()),
    ("Y = sqrt((A[i, j] - W[i, j]) ^ 2)", lambda t: np.sqrt(((t["A"] - t["W"]) ** 2).sum())),
    ("Y = exp(X[j] / 4)", lambda t: np.exp(t["X"].sum() / 4)),
    ("Y = A[i, j] B[i] + C[i, k]", lambda t: t["B"] @ t["A"].sum(1) + t["C"].sum()),
    ("Y[i, k.] = softmax(A[i, j] V[j, k])",
     lambda t: np.exp(t["A"] @ t["V"]) / np.exp(t["A"] @ t["V"]).sum(1, keepdims=True)),
    ("Y[i] = maximum(A[i, j], B[i])", lambda t: np.maximum(t["A"].sum(1), t["B"])),
    ("Y[i] max= A[i, j] + X[j]", lambda t: (t["A"] + t["X"]).max(1)),
    ("Y[i] avg= A[i, j] X[j]", lambda t: (t["A"] * t["X"]).mean(1)),
    ("Y[i] = A[i, j]\nY[i] = relu(B[i])", lambda t: t["A"].sum(1) + relu(t["B"])),
    # A reduction of one indexed argument reduces what only that argument holds, by its own operation;
    # a product inside it still sums its repeated index.
    ("Y[i] = max(A[i, j])", lambda t: t["A"].max(1)),
    ("Y[i] = min(A[i, j]) + mean(C[i, k])", lambda t: t["A"].min(1) + t["C"].mean(1)),
    ("Y = max(A[i, j] X[j])", lambda t: (t["A"] @ t["X"]).max()),
    ("Y[k] = sum(relu(A[i, j]) V[j, k])", lambda t: (relu(t["A"]) @ t["V"]).sum(0)),
    ("Y = amax(A[i, j] - W[i, j]) + amin(X[j])", lambda t: (t["A"] - t["W"]).max() + t["X"].min()),
]


def inputs(rng):
    return {n: rng.standard_normal(s).astype(np.float16) for n, s in SHAPES.items()}


@pytest.mark.parametrize("equation, oracle", CASES, ids=[c[0] for c in CASES])
def test_equation_sums_per_term(equation, oracle, rng):
    seed = int(rng.integers(1 << 30))
    given = inputs(np.random.default_rng(seed))
    prog = lang.compile(DECLS + equation + "\n", "prog.tl")
    for n, v in given.items():
        prog.set(n, tl.tensor(v))
    prog.run()
    got = np.asarray(prog["Y"].numpy(), dtype=np.float64)
    want = oracle({n: v.astype(np.float64) for n, v in given.items()})
    np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2 * (1 + np.abs(want).max()),
                               err_msg=f"{equation} (seed {seed})")


def test_reductions_in_statements_reduce_every_index(rng, capsys):
    seed = int(rng.integers(1 << 30))
    given = inputs(np.random.default_rng(seed))
    prog = lang.compile(DECLS + "print(sum(abs(A[i, j] - W[i, j])), max(A[i, j] X[j]), mean(C[i, k]))\n", "prog.tl")
    for n, v in given.items():
        prog.set(n, tl.tensor(v))
    prog.run()
    t = {n: v.astype(np.float64) for n, v in given.items()}
    got = [float(x) for x in capsys.readouterr().out.split()[-3:]]
    want = [np.abs(t["A"] - t["W"]).sum(), (t["A"] @ t["X"]).max(), t["C"].mean()]
    np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2, err_msg=f"seed {seed}")


def test_index_variables_as_values(rng):
    seed = int(rng.integers(1 << 30))
    x = np.random.default_rng(seed).standard_normal(4).astype(np.float16)
    prog = lang.compile("""
domain T = 3..7
tensor X: float16[4] = zeros(4)
tensor Xt: float16[T] = zeros(4)
tensor P: float16[6, 8]
Y[i] = X[i] * i + 1
Yt[t] = Xt[t] t
Tri[i, j] = X[i] X[j] (i >= j)
Mean = X[i] i / 6
P[p, d] = sin(p / 10 ^ (d / 8)) (d % 2 == 0) + cos(p / 10 ^ ((d - 1) / 8)) (d % 2 == 1)
""", "prog.tl")
    prog.set("X", tl.tensor(x)).set("Xt", tl.tensor(x)).run()
    x = x.astype(np.float64)
    i = np.arange(4)
    msg = f"seed {seed}"
    np.testing.assert_allclose(prog["Y"].numpy(), x * i + 1, rtol=1e-2, atol=1e-2, err_msg=msg)
    np.testing.assert_allclose(prog["Yt"].numpy(), x * (i + 3), rtol=1e-2, atol=1e-2, err_msg=msg)
    np.testing.assert_allclose(prog["Tri"].numpy(), np.tril(np.outer(x, x)), rtol=1e-2, atol=1e-2, err_msg=msg)
    np.testing.assert_allclose(float(prog["Mean"].numpy()), (x * i).sum() / 6, rtol=1e-2, atol=1e-2, err_msg=msg)
    p, d = np.arange(6)[:, None], np.arange(8)[None, :]
    want = np.where(d % 2 == 0, np.sin(p / 10 ** (d / 8)), np.cos(p / 10 ** ((d - 1) / 8)))
    np.testing.assert_allclose(prog["P"].numpy(), want, atol=3e-3)


@pytest.mark.parametrize("src, message", [
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[i] + k\n", "unknown name 'k'"),
    ("domain P = {a, b}\ntensor X: float16[P] = zeros(2)\nY[p] = X[p] * p\nY?\n",
     "index 'p' ranges over domain P, which holds names: only an index over integers has a value"),
    ("Y[i] = i * 2.0\n", "the size of index 'i' is unknown: it indexes nothing on the right side"),
])
def test_index_values_errors(src, message):
    with pytest.raises(TensorLogicTypeError, match=message):
        lang.run(src, "prog.tl")
