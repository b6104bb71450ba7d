"""The logic against clingo on random programs (fuzz_logic.py), a batch with a fresh seed each run, in
a subprocess: a wrong answer, a crash, a hang (the batch's timeout) or an untyped error fails with
the seed and the programs that caused it.

TL_FUZZ_LOGIC_PROGRAMS sets the batch's size (100 by default, about 5 s on one core; fuzz_logic.py
runs longer batches)."""
import os
import pathlib
import random

from fuzz_batches import finish_fuzz_batch, start_fuzz_batch

PROGRAMS = int(os.environ.get("TL_FUZZ_LOGIC_PROGRAMS", "100"))
SCRIPT = pathlib.Path(__file__).with_name("fuzz_logic.py")


def test_random_programs_match_clingo():
    seed = random.SystemRandom().randrange(1 << 30)
    proc = start_fuzz_batch(SCRIPT, seed, PROGRAMS)
    out = finish_fuzz_batch(proc, SCRIPT, seed, PROGRAMS, timeout=60 + PROGRAMS // 5)
    assert f"{PROGRAMS} programs, 0 failures" in out
