"""Activation modules beyond layers.py's (ReLU, GELU, SiLU, Tanh): PyTorch's constructors and printing."""
from ..autograd.grad_mode import no_grad
from ..creation import full
from . import functional as F
from .module import Module
from .parameter import Parameter


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


class Softmin(_AlongDim):
    """softmax(-x) along `dim` (None: PyTorch's legacy implicit choice), as torch.nn.Softmin."""
    _fn = "softmin"


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError("min_val cannot be greater than max_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _Elementwise(Module):
    """An activation without arguments but `inplace`; `_fn` is the functional form."""

    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Elementwise):
    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_Elementwise):
    _fn = staticmethod(F.hardswish)


class Mish(_Elementwise):
    _fn = staticmethod(F.mish)


class SELU(_Elementwise):
    _fn = staticmethod(F.selu)


class CELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softsign(Module):
    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    def forward(self, input):
        return F.tanhshrink(input)


class Softshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x where x >= 0, else a learned slope times x: one slope, or one per channel (num_parameters)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), float(init), device=device))

    def reset_parameters(self):
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


__all__ = ["Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid", "Softmax", "LogSoftmax", "Softmin", "Hardtanh",
           "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "SELU", "CELU", "Softsign", "Tanhshrink", "Softshrink",
           "Hardshrink", "GLU", "Threshold", "PReLU"]
