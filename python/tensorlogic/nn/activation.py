"""Activation modules beyond layers.py's (ReLU, GELU, SiLU, Tanh): PyTorch's constructors and printing."""
from . import functional as F
from .module import Module


class _Activation(Module):
    """forward is F.<_fn>(input, *the attributes named in _args); printed as name=value for each of them
    (inplace only when set), as PyTorch prints them."""

    _fn = None
    _args = ()

    def forward(self, input):
        return getattr(F, self._fn)(input, *(getattr(self, a) for a in self._args))

    def extra_repr(self):
        return ", ".join(f"{a}={getattr(self, a)}" for a in self._args if a != "inplace" or self.inplace)


class Sigmoid(_Activation):
    _fn = "sigmoid"


class Softplus(_Activation):
    _fn, _args = "softplus", ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class LeakyReLU(_Activation):
    _fn, _args = "leaky_relu", ("negative_slope", "inplace")

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace


class ELU(_Activation):
    _fn, _args = "elu", ("alpha", "inplace")

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class LogSigmoid(_Activation):
    _fn = "logsigmoid"


class _AlongDim(_Activation):
    _args = ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim


class Softmax(_AlongDim):
    _fn = "softmax"


class LogSoftmax(_AlongDim):
    _fn = "log_softmax"


__all__ = ["Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid", "Softmax", "LogSoftmax"]
