"""Rank 1 dies after joining; the others' next collective must end with DistBackendError (short timeout)
and their processes must exit (no hang in MPI's finalize). BACKEND (argument; default mpi) may be nccl:
there the all-reduce is only queued, and the barrier after it waits."""
import datetime
import os
import sys

import tensorlogic as tl
import tensorlogic.distributed as dist

backend = sys.argv[1] if len(sys.argv) > 1 else "mpi"
dist.init_process_group(backend, timeout=datetime.timedelta(seconds=2))
tl.set_default_device("cpu" if backend == "mpi" else f"cuda:{os.environ.get('LOCAL_RANK', '0')}")
if dist.get_rank() == 1:
    os._exit(3)
try:
    dist.all_reduce(tl.ones(4))
    dist.barrier()
except dist.DistBackendError as e:  # a short marker per rank (long tracebacks interleave on stderr)
    print(f"rank {dist.get_rank()}: {type(e).__name__}: {str(e)[:40]}", flush=True)
    raise
