"""torch's top-level forms that real programs call and that differ from the functions they wrap (the normalisations
and dropouts take nn.functional's arguments in another order, as torch.batch_norm does; the losses take their
reduction as PyTorch's enum, an int; the recurrent cells take their weights as arguments), and small tensor functions
that are compositions of others: absolute, positive, rsub, select, split_with_sizes, is_same_size, detach, fill, fix,
is_signed, is_inference, set_anomaly_enabled; adaptive_max_pool1d, which gives its indices too. Each is also a Tensor
method where torch.Tensor has one."""
import numbers
import warnings

from .autograd.function import records
from .autograd.grad_mode import is_anomaly_enabled, set_detect_anomaly
from .creation import empty_like, zeros_like
from .errors import TensorLogicTypeError
from .linalg.products import multi_dot
from .nn import functional as F
from .nn.rnn import cell_step
from .ops.elementwise import abs as _abs, trunc, where
from .ops.shape import split
from .tensor import Tensor, tensor_method

__all__ = ["dropout", "alpha_dropout", "feature_alpha_dropout", "batch_norm", "group_norm", "instance_norm",
           "absolute", "positive", "rsub", "select", "split_with_sizes", "is_same_size", "is_anomaly_enabled",
           "set_anomaly_enabled", "fix", "detach", "fill", "is_signed", "is_inference", "cosine_embedding_loss",
           "hinge_embedding_loss", "margin_ranking_loss", "triplet_margin_loss", "poisson_nll_loss",
           "binary_cross_entropy_with_logits", "kl_div", "rnn_tanh_cell", "rnn_relu_cell", "gru_cell", "lstm_cell", "constant_pad_nd", "chain_matmul",
           "adaptive_max_pool1d"]


def adaptive_max_pool1d(input, output_size):
    """torch.adaptive_max_pool1d: (values, int64 indices), always both (F.adaptive_max_pool1d_with_indices)."""
    return F.adaptive_max_pool1d_with_indices(input, output_size)


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


# Tensor methods of nn.functional's activations that torch.Tensor has
tensor_method("prelu")(F.prelu)
tensor_method("hardshrink")(F.hardshrink)
fix = tensor_method("fix")(trunc)  # torch.fix: trunc under NumPy's name


def set_anomaly_enabled(enabled, check_nan=True):
    """torch.set_anomaly_enabled: turns anomaly mode (checks of results and gradients for inf/NaN) on or off."""
    set_detect_anomaly(enabled, check_nan)


def detach(input):
    """torch.detach: input.detach()."""
    return input.detach()


def is_signed(input):
    """torch.is_signed: input.is_signed()."""
    return input.is_signed()


def is_inference(input):
    """torch.is_inference: input.is_inference() (True for a tensor made under inference_mode)."""
    return input.is_inference()


def fill(input, value):
    """A new tensor of input's shape, dtype and device filled with value (a number or a 0-d tensor; fill_'s checks and
    casts). Under autograd, input's gradient is zero and a tensor value's the sum of the result's, as PyTorch's."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
    filled = empty_like(input).fill_(value)
    if not records(input, value):
        return filled
    return where(zeros_like(input, dtype="bool"), input, value if isinstance(value, Tensor) else filled)


# ---- losses: torch's forms take the reduction as PyTorch's enum (an int) ------------------------------------------
# PyTorch's binding reads the schema's default reduction (at::Reduction::Mean) as 0: torch.hinge_embedding_loss(x, y)
# without a reduction is elementwise (PyTorch 2.13 checked), so the defaults here are 0 too.
_REDUCTION = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value, op):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}(): argument 'reduction' must be int (0 none, 1 mean, 2 sum), not {type(value).__name__}")
    if value not in _REDUCTION:
        raise ValueError(f"{op}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got {value}")
    return _REDUCTION[value]


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """F.cosine_embedding_loss with the reduction as an int."""
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """F.hinge_embedding_loss with the reduction as an int."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """F.margin_ranking_loss with the reduction as an int."""
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    """F.triplet_margin_loss with the reduction as an int."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """F.poisson_nll_loss with every argument given, the reduction as an int (torch's form has no defaults)."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """F.binary_cross_entropy_with_logits with the reduction as an int."""
    return F.binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight,
                                              reduction=_reduction(reduction, "binary_cross_entropy_with_logits"))


def kl_div(input, target, reduction=0, *, log_target=False):
    """F.kl_div with the reduction as an int (1 is 'mean' over every element, not 'batchmean')."""
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"), log_target=log_target)


# ---- recurrent cells: one step of nn.RNNCell / GRUCell / LSTMCell with the weights given --------------------------
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh): nn.RNNCell's step."""
    return cell_step("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """relu(input w_ih^T + b_ih + hx w_hh^T + b_hh): nn.RNNCell(nonlinearity='relu')'s step."""
    return cell_step("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """nn.GRUCell's step: the next hidden state."""
    return cell_step("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """nn.LSTMCell's step: (h', c') from hx = (h, c)."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_cell(): hx must be a pair of tensors (h, c)")
    return cell_step("LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def constant_pad_nd(input, pad, value=0):
    """F.pad(input, pad, value=value): pads (negative ones crop) the last dims with value."""
    return F.pad(input, pad, "constant", value)


def chain_matmul(*matrices):
    """The product of the 2-d matrices (deprecated in PyTorch, which warns, for tl.linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if isinstance(m, Tensor) and m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    return matrices[0].clone() if len(matrices) == 1 else multi_dot(matrices)
