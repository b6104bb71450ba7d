"""Activation modules beyond layers.py's (ReLU, GELU, SiLU, Tanh): PyTorch's constructors and printing. Each
module only wraps a functional, so wrapping's maker defines them from a table of (functional, settings)."""
import functools

from ..autograd.grad_mode import no_grad
from ..creation import full
from . import functional as F
from .module import Module
from .parameter import Parameter
from .wrapping import REQUIRED, Wrapping, wrapping

_activation = functools.partial(wrapping, module=__name__)
_DIM, _INPLACE, _ALPHA = dict(dim=None), dict(inplace=False), dict(alpha=1.0, inplace=False)

Sigmoid = _activation("Sigmoid", F.sigmoid, "1 / (1 + exp(-x)) elementwise, as torch.nn.Sigmoid.")
Softplus = _activation("Softplus", F.softplus, "log(1 + exp(beta x)) / beta elementwise (x itself where beta x > "
                       "threshold), as torch.nn.Softplus.", beta=1.0, threshold=20.0)
LeakyReLU = _activation("LeakyReLU", F.leaky_relu, "x where x > 0, else negative_slope * x, as torch.nn.LeakyReLU "
                        "(inplace writes the result into the input).", negative_slope=0.01, inplace=False)
ELU = _activation("ELU", F.elu, "x where x > 0, else alpha (exp(x) - 1), as torch.nn.ELU (inplace writes the result "
                  "into the input).", **_ALPHA)
LogSigmoid = _activation("LogSigmoid", F.logsigmoid, "log(sigmoid(x)) = -softplus(-x) elementwise (stable for large "
                         "|x|), as torch.nn.LogSigmoid.")
Softmax = _activation("Softmax", F.softmax, "softmax along `dim` (None: PyTorch's legacy implicit choice), as "
                      "torch.nn.Softmax.", **_DIM)
LogSoftmax = _activation("LogSoftmax", F.log_softmax, "log_softmax along `dim` (None: PyTorch's legacy implicit "
                         "choice), as torch.nn.LogSoftmax.", **_DIM)
Softmin = _activation("Softmin", F.softmin, "softmax(-x) along `dim`, as torch.nn.Softmin.", **_DIM)
Hardsigmoid = _activation("Hardsigmoid", F.hardsigmoid, "relu6(x + 3) / 6, as torch.nn.Hardsigmoid.", **_INPLACE)
Hardswish = _activation("Hardswish", F.hardswish, "x * relu6(x + 3) / 6, as torch.nn.Hardswish.", **_INPLACE)
Mish = _activation("Mish", F.mish, "x * tanh(softplus(x)), as torch.nn.Mish.", **_INPLACE)
SELU = _activation("SELU", F.selu, "scale * (x where x > 0, else alpha (exp(x) - 1)) with PyTorch's constants, as "
                   "torch.nn.SELU.", **_INPLACE)
CELU = _activation("CELU", F.celu, "max(0, x) + min(0, alpha (exp(x / alpha) - 1)), as torch.nn.CELU.", **_ALPHA)
Softsign = _activation("Softsign", F.softsign, "x / (1 + |x|), as torch.nn.Softsign.")
Tanhshrink = _activation("Tanhshrink", F.tanhshrink, "x - tanh(x), as torch.nn.Tanhshrink.")
GLU = _activation("GLU", F.glu, "The gated linear unit a * sigmoid(b) of the two halves of `dim`, as torch.nn.GLU.",
                  dim=-1)
Threshold = _activation("Threshold", F.threshold, "x where x > threshold, else value, as torch.nn.Threshold.",
                        threshold=REQUIRED, value=REQUIRED, inplace=False)


class Hardtanh(Wrapping):
    """x clamped to [min_val, max_val], as torch.nn.Hardtanh (inplace writes the result into the input)."""

    _fn, _settings = staticmethod(F.hardtanh), dict(min_val=-1.0, max_val=1.0, inplace=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.min_val > self.max_val:
            raise ValueError("min_val cannot be greater than max_val")


class ReLU6(Hardtanh):
    """min(max(0, x), 6), as torch.nn.ReLU6."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return "inplace=True" if self.inplace else ""


class _Shrink(Wrapping):
    """Softshrink's and Hardshrink's settings (lambd) and repr; neither is the other's subclass, as in PyTorch."""

    _settings = dict(lambd=0.5)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return str(self.lambd)


Softshrink = _activation("Softshrink", F.softshrink, "x - lambd where x > lambd, x + lambd where x < -lambd, else 0, as "
                         "torch.nn.Softshrink.", base=_Shrink)
Hardshrink = _activation("Hardshrink", F.hardshrink, "x where |x| > lambd, else 0, as torch.nn.Hardshrink.",
                         base=_Shrink)


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
