"""tensorlogic.multiprocessing (torch.multiprocessing): Python's multiprocessing, every name of it, with tensors sent
to other processes through shared memory instead of copied (see reductions.py), so that Hogwild-style training
(model.share_memory(), then processes that each step an optimizer over the same parameters) works as in PyTorch.
CPU tensors only: a GPU tensor raises DeviceError (PyTorch shares CUDA memory through CUDA IPC, which is absent
here). The one sharing strategy is PyTorch's default on Linux, file_descriptor. spawn and start_processes run a
function in several processes as PyTorch's do (tensorlogic.distributed forms its world through MPI's launcher, so
a process group is not made by spawned processes)."""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .reductions import init_reductions
from .spawn import ProcessContext, ProcessExitedException, ProcessRaisedException, spawn, start_processes

__all__ = list(multiprocessing.__all__) + ["get_all_sharing_strategies", "get_sharing_strategy", "set_sharing_strategy",
                                           "spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                                           "ProcessExitedException"]

_STRATEGIES = {"file_descriptor"}


def get_all_sharing_strategies():
    """The sharing strategies supported here: {'file_descriptor'}."""
    return set(_STRATEGIES)


def get_sharing_strategy():
    """The strategy in use: 'file_descriptor' (each shared tensor's memory is a file whose descriptor is passed)."""
    return "file_descriptor"


def set_sharing_strategy(new_strategy):
    """Accepts 'file_descriptor', the only strategy here; 'file_system' (shared memory found by name) is absent."""
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: unsupported strategy {new_strategy!r}; only 'file_descriptor' is "
                         "available here (shared tensors are passed as file descriptors)")


init_reductions()
