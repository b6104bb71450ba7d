"""Off Apple, objc/*.mm cannot be built; where a clang with Objective-C++ is installed, this at least
parses and type-checks them (C++ logic, blocks, ARC rules) against objc_stubs/: hand-written declarations
of the few SDK classes the code uses, NOT the real SDK. The macOS workflow compiles them for real."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))


def find_clang():
    for name in ["clang++"] + [f"clang++-{v}" for v in range(20, 13, -1)]:
        if shutil.which(name):
            return name
    return None


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS builds objc/ against the real SDK")
@pytest.mark.parametrize("source", sorted(glob.glob(os.path.join(ROOT, "objc", "*.mm"))), ids=os.path.basename)
def test_objc_parses_against_sdk_stubs(source):
    clang = find_clang()
    if clang is None:
        pytest.skip("no clang++ to parse Objective-C++")
    cmd = [clang, "-fobjc-runtime=macosx-13.0", "-fsyntax-only", "-x", "objective-c++", "-std=c++17", "-fobjc-arc",
           "-fblocks", "-I", os.path.join(HERE, "objc_stubs"), "-I", os.path.join(ROOT, "cpp", "include"),
           "-DTL_WITH_METAL", "-DTL_WITH_COREML", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", source]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
