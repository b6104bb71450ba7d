"""The documentation site: it builds with MkDocs in strict mode (warnings, broken links and anchors
are errors) and the tutorials' programs run and print what their comments say."""
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tensorlogic import lang

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))


def _blocks(path, language):
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_site_builds_strict(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "api" / "index.html").read_text(encoding="utf-8").count("Program") > 0


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_programs_run(path):
    for block in _blocks(path, "tl"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            lang.run(block)
        # `X?  // value` comments state what the query prints.
        for query, said in re.findall(r"^(.*\?)\s*//\s*(.*)$", block, re.M):
            assert said.split(":")[-1].strip().split(",")[0].strip("[] ") in out.getvalue(), (query, out.getvalue())
    for block in _blocks(path, "python"):
        if "source" not in block:       # the Datalog page's snippet refers to the program above it
            exec(compile(block, str(path), "exec"), {})


def test_datalog_tutorial_answers_as_the_page_says():
    (program,) = _blocks(ROOT / "docs" / "tutorials" / "datalog.md", "tl")
    with contextlib.redirect_stdout(io.StringIO()):
        prog = lang.run(program)
    assert prog.query("Ancestor(Ann, x)") == [{"x": "Bob"}, {"x": "Cid"}, {"x": "Dee"}]
    assert list(prog["Ancestor"].shape) == [4, 4]
