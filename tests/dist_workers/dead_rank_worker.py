"""Rank 1 dies after joining; the others' next collective must end with DistBackendError (short timeout)
and their processes must exit (no hang in MPI's finalize)."""
import datetime
import os

import tensorlogic as tl
import tensorlogic.distributed as dist

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=2))
tl.set_default_device("cpu")
if dist.get_rank() == 1:
    os._exit(3)
try:
    dist.all_reduce(tl.ones(4))
except dist.DistBackendError as e:  # a short marker per rank (long tracebacks interleave on stderr)
    print(f"rank {dist.get_rank()}: {type(e).__name__}: {str(e)[:40]}", flush=True)
    raise
