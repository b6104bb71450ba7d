"""The attack fuzzer (tests/fuzz_ops.py) over every public op, in subprocess batches: a crash, a hang or an
untyped error fails with the call that caused it and the command that replays it.

TL_FUZZ_CALLS sets the number of calls (20,000 by default: about 10 s on two cores; 100,000 for a long run).
Batches of 5,000 calls run two at a time with fresh seeds; a batch that takes more than 120 s counts as
a hang."""
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fuzz_ops import run_in_subprocess

CALLS = int(os.environ.get("TL_FUZZ_CALLS", "20000"))
BATCH = 5000
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_ops.py")


def test_fuzz_every_public_op(tmp_path):
    seed = int(time.time() * 1000) % 2**31
    batches = [(seed + i, min(BATCH, CALLS - i * BATCH), tmp_path / f"progress{i}") for i in range(-(-CALLS // BATCH))]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda batch: run_in_subprocess(SCRIPT, *batch, TIMEOUT_S), batches))
    failures = [failure for _, failure in results if failure]
    for (batch_seed, _, _), (summary, _) in zip(batches, results):
        for problem in (summary or {}).get("problems", []):
            failures.append(f"{problem['why']}: {problem['call']} -> {problem['error']}; "
                            f"replay: python tests/fuzz_ops.py --seed {batch_seed} --replay {problem['index']}")
    assert not failures, "\n".join(failures[:20])
    calls = sum(summary["calls"] for summary, _ in results)
    assert calls == CALLS
    assert all(summary["ops"] >= 300 for summary, _ in results)  # every public op, methods included
