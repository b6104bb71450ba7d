"""bilinear (torch.nn.functional) and nn.Bilinear: y[o] = x1 A[o] x2 + b[o], an einsum (f32 accumulation)."""
import math

from ..creation import empty
from ..errors import ShapeMismatchError
from ..ops.linalg import einsum
from . import init
from .module import Module
from .parameter import Parameter


def bilinear(input1, input2, weight, bias=None):
    """input1 [..., in1], input2 [..., in2], weight [out, in1, in2], bias [out] -> [..., out]."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ShapeMismatchError(f"bilinear: weight {list(weight.shape)} does not fit inputs {list(input1.shape)} and "
                                 f"{list(input2.shape)}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ShapeMismatchError(f"bilinear: the batch dims of {list(input1.shape)} and {list(input2.shape)} differ")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


class Bilinear(Module):
    """A bilinear map of two inputs, as torch.nn.Bilinear: weight [out, in1, in2] and bias [out] uniform in
    +-1/sqrt(in1_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), device=device))
        self.bias = Parameter(empty((out_features,), device=device)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """weight and bias uniform in +-1/sqrt(in1_features)."""
        in1_features = self.weight.shape[1]
        bound = 1.0 / math.sqrt(in1_features) if in1_features > 0 else 0  # (no input features: an empty weight)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        """bilinear(input1, input2, weight, bias)."""
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


__all__ = ["bilinear", "Bilinear"]
