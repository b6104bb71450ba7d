"""nn.LazyLinear: a Linear whose in_features is read from its first input (it then becomes a Linear, as in
PyTorch)."""
from .layers import Linear, _new_param
from .module import Module


class LazyLinear(Linear):
    """Linear(in_features inferred, out_features): the parameters are made (and initialised as Linear's) at the
    first forward, from its input's last dim; the module then is a Linear. Build the optimizer after a first
    forward, as in PyTorch."""

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features, self.out_features, self._device = 0, out_features, device
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        self._has_bias = bias

    def reset_parameters(self):
        """Linear's initialisation, once the parameters exist."""
        if self.in_features:
            super().reset_parameters()

    def forward(self, x):
        """Makes the parameters from x's last dim (the first time), then x @ weight.T + bias."""
        if self.weight is None:
            self.in_features = x.shape[-1]
            self.weight = _new_param((self.out_features, self.in_features), self._device or x.device)
            if self._has_bias:
                self.bias = _new_param((self.out_features,), self._device or x.device)
            super().reset_parameters()
            del self._device, self._has_bias
            self.__class__ = Linear
        return Linear.forward(self, x)


__all__ = ["LazyLinear"]
