"""The attack fuzzer (tests/fuzz_ops.py) over every public op, in subprocess batches: a crash, a hang or an
untyped error fails with the call that caused it and the command that replays it.

TL_FUZZ_CALLS sets the number of calls (20,000 by default: about 10 s on two cores; 100,000 for a long run).
Batches of 5,000 calls run two at a time with fresh seeds; a batch that takes more than 120 s counts as
a hang."""
import os
from pathlib import Path

import tensorlogic as tl
from fuzz_ops import public_ops, run_batches

CALLS = int(os.environ.get("TL_FUZZ_CALLS", "20000"))
BATCH = 5000
TIMEOUT_S = 120
SCRIPT = Path(__file__).with_name("fuzz_ops.py")


def test_fuzz_every_public_op(tmp_path):
    summaries, failures = run_batches(SCRIPT, CALLS, BATCH, tmp_path, TIMEOUT_S, "call")
    assert not failures, "\n".join(failures[:20])
    assert sum(summary["calls"] for summary in summaries) == CALLS
    assert all(summary["ops"] >= 300 for summary in summaries)  # every public op, methods included


def test_the_tables_reach_every_namespace_and_class():
    """The namespaces and classes added to the fuzzer's tables (tl.linalg, tl.distributions with each distribution's
    members, packed sequences, the recurrent layers, indexing) are among the ops it calls."""
    names = {op[0] for op in public_ops()}
    for name in ("tl.linalg.vector_norm", "tl.linalg.diagonal", "tl.distributions.kl_divergence",
                 "tl.distributions.Gamma.sample", "tl.distributions.Categorical.log_prob",
                 "tl.distributions.Independent.entropy", "tl.nn.utils.rnn.pack_padded_sequence",
                 "tl.nn.utils.rnn.pad_packed_sequence", "tl.nn.LSTM.forward", "Tensor.__getitem__",
                 "Tensor.__setitem__", "Tensor.unfold", "F.interpolate", "F.dropout3d", "tl.zeros"):
        assert name in names, name
    assert not any(name.startswith("tl.linalg.") and name.split(".")[-1] not in tl.linalg.__all__ for name in names)
