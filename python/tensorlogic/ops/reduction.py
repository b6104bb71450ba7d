"""Reductions with PyTorch's signatures: sum mean prod max min amax amin argmax argmin var std logsumexp norm
all any."""
import builtins
import collections
import math
import numbers

from .. import _core
from ..autograd.function import _NULL, OpFamily
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor, _wrap, tensor_method
from .elementwise import _Binary, where
from .indexing import gather
from .shape import _Expand

_R = _core.ReduceOp
_SUM = _R.sum  # compared by identity: a pybind11 enum's == is a bound C++ method call

# torch.return_types.max / min: a (values, indices) named tuple.
MinMax = collections.namedtuple("MinMax", ["values", "indices"])


def _dims(dim):
    """[] (all dims) for None; a list of ints for an int or a sequence."""
    if dim is None:
        return []
    if isinstance(dim, numbers.Integral):
        return [int(dim)]
    return [int(d) for d in dim]


def _dim(input, dim, name):
    """One dim of input (negative counts from the end; a 0-d tensor has dim 0 or -1), IndexError otherwise."""
    n = builtins.max(input.ndim, 1)
    if not isinstance(dim, numbers.Integral) or not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor of {input.ndim} dims")
    return int(dim) % n


def _reduce(op, input, dim, keepdim, correction=1.0, p=2.0):
    return _Reduce.apply(op, input, _dims(dim), bool(keepdim), float(correction), float(p))


# ---- autograd: one Function for the family; each derivative gets g and y broadcastable to x (reduced dims
# kept as size 1) and is written in differentiable tensor ops.
def _share(g, x, y, dims):
    """g spread evenly over the elements equal to the extreme y (ties share, like PyTorch's amax/amin)."""
    mask = x == y
    return g * mask / mask.sum(dims, keepdim=True)


def _prod_grad(g, x, y, dims):
    """prod of the others: y / x where x != 0; with one zero in a slice, the zero gets the product of the rest."""
    zero = x == 0
    zeros = zero.sum(dims, keepdim=True)
    others = where(zero, 1.0, x).prod(dims, keepdim=True)
    return g * where(zeros == 0, y / where(zero, 1.0, x), where((zeros == 1) * zero, others, 0.0))


def _norm_grad(g, x, y, dims, p):
    if p == 0:  # a count of non-zeros: no gradient, and x.grad stays None as PyTorch leaves it (not zeros)
        return None
    if p == 1:
        return g * x.sign()
    if math.isinf(p):
        return _share(g, x.abs(), y, dims) * x.sign()
    if p == 2:
        return g * x / where(y == 0, 1.0, y)
    safe_y = where(y == 0, 1.0, y)
    # |x|^(p-1) / y^(p-1) as one power of the ratio where that power is at most 1 (y lies beyond every |x| for
    # p > 1, below every |x| for p < 0): the separate powers overflow f16 there (p = -1.5 and a small |x| give
    # inf / inf). For 0 < p < 1 the ratio itself may underflow, while the separate powers stay in range.
    if p > 1:
        return g * x.sign() * (x.abs() / safe_y) ** (p - 1)
    grad = g * x.sign() * ((x.abs() / safe_y) ** (p - 1) if p < 0 else x.abs() ** (p - 1) / safe_y ** (p - 1))
    # p < 1: |x|^(p-1) is infinite at x = 0, where PyTorch's gradient is 0 (not 0 * inf); and y = 0 (a zero in the
    # slice, for p < 0) gives every element 0, as y^(1-p) does there
    return where((x == 0) | (y == 0), 0.0, grad)


def _count(x, y):
    return x.numel() // builtins.max(y.numel(), 1)


_REDUCE_GRAD = {  # sum and mean use only shapes (x and y are None for them: nothing is saved)
    _R.sum: lambda g, x, y, d, ctx: g.expand(ctx.input_shapes[1]),
    _R.mean: lambda g, x, y, d, ctx: g.expand(ctx.input_shapes[1]) / builtins.max(
        math.prod(ctx.input_shapes[1]) // builtins.max(g.numel(), 1), 1),
    _R.prod: lambda g, x, y, d, ctx: _prod_grad(g, x, y, d),
    _R.max: lambda g, x, y, d, ctx: _share(g, x, y, d),
    _R.min: lambda g, x, y, d, ctx: _share(g, x, y, d),
    _R.var: lambda g, x, y, d, ctx: g * (x - x.mean(d, keepdim=True)) * (2.0 / (_count(x, y) - ctx.correction)),
    _R.logsumexp: lambda g, x, y, d, ctx: g * (x - y).exp(),
    _R.norm: lambda g, x, y, d, ctx: _norm_grad(g, x, y, d, ctx.p),
}


class _Reduce(OpFamily):
    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, op, x, dims, keepdim, correction, p):
        y = _wrap(_core.reduce(op, x._a, dims, keepdim, correction, p))
        if ctx is _NULL:  # nothing recorded (as linear's bias gradient): five Python calls saved
            return y
        ctx.op, ctx.dims, ctx.keepdim, ctx.correction, ctx.p = op, dims, keepdim, correction, p
        if op not in (_R.sum, _R.mean):
            ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.op is _SUM and not ctx.dims:  # a loss's sum over everything: g (one element) broadcast to x
            return None, _Expand.apply(g, _core.expand, ctx.input_shapes[1])
        x, y = ctx.saved_tensors if ctx.op not in (_R.sum, _R.mean) else (None, None)
        shape = ctx.input_shapes[1]
        n = len(shape)
        dims = tuple(sorted({d % n for d in ctx.dims})) if ctx.dims and n else tuple(range(n))
        kept = tuple(1 if i in dims else s for i, s in enumerate(shape))
        if not ctx.keepdim:
            g = g.reshape(kept)
            y = None if y is None else y.reshape(kept)
        return None, _REDUCE_GRAD[ctx.op](g, x, y, dims, ctx)


def _as(input, dtype):
    """input converted to `dtype` first, as PyTorch's dtype= argument does (float names mean float16)."""
    return input if dtype is None else input.to(dtype=dtype)


@tensor_method()
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum; of bool or integer data an exact int64 (PyTorch's rule)."""
    return _reduce(_R.sum, _as(input, dtype), dim, keepdim)


@tensor_method()
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over `dim` (an int or a sequence; all elements when None), accumulated in f32 and rounded to f16
    once. Of integer data the result is float16 (PyTorch requires a float input)."""
    return _reduce(_R.mean, _as(input, dtype), dim, keepdim)


@tensor_method()
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product over `dim` (all elements when None); of bool or integer data an int64, as in PyTorch. f16
    products overflow to inf beyond 65504."""
    return _reduce(_R.prod, _as(input, dtype), dim, keepdim)


def _extreme(value_op, index_op, elementwise_op, input, dim, keepdim):
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return _Binary.apply(elementwise_op, input, dim)
    if dim is None:
        if keepdim:
            raise TypeError("max()/min() got keepdim without dim")
        return _reduce(value_op, input, None, False)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"max()/min(): dim must be an int, got {type(dim).__name__} (use amax/amin for several dims)")
    indices = _reduce(index_op, input, dim, True)
    if input.requires_grad and is_grad_enabled():
        # PyTorch's max(dim)/min(dim) send the gradient to the returned index only (amax/amin share it among ties)
        values = gather(input, dim, indices)
    else:
        values = _reduce(value_op, input, dim, True)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return MinMax(values, indices)


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
    """The maximum over `dim` (an int or a sequence; all dimensions when empty), values only; the gradient is shared
    evenly among equal maxima, as in PyTorch."""
    return _reduce(_R.max, input, dim, keepdim)


@tensor_method()
def amin(input, dim=(), keepdim=False):
    """The minimum over `dim` (an int or a sequence; all dimensions when empty), values only; the gradient is shared
    evenly among equal minima, as in PyTorch."""
    return _reduce(_R.min, input, dim, keepdim)


def _logical_reduce(input, dim, keepdim, want_all):
    # Counts in exact int64 (the zeros for all, the non-zeros for any), so empty extents give PyTorch's
    # identities: all() of nothing is True, any() of nothing is False.
    marks = (input == 0) if want_all else (input != 0)
    count = _reduce(_R.sum, marks, dim, keepdim)
    return count == 0 if want_all else count > 0


@tensor_method("all")
def all(input, dim=None, keepdim=False):
    """True where every element (over dim, or all of them) is non-zero; a bool tensor."""
    return _logical_reduce(input, dim, keepdim, True)


@tensor_method("any")
def any(input, dim=None, keepdim=False):
    """True where some element (over dim, or all of them) is non-zero; a bool tensor."""
    return _logical_reduce(input, dim, keepdim, False)


@tensor_method()
def argmax(input, dim=None, keepdim=False):
    """int64 index of the first maximum; over all dims (dim=None) it is a flat index."""
    return _reduce(_R.argmax, input, dim, keepdim)


@tensor_method()
def argmin(input, dim=None, keepdim=False):
    """int64 index of the first minimum; over all dims (dim=None) it is a flat index."""
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
    """The variance over `dim` (all elements when None) with Bessel's correction by default; `correction` (or
    unbiased=False, i.e. 0) sets the divisor N - correction. Accumulated in f32, rounded to f16."""
    dim, correction = _correction(dim, unbiased, correction)
    return _reduce(_R.var, input, dim, keepdim, correction=correction)


@tensor_method()
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var): the variance is rounded to f16 first (within one f16 ulp of the exact std)."""
    dim, correction = _correction(dim, unbiased, correction)
    return _reduce(_R.var, input, dim, keepdim, correction=correction).sqrt()


@tensor_method()
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over `dim`, computed stably (the maximum is subtracted first)."""
    return _reduce(_R.logsumexp, input, dim, keepdim)


@tensor_method()
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector norm over dim (all elements by default): p = 'fro' (2), any real, inf or -inf."""
    input = _as(input, dtype)
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported (use 'fro' or a number)")
        p = 2.0
    if not isinstance(p, numbers.Real) or math.isnan(p):
        raise ValueError(f"norm: p must be a number, got {p!r}")
    return _reduce(_R.norm, input, dim, keepdim, p=p)


__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "norm",
           "all", "any"]
