"""Untrusted programs (issue 10): the step budget and time limit, safe imports, builtins that check
their arguments, and the other reproducers of the issue, each a typed and located error."""
import os
import subprocess
import sys
import time

import pytest

import tensorlogic as tl
from tensorlogic import lang
from tensorlogic.lang.logic import arrays
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


CROSS = "domain N = 0..{n}\nA(x) <- N(x)\n"


@pytest.fixture
def memory_of(on_device):
    """The memory of the device the tuple engine's arrays are on, capped (`tl run` caps the host's at the
    memory free)."""
    device = "cpu" if arrays.for_device(on_device) is arrays.HOST else on_device
    before = tl.memory.stats(device)["limit_bytes"]

    def cap(nbytes):
        tl.memory.set_limit(nbytes, device)
    yield cap
    tl.memory.set_limit(before, device)


def test_a_join_past_memory_is_refused_before_it_runs(tuple_arrays, memory_of, on_device):
    """The cross product's size is known when its last join splits: 8,000,000 tuples need 384 MB."""
    memory_of(64 << 20)
    start = time.monotonic()
    err = located(TensorLogicRuntimeError, CROSS.format(n=200) + "P(x, y, z) <- A(x), A(y), A(z)\n", 3,
                  "this rule of 'P' would derive 8,000,000 tuples (384,000,000 bytes to hold and sort them), "
                  "more than the memory they would be in (67,108,864 bytes")
    assert time.monotonic() - start < 10 and isinstance(err, RuntimeError)
    # A keyed join: at least its first piece's tuples are known
    located(TensorLogicRuntimeError, CROSS.format(n=200) + "B(x, y) <- A(x), A(y)\n"
            "P(x, y, z) <- B(x, y), B(y, z)\n", 4, "this rule of 'P' would derive at least")
    # ... and a join whose pieces each fit (a computed head: how many are distinct is not known) is
    # stopped once what it holds does not (on engine tensors, the same cap on the allocator may refuse
    # an array first: a MemoryError)
    memory_of(8 << 20)
    src = CROSS.format(n=100) + "P(x, y, z + u) <- A(x), A(y), A(z), A(u)\n"
    if arrays.for_device(on_device) is arrays.HOST:
        located(TensorLogicRuntimeError, src, 3, "this rule of 'P' derives at least")
    else:
        with pytest.raises((TensorLogicRuntimeError, MemoryError)):
            lang.run(src, "prog.tl")


def test_atoms_that_only_test_for_a_match_do_not_multiply(tuple_arrays, on_device):
    prog = lang.run(CROSS.format(n=3000) + "Q(x) <- A(x), A(y), A(z)\nR(x) <- A(x), A(y), y == x + 1\n",
                    "prog.tl")
    assert prog.query("Q(x), x > 2997") == [{"x": 2998}, {"x": 2999}]
    assert len(prog.query("R(x)")) == 2999


def test_the_time_limit_stops_a_long_join():
    start = time.monotonic()
    located(TensorLogicRuntimeError, CROSS.format(n=2000) + "P(x) <- A(x), A(y), A(z), y < z, z < x\n", 3,
            "time limit of 0.5 s", time_limit=0.5)
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
