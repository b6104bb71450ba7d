"""The process group: how ranks find each other (MPI's world, formed by mpiexec) and, for the nccl backend,
the NCCL communicator made over it. mpi4py is imported only by this package; without it,
init_process_group says how to get it (a world of one on nccl needs no MPI)."""
import datetime
import os

from .. import _core
from ..device import device_name
from . import nccl

from .errors import DistBackendError, DistError  # noqa: F401 (DistBackendError: re-exported)

try:
    import mpi4py
    mpi4py.rc.initialize = False  # MPI starts in init_process_group, not on `import tensorlogic`
    mpi4py.rc.finalize = None     # ... and is finalized at exit only if we started it
    from mpi4py import MPI
except (ImportError, RuntimeError) as e:  # the `distributed` extra is optional; mpi4py without an MPI library
    MPI, _MPI_MISSING = None, e           # (no mpich wheel) raises RuntimeError("cannot load MPI library")
else:
    _MPI_MISSING = None

BACKENDS = ("mpi", "gloo", "nccl")
default_pg_timeout = datetime.timedelta(minutes=30)


class Backend(str):
    """Backend names as torch.distributed.Backend: MPI ('mpi'), GLOO ('gloo', served by the MPI engine) and NCCL
    ('nccl', CUDA tensors through the NCCL library); a Backend is a str."""
    MPI, GLOO, NCCL = "mpi", "gloo", "nccl"


class ProcessGroup:
    """The default group: an MPI communicator (None for nccl in a world of one), its rank and size, the
    deadline of each collective, and for nccl the NCCL communicator and the CUDA device it serves."""

    def __init__(self, comm, backend, timeout, rank, size, nccl_comm=None, device=None):
        self.comm, self.backend, self.timeout = comm, backend, timeout
        self._rank, self._size, self.nccl, self.device = rank, size, nccl_comm, device

    def rank(self):
        """This process's rank in the group (0 .. size - 1)."""
        return self._rank

    def size(self):
        """The number of processes in the group."""
        return self._size


_world = None  # the default ProcessGroup while initialized


def _env_int(name, given):
    """An explicit argument, else the torchrun variable, else None."""
    if given is not None and given >= 0:
        return given
    value = os.environ.get(name)
    return int(value) if value is not None else None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins the MPI world started by `python -m tensorlogic.distributed.run` (or mpiexec).

    backend: "mpi" (CPU tensors); "gloo" is an alias of it (torch's CPU backend name, so torch scripts run
    unchanged); "nccl" (CUDA tensors of one GPU per rank: device_id, else cuda:LOCAL_RANK modulo the GPU
    count; rank 0's NCCL id reaches the others over MPI). init_method: None or "env://" (torchrun's
    variables are checked against MPI's world; the rendezvous itself is MPI's). timeout: an MPI collective
    that has not finished by then raises DistBackendError (a rank that died makes the others fail instead
    of hang); on nccl, barrier() waits within it (other NCCL collectives are only queued)."""
    global _world
    if _world is not None:
        raise DistError("init_process_group: the default process group is already initialized")
    backend = str(backend or "mpi").lower()
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; expected one of {BACKENDS}")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method {init_method!r} is not supported; use 'env://' "
                         "(the world is MPI's, formed by tensorlogic.distributed.run or mpiexec)")
    if store is not None:
        raise ValueError("init_process_group: store= is not supported; the rendezvous is MPI's")
    if backend == "nccl" and not _core.is_available("cuda"):
        raise DistError("init_process_group: the nccl backend needs a CUDA device; none is available here "
                        "(use backend='mpi' for CPU tensors)")
    if timeout is None:
        timeout = default_pg_timeout
    expected_size, expected_rank = _env_int("WORLD_SIZE", world_size), _env_int("RANK", rank)
    if MPI is None and backend == "nccl" and expected_size in (None, 1) and expected_rank in (None, 0):
        _world = _nccl_group(None, 0, 1, timeout, device_id)
        return
    if MPI is None:
        raise DistError("init_process_group: mpi4py is not importable; install the extra: "
                        f"pip install 'tensorlogic[distributed]' ({_MPI_MISSING})")
    if not MPI.Is_initialized():
        MPI.Init_thread(MPI.THREAD_SERIALIZED)
    comm = MPI.COMM_WORLD.Dup()
    comm.Set_errhandler(MPI.ERRORS_RETURN)
    size, mpi_rank = comm.Get_size(), comm.Get_rank()
    if expected_size is not None and expected_size != size:
        comm.Free()
        raise DistError(f"init_process_group: world_size {expected_size} but MPI's world has {size} "
                        "process(es); start the ranks with python -m tensorlogic.distributed.run "
                        "--nproc-per-node N (or mpiexec -n N)")
    if expected_rank is not None and expected_rank != mpi_rank:
        comm.Free()
        raise DistError(f"init_process_group: rank {expected_rank} but MPI gave this process rank {mpi_rank}")
    if backend == "nccl":
        try:
            _world = _nccl_group(comm, mpi_rank, size, timeout, device_id)
        except BaseException:
            comm.Free()
            raise
        return
    _world = ProcessGroup(comm, Backend(backend), timeout, mpi_rank, size)


def _nccl_group(comm, rank, size, timeout, device_id):
    """The NCCL communicator of this rank's GPU; rank 0's id is broadcast over MPI."""
    nccl.library()  # DistBackendError saying how to install NCCL, before any rank waits for another
    if device_id is None:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % _core.device_count('cuda')}"
    else:
        device = device_name(f"cuda:{device_id}" if isinstance(device_id, int) else device_id)
        if not device.startswith("cuda"):
            raise ValueError(f"init_process_group: device_id must be a CUDA device for nccl, got {device}")
    uid = nccl.unique_id() if rank == 0 else None
    if comm is not None:
        uid = comm.bcast(uid, root=0)
    _core.stream_handle(device)  # makes the device current on this thread: the communicator binds to it
    return ProcessGroup(comm, Backend.NCCL, timeout, rank, size, nccl.Communicator(size, rank, uid), device)


def is_available():
    """True when the distributed package can run here (mpi4py is importable)."""
    return MPI is not None


def is_initialized():
    """True between init_process_group and destroy_process_group."""
    return _world is not None


def is_mpi_available():
    """True when mpi4py is importable (the engine of every backend here)."""
    return MPI is not None


def is_nccl_available():
    """Whether the NCCL library loads and a CUDA device is present."""
    return _core.is_available("cuda") and nccl.is_loadable()


def is_gloo_available():
    """True when mpi4py is importable: the name 'gloo' is served by the MPI engine, so torch scripts that pick gloo
    run unchanged."""
    return MPI is not None  # "gloo" is served by the MPI engine


def default_group(group=None):
    """`group` or the default group; raises if init_process_group has not run."""
    if group is not None:
        return group
    if _world is None:
        raise DistError("Default process group has not been initialized, please make sure to call "
                        "init_process_group.")
    return _world


def get_rank(group=None):
    """This process's rank in `group` (default: the default group). Raises DistError when init_process_group has not
    run."""
    return default_group(group).rank()


def get_world_size(group=None):
    """The number of processes in `group` (default: the default group). Raises DistError when init_process_group has
    not run."""
    return default_group(group).size()


def get_backend(group=None):
    """The backend name of `group` (default: the default group), a Backend. Raises DistError when init_process_group
    has not run."""
    return default_group(group).backend


def destroy_process_group(group=None):
    """Forgets the default group (MPI itself is finalized at exit, as mpi4py does)."""
    global _world
    pg = default_group(group)
    if pg.nccl is not None:
        pg.nccl.destroy()
    if pg.comm is not None:
        pg.comm.Free()
    if pg is _world:
        _world = None
