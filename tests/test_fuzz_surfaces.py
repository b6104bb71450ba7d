"""The surfaces fuzzer (tests/fuzz_surfaces.py: tl.fft, tl.special, tl._foreach_*, and optimizers, schedulers,
DataLoader, Embedding, load_state_dict, tl.save, .grad assignment, memory formats and fills driven by scenarios; pickle,
rebuilt and shared tensors, tl.load of hostile files and torch.optim states in fuzz_persistence.py; in-place view
changes and index updates against PyTorch in fuzz_against_torch.py) in subprocess batches: a crash, a hang, an
untyped or leaking error, state an error changed, or a _foreach_* result unlike the per-tensor op's fails with the
call and the command that replays it.

TL_FUZZ_SURFACE_CALLS sets the number of calls (4,000 by default: a few seconds on two cores; 100,000 for a long
run). Batches of 2,000 run two at a time with fresh seeds; a batch that takes more than 120 s counts as a hang."""
import os
from pathlib import Path

from fuzz_ops import run_batches
from fuzz_surfaces import SCENARIOS, public_ops

CALLS = int(os.environ.get("TL_FUZZ_SURFACE_CALLS", "4000"))
BATCH = 2000
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_surfaces.py")


def test_fuzz_surfaces(tmp_path):
    summaries, failures = run_batches(SCRIPT, CALLS, BATCH, tmp_path, TIMEOUT_S, "call")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CALLS
    # calls reach the end as well as the errors: a fuzzer whose every call fails early tests little
    assert sum(summary["returned"] for summary in summaries) >= CALLS // 5


def test_the_tables_reach_the_namespaces_fuzz_ops_leaves_out():
    names = {op[0] for op in public_ops()}
    for name in ("tl.fft.fft", "tl.fft.fftfreq", "tl.special.multigammaln", "tl.special.polygamma",
                 "tl._foreach_addcdiv_", "tl._foreach_norm", "tl._foreach_maximum_"):
        assert name in names, name
    assert {"optimizer_scenario", "scheduler_scenario", "dataloader_scenario", "save_scenario", "pickle_scenario",
            "rebuild_scenario", "load_scenario", "torch_state_scenario", "inplace_view_scenario",
            "oracle_scenario"} <= set(SCENARIOS)
