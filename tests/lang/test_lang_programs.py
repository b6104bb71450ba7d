"""Programs in the seed's style written for this project (tests/lang/programs/*.tl), each run with
`tl run` semantics; the printed output must equal the .out file next to it (checked by hand when
written: least squares, ancestors, dot products)."""
import pathlib

import pytest

from tensorlogic import lang

PROGRAMS = sorted((pathlib.Path(__file__).parent / "programs").glob("*.tl"))


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_output(path, capsys):
    lang.run(path.read_text(), str(path))
    assert capsys.readouterr().out == path.with_suffix(".out").read_text()
