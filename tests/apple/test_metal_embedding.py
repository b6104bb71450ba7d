"""cmake/EmbedMetal.cmake, which the Apple build runs to embed metal/*.metal as strings: every quoted
#include (params.h, common.h, the op enums and their X-macro table, the shared kernel math, philox.h) must be
inlined, since Metal compiles the strings without a file system; a kernel file compiles from its string
alone (against the compat header, the stand-in for <metal_stdlib>)."""
import os
import re
import shutil
import subprocess

import pytest

from metal_harness import CXX, METAL_DIR, ROOT


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    if shutil.which("cmake") is None:
        pytest.skip("no cmake")
    out = tmp_path_factory.mktemp("embed") / "metal_sources.cpp"
    subprocess.run(["cmake", f"-DMETAL_DIR={METAL_DIR}", f"-DOUTPUT={out}", "-P",
                    os.path.join(ROOT, "cmake", "EmbedMetal.cmake")], check=True, capture_output=True)
    return dict(re.findall(r'\{"(\w+)", R"TLMSL\((.*?)\)TLMSL"\}', out.read_text(), re.S))


def test_every_kernel_file_is_embedded_with_its_includes_inlined(embedded):
    files = sorted(f[: -len(".metal")] for f in os.listdir(METAL_DIR) if f.endswith(".metal"))
    assert sorted(embedded) == files
    for name, text in embedded.items():
        assert re.search(r'#include\s*"', text) is None, name
        assert "#pragma once" not in text, name


@pytest.mark.parametrize("name", ["elementwise", "optimizer", "random"])
def test_an_embedded_source_compiles_alone(embedded, tmp_path, name):
    source = tmp_path / f"{name}.cpp"
    source.write_text(embedded[name])
    # Only the compat directory (and the engine's dtype.h, which the compat header itself uses).
    cmd = [CXX, "-std=c++17", "-fsyntax-only", "-w", "-I", os.path.join(METAL_DIR, "compat"), "-I",
           os.path.join(ROOT, "cpp", "include"), str(source)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
