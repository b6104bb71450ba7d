"""Activation modules beyond layers.py's (ReLU, GELU, SiLU, Tanh): PyTorch's constructors and printing."""
from . import functional as F
from .module import Module


class _Activation(Module):
    """forward is F.<_fn>(input, *the attributes named in _args); printed as name=value for each of them
    (inplace only when set), as PyTorch prints them."""

    _fn = None
    _args = ()

    def forward(self, input):
        """The activation of input, same shape."""
        return getattr(F, self._fn)(input, *(getattr(self, a) for a in self._args))

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return ", ".join(f"{a}={getattr(self, a)}" for a in self._args if a != "inplace" or self.inplace)


class Sigmoid(_Activation):
    """1 / (1 + exp(-x)) elementwise, as torch.nn.Sigmoid."""
    _fn = "sigmoid"


class Softplus(_Activation):
    """log(1 + exp(beta x)) / beta elementwise (x itself where beta x > threshold), as torch.nn.Softplus."""

    _fn, _args = "softplus", ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class LeakyReLU(_Activation):
    """x where x > 0, else negative_slope * x, as torch.nn.LeakyReLU (inplace writes the result into the input)."""

    _fn, _args = "leaky_relu", ("negative_slope", "inplace")

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace


class ELU(_Activation):
    """x where x > 0, else alpha (exp(x) - 1), as torch.nn.ELU (inplace writes the result into the input)."""

    _fn, _args = "elu", ("alpha", "inplace")

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class LogSigmoid(_Activation):
    """log(sigmoid(x)) = -softplus(-x) elementwise (stable for large |x|), as torch.nn.LogSigmoid."""
    _fn = "logsigmoid"


class _AlongDim(_Activation):
    _args = ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim


class Softmax(_AlongDim):
    """softmax along `dim` (None: PyTorch's legacy implicit choice), as torch.nn.Softmax."""
    _fn = "softmax"


class LogSoftmax(_AlongDim):
    """log_softmax along `dim` (None: PyTorch's legacy implicit choice), as torch.nn.LogSoftmax."""
    _fn = "log_softmax"


__all__ = ["Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid", "Softmax", "LogSoftmax"]
