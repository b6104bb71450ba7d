"""Builds tests/cpp_hostile against the installed package with CMake and runs it: hostile calls through the public
C++ API (undefined arrays, views outside their storage, op enums outside their tables, absurd sizes), each of
which must throw its typed error rather than crash, hang or read outside an array (attack round 4)."""
import os
import shutil
import subprocess
import sys

import pytest

from test_cpp_embed import _compiler

PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpp_hostile")


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
@pytest.mark.skipif(_compiler() is None, reason="no C++ compiler found")
def test_hostile_cpp_calls_throw_typed_errors(tmp_path):
    cmake_dir = subprocess.run([sys.executable, "-m", "tensorlogic", "--cmake-dir"], check=True, capture_output=True,
                               text=True).stdout.strip()
    build = tmp_path / "build"
    configure = ["cmake", "-S", PROJECT, "-B", str(build), f"-DTensorLogic_DIR={cmake_dir}",
                 "-DCMAKE_BUILD_TYPE=Release"]
    for cmd in (configure, ["cmake", "--build", str(build)]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    exe = build / ("cpp_hostile.exe" if os.name == "nt" else "cpp_hostile")
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "WRONG" not in done.stdout, (done.returncode, done.stdout, done.stderr)
    assert done.stdout.count("ok ") >= 40, done.stdout
