"""Activation modules beyond layers.py's (ReLU, GELU, SiLU, Tanh): PyTorch's constructors and printing."""
from . import functional as F
from .module import Module


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise, as torch.nn.Sigmoid."""
    def forward(self, input):
        """sigmoid(input), same shape."""
        return F.sigmoid(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta elementwise (x itself where beta x > threshold), as torch.nn.Softplus."""
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        """softplus(input, beta, threshold), same shape."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"beta={self.beta}, threshold={self.threshold}"


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x, as torch.nn.LeakyReLU (inplace writes the result into the input)."""
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        """leaky_relu(input, negative_slope), same shape."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x where x > 0, else alpha (exp(x) - 1), as torch.nn.ELU (inplace writes the result into the input)."""
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        """elu(input, alpha), same shape."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class LogSigmoid(Module):
    """log(sigmoid(x)) = -softplus(-x) elementwise (stable for large |x|), as torch.nn.LogSigmoid."""
    def forward(self, input):
        """logsigmoid(input), same shape."""
        return F.logsigmoid(input)


class _SoftmaxBase(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """softmax along `dim` (None: PyTorch's legacy implicit choice), as torch.nn.Softmax."""
    def forward(self, input):
        """softmax(input, dim), same shape."""
        return F.softmax(input, self.dim)


class LogSoftmax(_SoftmaxBase):
    """log_softmax along `dim` (None: PyTorch's legacy implicit choice), as torch.nn.LogSoftmax."""
    def forward(self, input):
        """log_softmax(input, dim), same shape."""
        return F.log_softmax(input, self.dim)


__all__ = ["Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid", "Softmax", "LogSoftmax"]
