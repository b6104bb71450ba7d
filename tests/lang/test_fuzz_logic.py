"""The logic against clingo on random programs (fuzz_logic.py), a batch with a fresh seed each run, in
a subprocess: a wrong answer, a crash, a hang (the batch's timeout) or an untyped error fails with
the seed and the programs that caused it.

TL_FUZZ_LOGIC_PROGRAMS sets the batch's size (100 by default, about 4 s on one core; fuzz_logic.py
runs longer batches)."""
import os
import pathlib
import random
import subprocess
import sys

import pytest

PROGRAMS = int(os.environ.get("TL_FUZZ_LOGIC_PROGRAMS", "100"))
SCRIPT = pathlib.Path(__file__).with_name("fuzz_logic.py")


def test_random_programs_match_clingo():
    seed = random.SystemRandom().randrange(1 << 30)
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(seed), str(PROGRAMS)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=60 + PROGRAMS // 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"fuzz batch (seed {seed}, {PROGRAMS} programs) hung; replay: python {SCRIPT} {seed} {PROGRAMS}")
    assert proc.returncode == 0, f"seed {seed}; replay: python {SCRIPT} {seed} {PROGRAMS}\n{out[-8000:]}"
    assert f"{PROGRAMS} programs, 0 failures" in out
