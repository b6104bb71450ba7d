"""tl.utils: PyTorch's torch.utils names (data loading, activation checkpointing, DLPack capsules;
tl.utils.tensorboard, imported by name as torch.utils.tensorboard is, needs tensorboardX)."""
from . import checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
