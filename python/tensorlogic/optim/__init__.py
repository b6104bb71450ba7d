"""Optimizers (SPEC §5): fused native updates, one call for a param group's parameters (SGD, Adam, AdamW,
RMSprop, Lion), and float32 host updates where there is no native kernel (Adagrad, Adadelta, LBFGS), with
PyTorch's arguments and defaults."""
from . import lr_scheduler
from .adagrad import Adadelta, Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .lion import Lion
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Lion", "Adagrad", "Adadelta", "LBFGS", "lr_scheduler"]
