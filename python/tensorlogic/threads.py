"""The CPU backend's thread settings (torch.set_num_threads / get_num_threads: the size of the worker pool that the
CPU kernels split their work over, the calling thread included; torch's inter-op pool and denormal flushing, which
TensorLogic does not have: see get_num_interop_threads and set_flush_denormal)."""
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


def get_num_interop_threads():
    """1: there is no inter-op thread pool here (PyTorch's runs independent ops of one graph concurrently, for
    torch.jit.fork); the ops a Python thread calls run one after another, each split over the CPU worker pool
    (get_num_threads)."""
    return 1


def set_num_interop_threads(num):
    """Checks `num` (a positive int, else PyTorch's RuntimeError) and changes nothing: there is no inter-op pool to
    size (see get_num_interop_threads, which stays 1). Programs set it at start-up; set_num_threads sizes the pool
    that exists."""
    if not isinstance(num, numbers.Integral) or isinstance(num, bool):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(num).__name__}")
    if num < 1:
        raise RuntimeError("set_num_interop_threads expects a positive integer")


def set_flush_denormal(mode):
    """False, as PyTorch returns on CPUs without the support: denormal flushing is not available here (the CPU
    kernels compute in f32 with the thread pool's default floating-point mode), so f16 and f32 subnormals are kept."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False
