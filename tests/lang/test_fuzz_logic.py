"""The logic against clingo on random programs (fuzz_logic.py) and on programs of chosen shapes over larger
graphs (fuzz_logic_shapes.py), a batch of each with a fresh seed each run, in a subprocess: a wrong answer,
a crash, a hang (the batch's timeout) or an untyped error fails with the seed and the programs that caused it.

TL_FUZZ_LOGIC_PROGRAMS and TL_FUZZ_LOGIC_SHAPES set the batches' sizes (100 and 12 by default, about 5 s
and 2 s on one core; the scripts run longer batches)."""
import os
import pathlib
import random

import pytest

from fuzz_batches import finish_fuzz_batch, start_fuzz_batch

BATCHES = {"fuzz_logic.py": int(os.environ.get("TL_FUZZ_LOGIC_PROGRAMS", "100")),
           "fuzz_logic_shapes.py": int(os.environ.get("TL_FUZZ_LOGIC_SHAPES", "12"))}


@pytest.mark.parametrize("script", list(BATCHES))
def test_random_programs_match_clingo(script):
    seed = random.SystemRandom().randrange(1 << 30)
    programs, path = BATCHES[script], pathlib.Path(__file__).with_name(script)
    proc = start_fuzz_batch(path, seed, programs)
    out = finish_fuzz_batch(proc, path, seed, programs, timeout=60 + programs // 5)
    assert f"{programs} programs, 0 failures" in out
