"""torch's top-level forms that real programs call and that differ from the functions they wrap (the normalisations
and dropouts take nn.functional's arguments in another order, as torch.batch_norm does), and small tensor functions
that are compositions of others: absolute, positive, rsub, select, split_with_sizes, is_same_size,
set_anomaly_enabled. Each is also a Tensor method where torch.Tensor has one."""
import numbers

from .autograd.grad_mode import is_anomaly_enabled, set_detect_anomaly
from .errors import TensorLogicTypeError
from .nn import functional as F
from .ops.elementwise import abs as _abs
from .ops.shape import split
from .tensor import Tensor, tensor_method

__all__ = ["dropout", "alpha_dropout", "feature_alpha_dropout", "batch_norm", "group_norm", "instance_norm",
           "absolute", "positive", "rsub", "select", "split_with_sizes", "is_same_size", "is_anomaly_enabled",
           "set_anomaly_enabled"]


def dropout(input, p, train):
    """torch.dropout(input, p, train): F.dropout(input, p, training=train)."""
    return F.dropout(input, p, training=train)


def alpha_dropout(input, p, train):
    """torch.alpha_dropout(input, p, train): F.alpha_dropout(input, p, training=train)."""
    return F.alpha_dropout(input, p, training=train)


def feature_alpha_dropout(input, p, train):
    """torch.feature_alpha_dropout(input, p, train): F.feature_alpha_dropout(input, p, training=train)."""
    return F.feature_alpha_dropout(input, p, training=train)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """torch.batch_norm's argument order over F.batch_norm (cudnn_enabled changes nothing)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """torch.group_norm over F.group_norm (cudnn_enabled changes nothing)."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    """torch.instance_norm's argument order over F.instance_norm (cudnn_enabled changes nothing)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


@tensor_method()
def absolute(input):
    """abs under NumPy's name."""
    return _abs(input)


@tensor_method()
def positive(input):
    """input itself (a bool tensor is refused, as PyTorch refuses it)."""
    if input.dtype.name == "bool":
        raise TensorLogicTypeError("positive: a bool tensor is not supported (PyTorch neither)")
    return input


def rsub(input, other, alpha=1):
    """other - alpha * input (torch.rsub: sub with its operands swapped; alpha other than 1 rounds once more)."""
    return other - (input if alpha == 1 else input * alpha)


@tensor_method()
def select(input, dim, index):
    """The view of input at `index` along `dim`, that dimension removed (input[..., index, ...])."""
    if not isinstance(dim, numbers.Integral) or not isinstance(index, numbers.Integral) or isinstance(index, bool):
        raise TypeError(f"select(): dim and index must be ints, got {type(dim).__name__} and {type(index).__name__}")
    ndim = input.dim()
    if not -ndim <= dim < ndim or ndim == 0:
        raise IndexError(f"select(): dimension {dim} out of range for a tensor of {ndim} dimensions")
    dim %= ndim
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {dim}")
    return input[(slice(None),) * dim + (index,)]


@tensor_method()
def split_with_sizes(input, split_sizes, dim=0):
    """split with a list of sizes (which must add up to the dimension's size)."""
    return split(input, list(split_sizes), dim)


@tensor_method()
def is_same_size(input, other):
    """Whether the two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def set_anomaly_enabled(enabled, check_nan=True):
    """torch.set_anomaly_enabled: turns anomaly mode (checks of results and gradients for inf/NaN) on or off."""
    set_detect_anomaly(enabled, check_nan)
