"""The Metal-on-CPU harness needs a C++17 compiler; these tests skip (saying why) where there is none."""
import os
import shutil
import sys

import pytest

sys.path.append(os.path.dirname(__file__))  # metal_harness; after tests/ so `conftest` stays tests/conftest.py

import metal_harness  # noqa: E402


@pytest.fixture(scope="session")
def metal_lib():
    if shutil.which(metal_harness.CXX) is None:
        pytest.skip(f"no C++ compiler ({metal_harness.CXX}) to build the Metal-on-CPU harness")
    metal_harness.compile_all()
    return metal_harness.load
