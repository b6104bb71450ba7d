"""Release metadata and the cibuildwheel configuration, read from pyproject.toml."""
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the same checks hold on 3.10 wheels

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = CONFIG["project"]


def test_distribution_name_is_not_the_other_projects():
    # PyPI rejects names equal to an existing one once `-`, `_` and `.` are removed.
    taken = {"tensorlogic", "pytensorlogic", "pythontensorlogic"}
    assert re.sub(r"[-_.]", "", PROJECT["name"].lower()) not in taken
    assert PROJECT["name"] in (ROOT / "README.md").read_text(encoding="utf-8")


def test_license_file_is_the_mit_text_the_metadata_names():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == {"text": "MIT"}
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    assert "License :: OSI Approved :: MIT License" in PROJECT["classifiers"]


def test_classified_python_versions_are_the_ones_built():
    versions = {c.rsplit(" ", 1)[1] for c in PROJECT["classifiers"]
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    built = {f"3.{m}" for m in re.findall(r"cp3(\d+)-\*", CONFIG["tool"]["cibuildwheel"]["build"])}
    assert versions == built
    low = PROJECT["requires-python"].removeprefix(">=")
    assert min(built, key=lambda v: int(v.split(".")[1])) == low


def test_wheels_for_linux_x86_64_aarch64_and_macos_arm64_tested_by_the_suite():
    cibw = CONFIG["tool"]["cibuildwheel"]
    assert set(cibw["linux"]["archs"]) == {"x86_64", "aarch64"}
    assert cibw["macos"]["archs"] == ["arm64"]
    assert "test" in cibw["test-extras"] and "test" in PROJECT["optional-dependencies"]
    assert re.fullmatch(r"python -m pytest -q \{project\}/tests", cibw["test-command"])


def test_pygments_lexer_entry_point_names_the_lexer():
    target = PROJECT["entry-points"]["pygments.lexers"]["tensorlogic"]
    assert target == "tensorlogic.lang.highlight:TensorLogicLexer"
