"""tl.nn.parallel: data parallelism over processes (torch.nn.parallel's DistributedDataParallel)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
