"""Targets of the processes that tests/test_multiprocessing.py starts: a spawned process imports its target by
module, so they live apart from the test file, which imports PyTorch (slow to import again in every child)."""
import os


def write_rank(i, shared):
    """Writes rank + 1 at index `rank` of a shared tensor."""
    shared[i] = i + 1


def fail_at(i, bad, how):
    """Process `bad` raises (how == 'raise') or exits with code 3; the others return."""
    if i == bad:
        if how == "raise":
            raise ValueError(f"process {i} fails")
        os._exit(3)
