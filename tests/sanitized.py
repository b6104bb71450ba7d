"""Runs pytest (or a script) with tensorlogic._core taken from a sanitizer build (README, Robustness):

    python tests/sanitized.py BUILD_DIR [pytest arguments]
    python tests/sanitized.py BUILD_DIR --script tests/fuzz_ops.py [its arguments]

The Python sources stay the worktree's; only the native extension (and the library it links) is swapped.
Tests that start a fresh Python (the fuzzer's batches, the reproducers) run the regular build."""
import importlib.abc
import importlib.util
import runpy
import sys
from pathlib import Path

import pytest


class _SanitizedCore(importlib.abc.MetaPathFinder):
    def __init__(self, path):
        self.path = path

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_file_location(name, self.path) if name == "tensorlogic._core" else None


if __name__ == "__main__":
    core = next(Path(sys.argv[1]).glob("_core*.so"))
    sys.meta_path.insert(0, _SanitizedCore(str(core)))
    if sys.argv[2:3] == ["--script"]:
        sys.argv = sys.argv[3:]
        sys.path.insert(0, str(Path(sys.argv[0]).parent))
        runpy.run_path(sys.argv[0], run_name="__main__")
    else:
        sys.exit(pytest.main(sys.argv[2:]))
