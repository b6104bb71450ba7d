"""The CPU backend's thread count (torch.set_num_threads / get_num_threads): the size of the worker pool
that the CPU kernels split their work over, the calling thread included."""
import numbers

from . import _core


def set_num_threads(num):
    """Resizes the CPU worker pool to `num` threads (waits for a running job to finish first)."""
    if not isinstance(num, numbers.Integral) or isinstance(num, bool) or num < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {num!r}")
    _core.set_num_threads(int(num))


def get_num_threads():
    """The number of threads of the CPU worker pool (the calling thread included)."""
    return _core.num_threads()
