"""Programs in the seed's style written for this project (tests/lang/programs/*.tl), each run with
`tl run` semantics; the printed output must equal the .out file next to it.  Where a program has an
oracle (programs/oracles/NAME.py: the same computation in plain Python and numpy, never through
TensorLogic), the .out file is that oracle's output, and a test keeps the two equal."""
import pathlib
import runpy

import pytest

from tensorlogic import lang

HERE = pathlib.Path(__file__).parent / "programs"
PROGRAMS = sorted(HERE.glob("*.tl"))
ORACLES = HERE / "oracles"
WITH_ORACLE = [p for p in PROGRAMS if (ORACLES / f"{p.stem}.py").exists()]


@pytest.mark.filterwarnings("ignore::tensorlogic.lang.UndefinedRelationWarning")   # course_planner's, meant
@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_output(path, capsys):
    lang.run(path.read_text(), str(path))
    assert capsys.readouterr().out == path.with_suffix(".out").read_text()


@pytest.mark.parametrize("path", WITH_ORACLE, ids=[p.stem for p in WITH_ORACLE])
def test_expected_output_is_the_oracles(path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ORACLES))
    runpy.run_path(str(ORACLES / f"{path.stem}.py"), run_name="__main__")
    assert capsys.readouterr().out == path.with_suffix(".out").read_text()
