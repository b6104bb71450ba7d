"""The documentation site: it builds with MkDocs in strict mode (warnings, broken links and anchors
are errors), every public name has a docstring that the API reference shows, and the tutorials'
programs run and print what their comments say."""
import contextlib
import io
import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import public_names
from tensorlogic import lang

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))


def _blocks(path, language):
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once for this file's tests (the API reference inspects the imported package)."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def test_site_builds_strict(site):
    assert (site / "api" / "index.html").read_text(encoding="utf-8").count("Program") > 0


def test_benchmarks_page_shows_every_recorded_result(site):
    page = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        assert f'src="{path.stem}.png"' in page, path.name
        assert (site / "benchmarks" / f"{path.stem}.png").read_bytes().startswith(b"\x89PNG"), path.name
        assert json.loads(path.read_text(encoding="utf-8"))["date"] in page, path.name


def _rendered(site):
    """The objects the API reference renders: the primary entries of the site's inventory (objects.inv,
    the Sphinx format: four header lines, then zlib-compressed `name domain:role priority uri dispname`)."""
    data = (site / "objects.inv").read_bytes()
    body = data.split(b"\n", 4)[4]
    return {line.split()[0] for line in zlib.decompress(body).decode().splitlines() if line.split()[2] == "1"}


def _paths(name, obj):
    """Where the reference may show the object: its public name, or the path of the module defining it."""
    target = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    qualname = getattr(target, "__qualname__", None)
    return {name, f"{target.__module__}.{qualname}"} if qualname else {name}


def test_every_public_name_has_a_docstring_in_the_reference(site):
    rendered = _rendered(site)
    names = public_names.public_names()
    missing = public_names.undocumented(names)
    assert not missing, f"public names without a docstring: {missing}"
    unshown = []
    for name, obj in names.items():
        if public_names.is_value(obj):
            places = public_names.documented_where(name, obj)  # tl.dtype, tl.cuda's class, or the module
            if not {p for place in places for p in (place, "tensorlogic." + place.rpartition(".")[2])} & rendered:
                unshown.append(name)
        elif not _paths(name, obj) & rendered:
            unshown.append(name)
    assert not unshown, f"documented public names the API reference does not show: {unshown}"


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
