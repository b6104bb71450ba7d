"""Optimizers (SPEC §5): fused native per-parameter updates, PyTorch's arguments and defaults."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .lion import Lion
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Lion", "lr_scheduler"]
