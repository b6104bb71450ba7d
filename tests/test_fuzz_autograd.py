"""The autograd attack fuzzer (tests/fuzz_autograd.py: user Functions, ctx, the engine, hooks, deep graphs, threads,
gc, each case against PyTorch's autograd) in subprocess batches: a crash, a hang, an untyped or leaking error or a
gradient unlike PyTorch's fails with the case and the command that replays it.

TL_FUZZ_AUTOGRAD_CALLS sets the number of cases (200 by default: a few seconds on two cores; 20,000 for a long
run). Batches of 100 cases run two at a time with fresh seeds; a batch that takes more than 120 s counts as a hang."""
import os
from pathlib import Path

from fuzz_ops import run_batches

CALLS = int(os.environ.get("TL_FUZZ_AUTOGRAD_CALLS", "200"))
BATCH = 100
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_autograd.py")


def test_fuzz_autograd(tmp_path):
    summaries, failures = run_batches(SCRIPT, CALLS, BATCH, tmp_path, TIMEOUT_S, "case")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CALLS
    # the cases reach the end as well as the errors: a fuzzer whose every case fails early tests little
    assert sum(summary["returned"] for summary in summaries) >= CALLS // 8  # (about 27% return: 5 sd above)
