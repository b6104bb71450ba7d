"""Untrusted programs (issue 10): the step budget and time limit, safe imports, builtins that check
their arguments, and the other reproducers of the issue, each a typed and located error."""
import os
import subprocess
import sys
import time

import pytest

from tensorlogic import lang
from tensorlogic.errors import TensorLogicRuntimeError
from tensorlogic.lang import TensorLogicSyntaxError, TensorLogicTypeError


def located(exc, src, line, text, **kw):
    with pytest.raises(exc) as info:
        lang.run(src, "prog.tl", **kw)
    assert info.value.lineno == line, str(info.value)
    assert text in str(info.value) and "^" in str(info.value)
    return info.value


@pytest.mark.parametrize("src, line", [
    ("let c = 0\nwhile true { c = c + 1 }\n", 2),
    ("for i in range(10**11) { let x = i }\n", 1),
    ("main {\n  let k = 0\n  while k >= 0 { k = k + 1 }\n}\n", 3),
])
def test_loops_share_the_step_budget(src, line):
    err = located(TensorLogicRuntimeError, src, line, "more than 500 steps", max_steps=500)
    assert isinstance(err, RuntimeError)


def test_recursion_and_fixpoints_share_the_budget():
    located(TensorLogicRuntimeError, "fn f(n) { return f(n + 1) }\nlet x = f(1)\n", 1,
            "calls nested deeper")
    located(TensorLogicRuntimeError, "fn f(n) { if n > 0 { return f(n - 1) } ; return 0 }\nlet x = f(100)\n",
            1, "more than 50 steps", max_steps=50)
    chain = "".join(f"E({k}, {k + 1})\n" for k in range(40))
    located(TensorLogicRuntimeError, chain + "P(x, y) <- E(x, y)\nP(x, z) <- P(x, y), E(y, z)\nP(0, 40)?\n",
            41, "more than 5 steps", max_steps=5)


def test_time_limit():
    start = time.monotonic()
    located(TensorLogicRuntimeError, "let c = 0\nwhile true { c = c + 1 }\n", 2, "time limit of 0.5 s",
            max_steps=10**9, time_limit=0.5)
    assert time.monotonic() - start < 10


def test_cli_limits(tmp_path):
    prog = tmp_path / "loop.tl"
    prog.write_text("let c = 0\nwhile true { c = c + 1 }\n")
    r = subprocess.run([sys.executable, "-m", "tensorlogic.lang", "run", "--max-steps", "100", str(prog)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "loop.tl:2:1: the program took more than 100 steps" in r.stderr


def test_imports_read_only_regular_program_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET\n")
    for target in (str(secret), "/etc/passwd", "/proc/self/environ", "/dev/zero"):
        err = located(TensorLogicTypeError, f'import "{target}"\n', 1, "only .tl files can be imported")
        assert "TOPSECRET" not in str(err) and "root:" not in str(err)
    link = tmp_path / "evil.tl"
    link.symlink_to(secret)
    main = tmp_path / "main.tl"
    with pytest.raises(TensorLogicTypeError, match="not a regular .tl file") as info:
        lang.run('import "evil.tl"\n', str(main))
    assert "TOPSECRET" not in str(info.value)
    fifo = tmp_path / "pipe.tl"
    os.mkfifo(fifo)
    with pytest.raises(TensorLogicTypeError, match="not a regular .tl file"):
        lang.run('import "pipe.tl"\n', str(main))


def test_imports_search_path_and_cycles(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "base.tl").write_text('import "main.tl"\nEdge(a, b)\n')
    main = tmp_path / "main.tl"
    main.write_text('import "base.tl"\ntensor W: float16[2] = [1, 2]\nEdge(b, c)\n')
    with pytest.raises(TensorLogicTypeError, match="no such file"):
        lang.run(main.read_text(), str(main))
    prog = lang.run(main.read_text(), str(main), search_path=[lib, tmp_path])  # base imports main: no-op
    assert sorted(r["y"] for r in prog.query("Edge(x, y)")) == ["b", "c"]


def test_builtins_check_their_arguments():
    for call in ['relu("s")', "max(0.5)", "reshape(0.5)", "embedding(0.5, ones(2, 2))",
                 "cross_entropy(ones(2, 3), 0.5)", "rms_norm(ones(2, 2), ones(2), 0.00001)",
                 "layer_norm(ones(2, 2), ones(2), ones(2), 1e-5)",
                 'positional_encoding("a", 2)', "rope(ones(3))", "slice_last(ones(2), 5)"]:
        err = located(TensorLogicTypeError, f"let x = {call}\n", 1, "")
        assert err.offset == 9 and "_a'" not in str(err), str(err)


def test_top_level_builtin_calls_run():
    located(TensorLogicRuntimeError, 'panic("oops")\n', 1, "panic: oops")
    with pytest.raises(AssertionError):
        lang.run("assert(1 > 2)\n")


def test_huge_domain_range_is_located():
    located(TensorLogicTypeError, "domain X = 0..100000000000000000000000\n", 1, "too large")
    located(TensorLogicSyntaxError, "domain X = 0..10**23\n", 1, "unexpected")


def test_an_infinite_loop_in_a_subprocess_stops_within_seconds(tmp_path):
    prog = tmp_path / "loop.tl"
    prog.write_text("let c = 0\nwhile true { c = c + 1 }\n")
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "tensorlogic.lang", "run", "--time-limit", "1", str(prog)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "TensorLogicRuntimeError" not in r.stderr and "loop.tl:2:1" in r.stderr
    assert time.monotonic() - start < 60
