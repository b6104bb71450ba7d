"""`tl run`, `tl check`, `tl run --test` and `tl repl`."""
import io
import os
import pathlib

import pytest

import tensorlogic as tl

from tensorlogic.lang import repl as repl_mod
from tensorlogic import __main__ as package_main
from tensorlogic.lang.cli import main

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path, text, name="prog.tl"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_run_prints_results(tmp_path, capsys):
    path = write(tmp_path, "P(a, b)\nP(b, c)\nT(x, y) <- P(x, y)\nT(x, z) <- T(x, y), P(y, z)\nT(a, x)?\n")
    assert main(["run", path, "--device", "cpu"]) == 0
    assert capsys.readouterr().out == "x = b\nx = c\n"


def test_python_m_tensorlogic_runs_the_tl_command(tmp_path, capsys):
    """`python -m tensorlogic run prog.tl` is `tl run prog.tl` (it was an argparse usage error)."""
    path = write(tmp_path, "P(a, b)\nP(a, x)?\n")
    assert package_main.main(["run", path]) == 0
    assert capsys.readouterr().out == "x = b\n"
    assert package_main.main(["check", path]) == 0
    assert package_main.main(["--cmake-dir"]) == 0 and capsys.readouterr().out.strip().endswith("TensorLogic")


def test_run_reports_errors_with_location(tmp_path, capsys):
    path = write(tmp_path, "P(a)\nQ(x) <- P(x, y)\n")
    assert main(["run", path]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2:9: relation 'P' takes 1 argument" in err and "^^^^^^^" in err
    path = write(tmp_path, "let x = (1 +\n", "bad.tl")
    assert main(["run", path]) == 1
    assert f"{path}:1:13: unexpected end of input" in capsys.readouterr().err


def test_files_that_are_not_programs_are_refused_plainly(tmp_path, capsys):
    """Bytes that are not UTF-8 leaked a UnicodeDecodeError traceback, and `tl run /dev/zero` read until memory ran
    out: both are one line on stderr and exit status 2 (as a missing file)."""
    binary = tmp_path / "bin.tl"
    binary.write_bytes(b"P(a)\n\xdb\xff\x00")
    for command in ("run", "check"):
        assert main([command, str(binary)]) == 2
        assert capsys.readouterr().err == f"tl: {binary}: not UTF-8 text (byte 5)\n"
    if pathlib.Path("/dev/zero").exists():
        assert main(["run", "/dev/zero"]) == 2
        assert "larger than 16 MiB" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_named_pipe_without_a_writer_reads_as_empty_instead_of_hanging(tmp_path, capsys):
    """open() of a FIFO waits for a writer: `tl check fifo.tl` hung for ever."""
    fifo = tmp_path / "fifo.tl"
    os.mkfifo(fifo)
    assert main(["check", str(fifo)]) == 0
    assert capsys.readouterr().out == f"{fifo}: ok\n"


def test_a_read_error_names_the_file(tmp_path, capsys):
    """A directory (and a read that fails, as /proc/self/mem's) printed 'tl: : Is a directory', without the path."""
    assert main(["check", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"tl: {tmp_path}: Is a directory\n"


def test_an_error_in_a_very_long_line_shows_a_window_around_it(tmp_path, capsys):
    path = write(tmp_path, "x = " + "1 + " * 400 + "@@ " + "+ 1" * 400 + "\n")
    assert main(["run", path]) == 1
    _, line, caret = capsys.readouterr().err.splitlines()
    assert len(line) < 200 and line.strip().startswith("...") and line.endswith("...")
    assert line[caret.index("^")] == "@"


def test_check(tmp_path, capsys):
    good = write(tmp_path, "Y[i] = X[i]\ntensor X: float16[2] = [1, 2]\n")
    assert main(["check", good, str(EXAMPLES / "family.tl")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{good}: ok", f"{EXAMPLES / 'family.tl'}: ok"]
    bad = write(tmp_path, "Y[i] = Z[i]\n", "bad.tl")
    assert main(["check", bad]) == 1
    assert "unknown name 'Z'" in capsys.readouterr().err


def test_run_with_tests(tmp_path, capsys):
    path = write(tmp_path, 'print("body")\ntest fine { assert(true) }\ntest broken { assert(1 > 2, "no") }\n')
    assert main(["run", path]) == 0
    assert capsys.readouterr().out == "body\n"
    assert main(["run", path, "--test"]) == 1
    captured = capsys.readouterr()
    assert "test fine ... ok" in captured.out and "test broken ... FAILED" in captured.out
    assert "1 of 2 tests failed" in captured.err


def test_missing_file_and_no_command(capsys):
    assert main(["run", "/no/such/file.tl"]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main([]) == 2


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tl (tensorlogic-engine) {tl.__version__}"


def test_max_iterations_option(tmp_path):
    path = write(tmp_path, "tensor X: float16[2]\nX[i] = 1 - X[i]\nX?\n")
    with pytest.warns(Warning, match="not reached after 5 iterations"):
        assert main(["run", path, "--max-iterations", "5"]) == 0


def test_repl_runs_statements_and_keeps_state(capsys):
    session = io.StringIO(
        "domain P = {a, b, c}\nrelation E(x: P, y: P)\nE(a, b)\nE(b, c)\n"
        "T(x, y) <- E(x, y)\nT(x, z) <- T(x, y),\n   E(y, z)\n"        # continued line
        "T(a, x)?\nlet k = 3\nk * 2\ntensor X: float16[3] = [1, 2, 3]\n"
        "for i in range(2) {\n  print(i)\n}\n"                         # multi-line block
        "Z[j] = X[j] * k\nZ?\nprint(nope)\n:help\nbad(\n\nk\n:quit\nnever\n")
    assert repl_mod.repl(stdin=session) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[:7] == ["x = b", "x = c", "6", "0", "1", "Z = [3., 6., 9.]",
                                             repl_mod.HELP.splitlines()[0]]
    assert captured.out.splitlines()[-1] == "3"
    assert "unknown name 'nope'" in captured.err
    assert "<repl>:" in captured.err and "unexpected end of input" in captured.err


def test_device_option_holds_for_one_command_only(tmp_path):
    path = tmp_path / "p.tl"
    path.write_text("tensor X: float16[2] = [1, 2]\nX?\n")
    before = tl.get_default_device()
    assert main(["run", str(path), "--device", "cpu"]) == 0
    assert tl.get_default_device() == before
