"""The language-model fuzzer (tests/fuzz_models.py: tiny Hugging Face folders and GGUF files, mutated, loaded and run
for a few tokens through tensorlogic.models and `tl generate`) in subprocess batches: a crash, a hang, an untyped or
leaking error, a traceback from `tl generate` or a generated id outside the vocabulary fails with the case and the
command that replays it.

TL_FUZZ_MODEL_CASES sets the number of cases (300 by default: a few seconds on two cores; 20,000 for a long run).
Batches of 150 run two at a time with fresh seeds; a batch that takes more than 120 s counts as a hang."""
import os
from pathlib import Path

from fuzz_ops import run_batches

CASES = int(os.environ.get("TL_FUZZ_MODEL_CASES", "300"))
BATCH = 150
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_models.py")


def test_fuzz_models(tmp_path):
    summaries, failures = run_batches(SCRIPT, CASES, BATCH, tmp_path, TIMEOUT_S, "case")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CASES
    # a third of the cases load and generate (the mutations leave some models whole), and few are unwritable
    assert sum(summary["returned"] for summary in summaries) >= CASES // 3
    assert sum(summary["unwritten"] for summary in summaries) <= CASES // 20
