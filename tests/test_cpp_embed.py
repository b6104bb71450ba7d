"""Builds examples/cpp_embed against the installed package with CMake (find_package(TensorLogic)) and
runs it; the program checks its results against hand-computed values and fails on a mismatch."""
import os
import shutil
import subprocess
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "cpp_embed")


def _compiler():
    return os.environ.get("CXX") or next((c for c in ("c++", "g++", "clang++") if shutil.which(c)), None)


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
@pytest.mark.skipif(_compiler() is None, reason="no C++ compiler found")
def test_cpp_embed_builds_and_runs(tmp_path):
    cmake_dir = subprocess.run([sys.executable, "-m", "tensorlogic", "--cmake-dir"], check=True, capture_output=True,
                               text=True).stdout.strip()
    assert os.path.isfile(os.path.join(cmake_dir, "TensorLogicConfig.cmake")), cmake_dir
    build = tmp_path / "build"

    def run(*cmd):
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    run("cmake", "-S", EXAMPLE, "-B", str(build), f"-DTensorLogic_DIR={cmake_dir}", "-DCMAKE_BUILD_TYPE=Release")
    run("cmake", "--build", str(build))
    exe = build / ("cpp_embed.exe" if os.name == "nt" else "cpp_embed")
    output = run(str(exe))
    assert "MISMATCH" not in output and output.count(" ok:") == 8, output
