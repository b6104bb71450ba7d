"""The typed errors of tl.distributed (torch.distributed's names), shared by the MPI and NCCL engines."""
from ..errors import TensorLogicError


class DistError(TensorLogicError, RuntimeError):
    """A collective or process-group failure (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """The engine failed or a peer stopped answering within the group's timeout (a rank that died)."""
