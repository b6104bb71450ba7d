"""Optimizers (SPEC §5): fused native updates, one call for a param group's parameters (SGD, Adam, AdamW,
RMSprop, Lion), and float32 host updates where there is no native kernel (Adagrad, Adadelta, Adamax, NAdam,
RAdam, ASGD, Rprop, LBFGS, Adafactor, SparseAdam), with PyTorch's arguments and defaults; SparseAdam updates the rows
that sparse=True embeddings looked up (nn/sparse_rows.py) and refuses other gradients, as PyTorch's refuses dense ones."""
from . import lr_scheduler, swa_utils
from .adafactor import Adafactor
from .adagrad import Adadelta, Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .lion import Lion
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Lion", "Adagrad", "Adadelta", "LBFGS", "Adamax", "NAdam",
           "RAdam", "ASGD", "Rprop", "Adafactor", "SparseAdam", "lr_scheduler", "swa_utils"]
