"""The nn-module fuzzer (tests/fuzz_modules.py: every tl.nn module class built with hostile arguments, then shown,
called, differentiated and its state_dict loaded back) in subprocess batches: a crash, a hang, or an untyped or
leaking error fails with the call and the command that replays it.

TL_FUZZ_MODULE_CALLS sets the number of calls (3,000 by default: a few seconds on two cores; 100,000 for a
long run). Batches of 1,500 run two at a time with fresh seeds; a batch that takes more than 120 s counts as a hang."""
import os
from pathlib import Path

from fuzz_modules import MODULES
from fuzz_ops import run_batches

CALLS = int(os.environ.get("TL_FUZZ_MODULE_CALLS", "3000"))
BATCH = 1500
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_modules.py")


def test_fuzz_modules(tmp_path):
    summaries, failures = run_batches(SCRIPT, CALLS, BATCH, tmp_path, TIMEOUT_S, "call")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CALLS
    # a fifth of the calls build a module and get through its forward and backward
    assert sum(summary["returned"] for summary in summaries) >= CALLS // 6


def test_every_public_module_class_is_fuzzed_but_the_wrappers():
    assert {"Linear", "Conv2d", "LazyLinear", "MultiheadAttention", "Transformer", "CTCLoss", "Softmax",
            "AdaptiveLogSoftmaxWithLoss", "ZeroPad2d", "FractionalMaxPool3d"} <= set(MODULES)
    assert len(MODULES) > 140
