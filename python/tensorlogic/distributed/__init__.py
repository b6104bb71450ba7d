"""tl.distributed: torch.distributed's process group and collectives on CPU tensors, over MPI (mpi4py).

Start the ranks with `python -m tensorlogic.distributed.run --nproc-per-node N script.py` (or mpiexec).
`default_pg_timeout` (30 minutes, a datetime.timedelta) is how long a collective may take before it raises
DistBackendError, unless init_process_group(timeout=...) says otherwise."""
from .collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce, barrier, broadcast, irecv,
                          isend, recv, reduce_scatter, reduce_scatter_tensor, send)
from .process_group import (Backend, DistBackendError, DistError, ProcessGroup, default_pg_timeout,
                            destroy_process_group, get_backend, get_rank, get_world_size, init_process_group,
                            is_available, is_gloo_available, is_initialized, is_mpi_available, is_nccl_available)

__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized", "is_mpi_available",
           "is_nccl_available", "is_gloo_available", "get_rank", "get_world_size", "get_backend", "Backend",
           "ProcessGroup", "ReduceOp", "Work", "DistError", "DistBackendError", "default_pg_timeout", "barrier",
           "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "send", "recv", "isend", "irecv"]
