"""Reductions with PyTorch's signatures: sum mean prod max min amax amin argmax argmin var std logsumexp norm."""
import collections
import math
import numbers

from .. import _core
from ..tensor import Tensor, _binary, _wrap, tensor_method

_R = _core.ReduceOp

# torch.return_types.max / min: a (values, indices) named tuple.
MinMax = collections.namedtuple("MinMax", ["values", "indices"])


def _dims(dim):
    """[] (all dims) for None; a list of ints for an int or a sequence."""
    if dim is None:
        return []
    if isinstance(dim, numbers.Integral):
        return [int(dim)]
    return [int(d) for d in dim]


def _reduce(op, input, dim, keepdim, correction=1.0, p=2.0):
    return _wrap(_core.reduce(op, input._a, _dims(dim), bool(keepdim), float(correction), float(p)))


def _check_float_dtype(dtype, name):
    if dtype is not None and getattr(dtype, "name", str(dtype)).replace("torch.", "") not in ("float16", "half"):
        raise TypeError(f"{name}: TensorLogic reduces floats in float16 (got dtype={dtype!r})")


@tensor_method()
def sum(input, dim=None, keepdim=False, *, dtype=None):
    _check_float_dtype(dtype, "sum")
    return _reduce(_R.sum, input, dim, keepdim)


@tensor_method()
def mean(input, dim=None, keepdim=False, *, dtype=None):
    _check_float_dtype(dtype, "mean")
    return _reduce(_R.mean, input, dim, keepdim)


@tensor_method()
def prod(input, dim=None, keepdim=False, *, dtype=None):
    _check_float_dtype(dtype, "prod")
    return _reduce(_R.prod, input, dim, keepdim)


def _extreme(value_op, index_op, elementwise_op, input, dim, keepdim):
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return _binary(elementwise_op, input, dim)
    if dim is None:
        if keepdim:
            raise TypeError("max()/min() got keepdim without dim")
        return _reduce(value_op, input, None, False)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"max()/min(): dim must be an int, got {type(dim).__name__} (use amax/amin for several dims)")
    return MinMax(_reduce(value_op, input, dim, keepdim), _reduce(index_op, input, dim, keepdim))


@tensor_method()
def max(input, dim=None, keepdim=False):
    """max(input) -> Tensor; max(input, dim, keepdim=False) -> (values, indices); max(input, other) -> maximum."""
    return _extreme(_R.max, _R.argmax, _core.BinaryOp.maximum, input, dim, keepdim)


@tensor_method()
def min(input, dim=None, keepdim=False):
    """min(input) -> Tensor; min(input, dim, keepdim=False) -> (values, indices); min(input, other) -> minimum."""
    return _extreme(_R.min, _R.argmin, _core.BinaryOp.minimum, input, dim, keepdim)


@tensor_method()
def amax(input, dim=(), keepdim=False):
    return _reduce(_R.max, input, dim, keepdim)


@tensor_method()
def amin(input, dim=(), keepdim=False):
    return _reduce(_R.min, input, dim, keepdim)


@tensor_method()
def argmax(input, dim=None, keepdim=False):
    """int32 index of the first maximum; over all dims (dim=None) it is a flat index."""
    return _reduce(_R.argmax, input, dim, keepdim)


@tensor_method()
def argmin(input, dim=None, keepdim=False):
    return _reduce(_R.argmin, input, dim, keepdim)


def _correction(dim, unbiased, correction):
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise ValueError("var/std: give either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


@tensor_method()
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, correction = _correction(dim, unbiased, correction)
    return _reduce(_R.var, input, dim, keepdim, correction=correction)


@tensor_method()
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var): the variance is rounded to f16 first (within one f16 ulp of the exact std)."""
    dim, correction = _correction(dim, unbiased, correction)
    v = _core.reduce(_R.var, input._a, _dims(dim), bool(keepdim), float(correction), 2.0)
    return _wrap(_core.unary(_core.UnaryOp.sqrt, v))


@tensor_method()
def logsumexp(input, dim, keepdim=False):
    return _reduce(_R.logsumexp, input, dim, keepdim)


@tensor_method()
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector norm over dim (all elements by default): p = 'fro' (2), any real, inf or -inf."""
    _check_float_dtype(dtype, "norm")
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported (use 'fro' or a number)")
        p = 2.0
    if not isinstance(p, numbers.Real) or math.isnan(p):
        raise ValueError(f"norm: p must be a number, got {p!r}")
    return _reduce(_R.norm, input, dim, keepdim, p=p)


__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "norm"]
