"""`tl check` reports the shape errors that declarations and literals fix (check/value_shapes.py)
without running: the same message at the same place as the run that reaches them, numpy deciding on
random expressions which ones fail, and what only a run can know left to the run."""
import random

import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.errors import TensorLogicTypeError
from tensorlogic.lang.check.value_shapes import ValueShapes
from tensorlogic.lang.cli import main as tl_main

# (program, line, column, message): each fails when it runs; `tl check` says so first.
FOUND = [
    ("tensor A: float16[4] = [1, 2, 3, 4]\nfn f(x: float16[3]) -> float16[3] { x * 2 }\nprint(f(A))\n", 3, 7,
     "argument 'x' of f has shape [4] but float16[3] is declared"),
    ("fn f(x: float16[2]) { x }\nprint(f(x: [1.0, 2.0, 3.0]))\n", 2, 7,
     "argument 'x' of f has shape [3] but float16[2] is declared"),
    ("fn f(x: float16[2]) { x }\nprint(f(5))\n", 2, 7, "argument 'x' of f must be a tensor, not int"),
    ("tensor A: float16[2, 3] = zeros(2, 3)\ntensor B: float16[4, 5] = zeros(4, 5)\nprint(A @ B)\n", 3, 11,
     "'@' cannot combine these values: matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)"),
    ("tensor A: float16[3] = [1, 2, 3]\ntensor B: float16[4] = [1, 2, 3, 4]\nC = A + B\nprint(C)\n", 3, 9,
     "'+' cannot combine these values: add: shapes [3] and [4] cannot be broadcast together"),
    ("tensor X: float16[3] = [1, 2, 3]\nprint(X[5])\n", 2, 7,
     "cannot index this value: index 5 is out of bounds for dimension 0 with size 3"),
    ("let x: float16[3] = [1, 2]\n", 1, 1, "'x' has shape [2] but float16[3] is declared"),
    ("tensor A: float16[2, 3] = zeros(2, 3)\nprint(reshape(A, [4, 2]))\n", 2, 7,
     "reshape: shape [4, 2] is invalid for input of shape [2, 3] (6 elements)"),
    ("main {\n    tensor a: float16[2, 2] = [1, 2, 3]\n}\n", 2, 12,
     "'a' is declared float16[2, 2] but its value has shape [3]"),
    ("tensor A: float16[2, 3] = zeros(2, 3)\nfn h(v: float16[3]) -> float16[2] { A @ v }\nprint(h(ones(4)))\n", 3, 7,
     "argument 'v' of h has shape [4] but float16[3] is declared"),
]


def run(src, **kw):
    return lang.run(src, "prog.tl", **kw)


def check(src):
    return lang.compile(src, "prog.tl")


def where(err):
    return err.lineno, err.offset, err.message


@pytest.mark.parametrize("src, line, col, message", FOUND)
def test_check_reports_the_error_a_run_would_raise_there(src, line, col, message, monkeypatch):
    with pytest.raises(TensorLogicTypeError) as checked:
        check(src)
    assert where(checked.value)[:2] == (line, col) and message in checked.value.message, str(checked.value)
    monkeypatch.setattr(ValueShapes, "check_all", lambda self, items: None)   # the run finds it
    with pytest.raises(TensorLogicTypeError) as ran:
        run(src)
    assert where(ran.value)[:2] == (line, col) and message in ran.value.message, str(ran.value)


def test_the_result_of_a_function_is_checked_where_it_is_computed(monkeypatch):
    # (a run reports the call; the checker the expression, which may be in a function nothing calls)
    src = "fn g() -> float16[2] { return [1.0, 2.0, 3.0] }\n"
    with pytest.raises(TensorLogicTypeError, match=r"prog.tl:1:31: the result of g has shape \[3\]"):
        check(src)
    with pytest.raises(TensorLogicTypeError, match=r"prog.tl:1:27: '@' cannot combine these values"):
        check("fn never() { ones(2, 3) @ ones(2, 3) }\n")


def test_tl_check_prints_it_and_fails(tmp_path, capsys):
    path = tmp_path / "bad.tl"
    path.write_text("tensor A: float16[2, 3] = zeros(2, 3)\nlet y = A @ A\n")
    assert tl_main(["check", str(path)]) != 0
    assert "bad.tl:2:13: '@' cannot combine these values: matmul: shapes [2, 3] and [2, 3] cannot be " \
        "multiplied (3 != 2)" in capsys.readouterr().err


# What only a run knows is left to it: `tl check` passes, the run fails where it reaches the error.
LEFT = [
    "tensor A: float16[?] = [1, 2, 3]\ntensor B: float16[?] = [1, 2]\nprint(A + B)\n",       # `?` sizes
    "let a = ones(3)\nlet b = ones(4)\nprint(a + b)\n",                                       # variables
    "domain D = {x, y, z}\ntensor A: float16[D] = [1, 2, 3]\nprint(A + ones(4))\n",           # domains grow
    "fn f(x) { x @ x }\nprint(f(ones(2, 3)))\n",                                              # untyped parameters
    "fn g() { ones(3) }\nprint(g() + ones(4))\n",                                             # untyped results
    "tensor A: float16[3] = [1, 2, 3]\nlet k = 5\nprint(A[k])\n",                             # values as indices
]


@pytest.mark.parametrize("src", LEFT)
def test_what_only_a_run_knows_is_left_to_the_run(src):
    check(src)
    with pytest.raises(TensorLogicTypeError):
        run(src)


# ---- random expressions against numpy -----------------------------------------------------------
def random_expression(rng, shapes, depth=0):
    """A random expression over the tensors `shapes` names: + - * @, integers, indexing and reshape."""
    pick = rng.random()
    if depth >= 3 or pick < 0.35:
        if rng.random() < 0.15:
            return str(rng.randrange(1, 4))
        name = rng.choice(sorted(shapes))
        if shapes[name] and rng.random() < 0.2:
            return f"{name}[{rng.randrange(-3, 4)}]"
        return name
    if pick < 0.45:
        inner = random_expression(rng, shapes, depth + 1)
        # (of a tensor: the engine's reshape takes no number, which numpy's does)
        inner = inner if any(name in inner for name in shapes) else rng.choice(sorted(shapes))
        sizes = rng.choice([[6], [2, 3], [3, 2], [4], [2, 2], [-1], [3, -1], [1, 2, 3]])
        return f"reshape({inner}, {sizes})"
    op = rng.choice(["+", "-", "*", "@", "@"])
    return f"({random_expression(rng, shapes, depth + 1)} {op} {random_expression(rng, shapes, depth + 1)})"


def numpy_value(expr, arrays):
    """numpy's value of the expression, None where numpy refuses it (the shapes disagree)."""
    env = dict(arrays, reshape=lambda a, s: np.reshape(a, s))
    try:
        with np.errstate(all="ignore"):
            return np.asarray(eval(expr, {"__builtins__": {}}, env), dtype=np.float64)
    except (ValueError, IndexError, TypeError):       # (TypeError: `@` of two numbers)
        return None


def test_random_expressions_fail_to_check_exactly_where_numpy_refuses_them():
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    for _ in range(150):
        shapes = {name: tuple(rng.choice([1, 2, 3]) for _ in range(rng.randrange(1, 4))) for name in "ABC"}
        arrays = {name: np.arange(1, 1 + int(np.prod(s)), dtype=np.float64).reshape(s) % 4
                  for name, s in shapes.items()}
        expr = random_expression(rng, shapes)
        decls = "".join(f"tensor {n}: float16{list(s)} = {arrays[n].tolist()}\n" for n, s in shapes.items())
        src = decls + f"let r = {expr}\n"
        want = numpy_value(expr, arrays)
        if want is None:
            with pytest.raises(TensorLogicTypeError) as info:
                check(src)
            assert info.value.lineno == 4, (seed, src, str(info.value))
            continue
        got = run(src)["r"]
        got = np.asarray(got.numpy(), dtype=np.float64) if hasattr(got, "numpy") else np.asarray(got)
        assert got.shape == want.shape, (seed, src, got, want)
        if np.abs(want).max(initial=0) < 2048:      # (integers float16 holds exactly)
            assert np.array_equal(got, want), (seed, src, got, want)


def test_a_flat_value_that_a_run_reshapes_is_no_error():
    # `tensor x: T[D, 3] = [six numbers]` takes the declared shape when it runs, whatever D's size
    prog = run("domain D = {a, b}\nfn f() {\n    tensor x: float16[D, 3] = [1, 2, 3, 4, 5, 6]\n    x\n}\n"
               "let y = f()\nmain {\n    tensor z: float16[3, 2] = [1, 2, 3, 4, 5, 6]\n}\n")
    assert prog["y"].numpy().tolist() == [[1, 2, 3], [4, 5, 6]]
    assert prog["z"].numpy().tolist() == [[1, 2], [3, 4], [5, 6]]
