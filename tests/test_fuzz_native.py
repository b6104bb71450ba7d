"""The native-module fuzzer (tests/fuzz_native.py: every callable of tensorlogic._core with hostile arguments) in
subprocess batches: a crash or a hang fails with the call and the command that replays it.

TL_FUZZ_NATIVE_CALLS sets the number of calls (3,000 by default: a few seconds on two cores; 100,000 for a long
run). Batches of 1,500 run two at a time with fresh seeds; a batch that takes more than 120 s counts as a hang."""
import os
from pathlib import Path

from fuzz_native import entry_points
from fuzz_ops import run_batches

CALLS = int(os.environ.get("TL_FUZZ_NATIVE_CALLS", "3000"))
BATCH = 1500
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_native.py")


def test_fuzz_native(tmp_path):
    summaries, failures = run_batches(SCRIPT, CALLS, BATCH, tmp_path, TIMEOUT_S, "call")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CALLS
    # most calls stop at pybind11's signature check (any arity, any kind); about 1 in 60 reaches the native code
    assert sum(summary["returned"] for summary in summaries) >= CALLS // 200


def test_the_entry_points_include_the_raw_cpython_ones():
    names = {name for name, _ in entry_points()}
    assert {"saved_tensors", "wrap", "function_apply", "empty", "Array.numel", "pickle.dumps"} <= names, \
        sorted(names)[:20]
