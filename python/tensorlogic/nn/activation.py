"""Activation modules beyond layers.py's (ReLU, GELU, SiLU, Tanh): PyTorch's constructors and printing. Each
module only wraps a functional, so one maker (_activation) defines them from a table of (functional, settings)."""
import inspect

from ..autograd.grad_mode import no_grad
from ..creation import full
from . import functional as F
from .module import Module
from .parameter import Parameter

_REQUIRED = inspect.Parameter.empty


class _Activation(Module):
    """forward is F.<_fn>(input, *the settings); the constructor takes the settings (_settings: name -> default, in
    PyTorch's order; _REQUIRED where there is none) positionally or by name, and the repr prints them as name=value
    (inplace only when set), as PyTorch prints them."""

    _fn = None
    _settings = {}

    def __init__(self, *args, **kwargs):
        super().__init__()
        params = [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
                  for k, d in self._settings.items()]
        bound = inspect.Signature(params).bind(*args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)

    def forward(self, input):
        """The activation of input, same shape."""
        return getattr(F, self._fn)(input, *(getattr(self, a) for a in self._settings))

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return ", ".join(f"{a}={getattr(self, a)}" for a in self._settings if a != "inplace" or self.inplace)


def _activation(name, fn, doc, base=_Activation, **settings):
    """The module class `name` (docstring doc) whose forward is F.<fn> with the settings (name=default, in order)."""
    return type(name, (base,), {"__doc__": doc, "__module__": __name__, "__qualname__": name, "_fn": fn,
                                "_settings": settings or base._settings})


_DIM, _INPLACE, _ALPHA = dict(dim=None), dict(inplace=False), dict(alpha=1.0, inplace=False)

Sigmoid = _activation("Sigmoid", "sigmoid", "1 / (1 + exp(-x)) elementwise, as torch.nn.Sigmoid.")
Softplus = _activation("Softplus", "softplus", "log(1 + exp(beta x)) / beta elementwise (x itself where beta x > "
                       "threshold), as torch.nn.Softplus.", beta=1.0, threshold=20.0)
LeakyReLU = _activation("LeakyReLU", "leaky_relu", "x where x > 0, else negative_slope * x, as torch.nn.LeakyReLU "
                        "(inplace writes the result into the input).", negative_slope=0.01, inplace=False)
ELU = _activation("ELU", "elu", "x where x > 0, else alpha (exp(x) - 1), as torch.nn.ELU (inplace writes the result "
                  "into the input).", **_ALPHA)
LogSigmoid = _activation("LogSigmoid", "logsigmoid", "log(sigmoid(x)) = -softplus(-x) elementwise (stable for large "
                         "|x|), as torch.nn.LogSigmoid.")
Softmax = _activation("Softmax", "softmax", "softmax along `dim` (None: PyTorch's legacy implicit choice), as "
                      "torch.nn.Softmax.", **_DIM)
LogSoftmax = _activation("LogSoftmax", "log_softmax", "log_softmax along `dim` (None: PyTorch's legacy implicit "
                         "choice), as torch.nn.LogSoftmax.", **_DIM)
Softmin = _activation("Softmin", "softmin", "softmax(-x) along `dim`, as torch.nn.Softmin.", **_DIM)
Hardsigmoid = _activation("Hardsigmoid", "hardsigmoid", "relu6(x + 3) / 6, as torch.nn.Hardsigmoid.", **_INPLACE)
Hardswish = _activation("Hardswish", "hardswish", "x * relu6(x + 3) / 6, as torch.nn.Hardswish.", **_INPLACE)
Mish = _activation("Mish", "mish", "x * tanh(softplus(x)), as torch.nn.Mish.", **_INPLACE)
SELU = _activation("SELU", "selu", "scale * (x where x > 0, else alpha (exp(x) - 1)) with PyTorch's constants, as "
                   "torch.nn.SELU.", **_INPLACE)
CELU = _activation("CELU", "celu", "max(0, x) + min(0, alpha (exp(x / alpha) - 1)), as torch.nn.CELU.", **_ALPHA)
Softsign = _activation("Softsign", "softsign", "x / (1 + |x|), as torch.nn.Softsign.")
Tanhshrink = _activation("Tanhshrink", "tanhshrink", "x - tanh(x), as torch.nn.Tanhshrink.")
GLU = _activation("GLU", "glu", "The gated linear unit a * sigmoid(b) of the two halves of `dim`, as torch.nn.GLU.",
                  dim=-1)
Threshold = _activation("Threshold", "threshold", "x where x > threshold, else value, as torch.nn.Threshold.",
                        threshold=_REQUIRED, value=_REQUIRED, inplace=False)


class Hardtanh(_Activation):
    """x clamped to [min_val, max_val], as torch.nn.Hardtanh (inplace writes the result into the input)."""

    _fn, _settings = "hardtanh", dict(min_val=-1.0, max_val=1.0, inplace=False)

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


class Softshrink(_Activation):
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0, as torch.nn.Softshrink."""

    _fn, _settings = "softshrink", dict(lambd=0.5)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return str(self.lambd)


Hardshrink = _activation("Hardshrink", "hardshrink", "x where |x| > lambd, else 0, as torch.nn.Hardshrink.",
                         base=Softshrink)


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
