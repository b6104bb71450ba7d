"""Row ops: softmax, log_softmax, layer_norm, rms_norm (computed in f32 per row, rounded once)."""
import numbers

from .. import _core
from ..tensor import _wrap, tensor_method


def _softmax_dim(input, dim, name):
    if dim is None:  # PyTorch's legacy implicit choice
        return 0 if input.ndim in (0, 1, 3) else 1
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    return int(dim)


def _check_dtype(dtype, name):
    if dtype is not None and getattr(dtype, "name", str(dtype)).replace("torch.", "") not in ("float16", "half"):
        raise TypeError(f"{name}: results are float16 (got dtype={dtype!r})")


@tensor_method()
def softmax(input, dim=None, dtype=None):
    _check_dtype(dtype, "softmax")
    return _wrap(_core.softmax(input._a, _softmax_dim(input, dim, "softmax")))


@tensor_method()
def log_softmax(input, dim=None, dtype=None):
    _check_dtype(dtype, "log_softmax")
    return _wrap(_core.log_softmax(input._a, _softmax_dim(input, dim, "log_softmax")))


def _shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return [int(normalized_shape)]
    return [int(s) for s in normalized_shape]


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    return _wrap(_core.layer_norm(input._a, _shape(normalized_shape), None if weight is None else weight._a,
                                  None if bias is None else bias._a, float(eps)))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """eps=None uses the float16 machine epsilon (2**-10), like torch.finfo(input.dtype).eps."""
    return _wrap(_core.rms_norm(input._a, _shape(normalized_shape), None if weight is None else weight._a,
                                None if eps is None else float(eps)))


__all__ = ["softmax", "log_softmax", "layer_norm", "rms_norm"]
