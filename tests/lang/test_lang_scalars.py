"""Arithmetic of plain numbers means what the same arithmetic on tensors means: IEEE's inf and nan where
Python would raise or turn complex; `min`/`max` of two values; a list of numbers added to an empty list."""
import math
import random

import numpy as np
import pytest

from tensorlogic import lang


@pytest.mark.parametrize("expr, want", [
    ("0.0 / 0.0", math.nan), ("1 / 0", math.inf), ("-1.0 / 0.0", -math.inf), ("1.0 / -0.0", -math.inf),
    ("10 ^ 400 / 0", math.inf), ("7 % 0", math.nan), ("7.5 % 0.0", math.nan), ("0.0 ^ -1", math.inf),
    ("0 ^ -1", math.inf), ("(-8.0) ^ 0.5", math.nan), ("10.0 ^ 400", math.inf), ("2 ^ -1", 0.5),
    ("-7 % 3", 2), ("7 / 2", 3.5), ("2 ^ 10", 1024),
])
def test_numbers_follow_ieee_where_python_raises(expr, want, capsys):
    lang.run(f"let x = {expr}\nprint(x)\n", "prog.tl")
    got = float(capsys.readouterr().out)
    assert (math.isnan(got) and math.isnan(want)) or got == want, (expr, got)


def test_numbers_agree_with_the_same_arithmetic_on_tensors(capsys):
    """Each operator on numbers beside the same operator on one-element tensors, checked by numpy."""
    seed = random.randrange(2 ** 32)
    rng = random.Random(seed)
    pairs = [(0.0, 0.0), (1.0, 0.0), (-2.0, 0.0), (0.0, -1.0), (-8.0, 0.5)] + \
            [(rng.choice([-3.0, -1.5, 2.0, 4.0]), rng.choice([0.0, -0.0, 2.0, 0.5])) for _ in range(6)]
    lines = []
    for a, b in pairs:
        for op in ("/", "^"):
            lines.append(f'print(({a!r}) {op} ({b!r}), ((ones(1) * ({a!r})) {op} ({b!r}))[0])')
    lang.run("\n".join(lines) + "\n", "prog.tl")
    out = capsys.readouterr().out.splitlines()
    for (a, b), (div, pw) in zip(pairs, zip(out[0::2], out[1::2])):
        for line, f in ((div, np.divide), (pw, np.power)):
            number, tensor = (float(v) for v in line.split())
            with np.errstate(all="ignore"):
                want = float(np.float16(f(np.float64(a), np.float64(b))))
            for got in (number, tensor):
                assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-3), \
                    f"seed {seed}: {a} {f.__name__} {b} -> {line}"


def test_min_and_max_of_two_values(capsys):
    lang.run("print(max(1, 2), min(2.5, -1))\ntensor A: float16[3] = [1, 5, 2]\n"
             "tensor B: float16[3] = [4, 0, 2]\nM[i] = max(A[i], B[i])\nm[i] = min(A[i], 3)\n"
             "print(M, m)\nprint(max(A, 0))\n", "prog.tl")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "2 -1"
    assert out[1] == "[4., 5., 2.] [1., 3., 2.]"
    assert out[2] == "(5, 1)"        # a whole tensor's max(x, 0) is PyTorch's: values and indices along dim 0


def test_a_list_of_numbers_added_to_an_empty_list_is_refused(capsys):
    """`xs = xs + [n]` from `let xs = []` adds elementwise (lists of numbers are tensors), which
    would leave xs empty whatever n is: a located error that says how to append."""
    with pytest.raises(lang.TensorLogicTypeError,
                       match=r"prog.tl:2:11: '\+' adds lists of numbers elementwise.*concat"):
        lang.run("let xs = []\nxs = xs + [4]\n", "prog.tl")
    lang.run('let xs = []\nxs = concat([xs, [4]])\nlet ns = []\nns = ns + ["a"]\nprint(xs, ns, [1, 2] + [1, 1])\n',
             "prog.tl")
    assert capsys.readouterr().out == "[4.] [a] [2., 3.]\n"
