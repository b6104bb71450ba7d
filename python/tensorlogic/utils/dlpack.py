"""tl.utils.dlpack: torch.utils.dlpack's two functions, for code that exchanges tensors through capsules."""
from ..creation import from_dlpack


def to_dlpack(tensor):
    """A DLPack capsule over the tensor's memory, without copying (torch.utils.dlpack.to_dlpack): any DLPack
    consumer (torch.utils.dlpack.from_dlpack, tl.from_dlpack, ...) takes it once."""
    return tensor.__dlpack__()


__all__ = ["from_dlpack", "to_dlpack"]
