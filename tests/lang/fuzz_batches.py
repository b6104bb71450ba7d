"""The subprocess runner of the language's fuzz batches (a fuzz script run as `python script SEED COUNT`): a
crash or a hang fails the batch, not the test run, and the failure names the command that replays it."""
import subprocess
import sys

import pytest


def start_fuzz_batch(script, seed, count):
    """The fuzz script started in its own process."""
    return subprocess.Popen([sys.executable, str(script), str(seed), str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_fuzz_batch(proc, script, seed, count, timeout):
    """The batch's output once it exits 0 within timeout seconds; else the test fails with the replay command."""
    replay = f"replay: python {script} {seed} {count}"
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"fuzz batch (seed {seed}, {count} programs) hung; {replay}")
    assert proc.returncode == 0, f"fuzz batch seed {seed}; {replay}\n{out[-8000:]}"
    return out
