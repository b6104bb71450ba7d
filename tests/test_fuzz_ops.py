"""The attack fuzzer (tests/fuzz_ops.py) over every public op, in subprocess batches: a crash, a hang or an
untyped error fails with the call that caused it and the command that replays it.

TL_FUZZ_CALLS sets the number of calls (20,000 by default: about 10 s on two cores; 100,000 for a long run).
Batches of 5,000 calls run two at a time with fresh seeds; a batch that takes more than 120 s counts as
a hang."""
import os
from pathlib import Path

from fuzz_ops import run_batches

CALLS = int(os.environ.get("TL_FUZZ_CALLS", "20000"))
BATCH = 5000
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_ops.py")


def test_fuzz_every_public_op(tmp_path):
    summaries, failures = run_batches(SCRIPT, CALLS, BATCH, tmp_path, TIMEOUT_S, "call")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CALLS
    assert all(summary["ops"] >= 300 for summary in summaries)  # every public op, methods included
