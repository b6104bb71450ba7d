"""tl.utils: PyTorch's torch.utils names (data loading, activation checkpointing)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
