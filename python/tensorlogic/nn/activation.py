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


class _WithAlpha(_Activation):
    """An activation whose arguments are alpha and inplace."""

    _args = ("alpha", "inplace")

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class ELU(_WithAlpha):
    """x where x > 0, else alpha (exp(x) - 1), as torch.nn.ELU (inplace writes the result into the input)."""
    _fn = "elu"


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
    """softmax(-x) along `dim`, as torch.nn.Softmin."""
    _fn = "softmin"


class Hardtanh(_Activation):
    """x clamped to [min_val, max_val], as torch.nn.Hardtanh (inplace writes the result into the input)."""

    _fn, _args = "hardtanh", ("min_val", "max_val", "inplace")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError("min_val cannot be greater than max_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ReLU6(Hardtanh):
    """min(max(0, x), 6), as torch.nn.ReLU6."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return "inplace=True" if self.inplace else ""


class _Inplace(_Activation):
    """An activation whose only argument is `inplace`."""

    _args = ("inplace",)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6, as torch.nn.Hardsigmoid."""
    _fn = "hardsigmoid"


class Hardswish(_Inplace):
    """x * relu6(x + 3) / 6, as torch.nn.Hardswish."""
    _fn = "hardswish"


class Mish(_Inplace):
    """x * tanh(softplus(x)), as torch.nn.Mish."""
    _fn = "mish"


class SELU(_Inplace):
    """scale * (x where x > 0, else alpha (exp(x) - 1)) with PyTorch's constants, as torch.nn.SELU."""
    _fn = "selu"


class CELU(_WithAlpha):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)), as torch.nn.CELU."""
    _fn = "celu"


class Softsign(_Activation):
    """x / (1 + |x|), as torch.nn.Softsign."""
    _fn = "softsign"


class Tanhshrink(_Activation):
    """x - tanh(x), as torch.nn.Tanhshrink."""
    _fn = "tanhshrink"


class Softshrink(_Activation):
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0, as torch.nn.Softshrink."""

    _fn, _args = "softshrink", ("lambd",)

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0, as torch.nn.Hardshrink."""
    _fn = "hardshrink"


class GLU(_AlongDim):
    """The gated linear unit a * sigmoid(b) of the two halves of `dim`, as torch.nn.GLU."""

    _fn = "glu"

    def __init__(self, dim=-1):
        super().__init__(dim)


class Threshold(_Activation):
    """x where x > threshold, else value, as torch.nn.Threshold."""

    _fn, _args = "threshold", ("threshold", "value", "inplace")

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace


class PReLU(Module):
    """x where x >= 0, else a learned slope times x: one slope, or one per channel (num_parameters)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), float(init), device=device))

    def reset_parameters(self):
        """Every slope back to `init`."""
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        """prelu(input, weight), same shape."""
        return F.prelu(input, self.weight)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"num_parameters={self.num_parameters}"


__all__ = ["Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid", "Softmax", "LogSoftmax", "Softmin", "Hardtanh",
           "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "SELU", "CELU", "Softsign", "Tanhshrink", "Softshrink",
           "Hardshrink", "GLU", "Threshold", "PReLU"]
