"""The layers of SPEC §5 (PyTorch's constructors, defaults, initialisation and printing); the math is in
tl.nn.functional."""
import math

from .. import _core
from ..device import device_name
from ..errors import ShapeMismatchError
from ..tensor import Tensor, _shape_args, _wrap
from . import functional as F
from . import init
from .embedding_function import padding_index
from .module import Module
from .normalization import affine_parameters
from .parameter import Parameter, check_parameter_dtype


def _new_param(shape, device):
    """An uninitialised float16 parameter of `shape`, which comes from a layer's constructor arguments unchecked: a
    size that is not an int is a TypeError, one below int64 a ValueError (negative) and one above it a MemoryError."""
    shape = _shape_args((tuple(shape),))
    for size in shape:
        if size < -(2**63):
            raise ValueError(f"negative dimension {size} in the parameter shape {list(shape)}")
        if size >= 2**63:
            raise MemoryError(f"a parameter of shape {list(shape)} is beyond any memory")
    return Parameter(_wrap(_core.empty(list(shape), "float16", device_name(device))))


def check_parameter_room(elements, tensors, device):
    """A MemoryError when `tensors` parameters of `elements` float16 values in all (each at least one 64-byte buffer)
    need more bytes than the device has: checked before a layer makes them one by one (an RNN of num_layers=2**45
    made small parameters for a minute before memory ran out)."""
    need = 2 * elements + 64 * tensors
    total = _core.device_properties(device_name(device))["total_memory"]
    if total and need > total:
        raise MemoryError(f"the layer's {tensors} parameters need {need} bytes; {device_name(device)} has {total}")


class Identity(Module):
    """Returns its input unchanged (a placeholder layer), as torch.nn.Identity, which takes and ignores any
    arguments (so it can stand in for the layer whose arguments a model passes)."""
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        """x itself."""
        return x


def _reset_weight_and_bias(weight, bias):
    """PyTorch's default for Linear and Conv2d: kaiming_uniform_(a=sqrt(5)) on the weight, and the bias
    uniform in +-1/sqrt(fan_in)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def _weight_and_bias(module, weight_shape, bias_size, device):
    """Registers module's float16 weight of weight_shape and its bias of bias_size entries (bias_size None:
    bias is registered as absent), uninitialised: the module's reset_parameters fills them."""
    module.weight = _new_param(weight_shape, device)
    module.register_parameter("bias", None if bias_size is None else _new_param((bias_size,), device))


class Linear(Module):
    """y = x W^T + b over the last dimension: input [..., in_features] -> [..., out_features], as torch.nn.Linear.
    weight is [out_features, in_features] and bias [out_features] (absent with bias=False), float16, initialised as
    in PyTorch (reset_parameters)."""
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("Linear", dtype)
        self.in_features, self.out_features = in_features, out_features
        _weight_and_bias(self, (out_features, in_features), out_features if bias else None, device)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialisation: kaiming_uniform_(weight, a=sqrt(5)), bias uniform in +-1/sqrt(in_features)."""
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x):
        """x @ weight.T + bias: [..., in_features] -> [..., out_features]."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: integer indices [...] -> rows of weight [..., embedding_dim], as torch.nn.Embedding. weight
    [num_embeddings, embedding_dim] starts N(0, 1) (or is _weight); the row padding_idx (if given) starts at zero and
    gets no gradient from the lookups; max_norm, norm_type, scale_grad_by_freq and sparse are F.embedding's."""
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("Embedding", dtype)
        padding_idx = padding_index(padding_idx, num_embeddings)
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = _new_param((num_embeddings, embedding_dim), device)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeMismatchError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                         f"{(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is the 2-d tensor `embeddings` (shared, as PyTorch shares it), frozen unless
        freeze=False."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def reset_parameters(self):
        """weight drawn from N(0, 1), with the padding_idx row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            _core.fill_(_core.select(self.weight._a, 0, self.padding_idx), 0.0)

    def forward(self, indices):
        """The rows of weight at the integer indices: [...] -> [..., embedding_dim]."""
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        s += f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        s += f", max_norm={self.max_norm}" if self.max_norm is not None else ""
        s += f", norm_type={self.norm_type}" if self.norm_type != 2 else ""
        s += ", scale_grad_by_freq=True" if self.scale_grad_by_freq else ""
        return s + (", sparse=True" if self.sparse else "")


def _shape(normalized_shape):
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


class LayerNorm(Module):
    """layer_norm over the trailing normalized_shape dimensions, with a learnable weight (ones) and bias (zeros)
    when elementwise_affine (bias=False drops the bias), as torch.nn.LayerNorm. Statistics in f32."""
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("LayerNorm", dtype)
        self.normalized_shape, self.eps, self.elementwise_affine = _shape(normalized_shape), eps, elementwise_affine
        affine_parameters(self, self.normalized_shape, device, elementwise_affine, bias)

    def forward(self, x):
        """layer_norm over the trailing normalized_shape dimensions of x, same shape."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """rms_norm over the trailing normalized_shape dimensions: x / sqrt(mean(x^2) + eps) times a learnable weight
    (ones) when elementwise_affine, as torch.nn.RMSNorm; eps=None uses the float16 epsilon 2**-10."""
    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("RMSNorm", dtype)
        self.normalized_shape, self.eps, self.elementwise_affine = _shape(normalized_shape), eps, elementwise_affine
        if elementwise_affine:
            self.weight = init.ones_(_new_param(self.normalized_shape, device))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        """rms_norm over the trailing normalized_shape dimensions of x, same shape."""
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class ReLU(Module):
    """max(x, 0) elementwise, as torch.nn.ReLU; inplace is accepted and recorded in the repr, and the result is a
    new tensor."""
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        """relu(x), same shape."""
        return F.relu(x)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """GELU elementwise: x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh'), as
    torch.nn.GELU."""
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        """gelu(x, approximate), same shape."""
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"approximate='{self.approximate}'"


class SiLU(Module):
    """x * sigmoid(x) elementwise, as torch.nn.SiLU; inplace=True writes the result into the input."""
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        """silu(x), same shape."""
        return F.silu(x, self.inplace)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x) elementwise, as torch.nn.Tanh."""
    def forward(self, x):
        """tanh(x), same shape."""
        return F.tanh(x)
