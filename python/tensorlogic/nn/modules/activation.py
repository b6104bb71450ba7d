"""torch.nn.modules.activation's path to the activation modules and MultiheadAttention, which are defined in tl.nn's
own files."""
from ..activation import (  # noqa: F401
    CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
    Mish, PReLU, ReLU6, Sigmoid, Softmax, Softmin, Softplus, Softshrink, Softsign, Tanhshrink, Threshold)
from ..attention import MultiheadAttention  # noqa: F401
from ..layers import GELU, ReLU, SiLU, Tanh  # noqa: F401
from ..random_activations import RReLU  # noqa: F401
from ..softmax2d import Softmax2d  # noqa: F401
