"""tl.nn.parallel: data parallelism over the GPUs of one process (DataParallel) and over processes
(DistributedDataParallel), as torch.nn.parallel's."""
from .replicas import DataParallel, data_parallel, gather, replicate, scatter, scatter_kwargs
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "gather", "replicate", "scatter",
           "scatter_kwargs"]
