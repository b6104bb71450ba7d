"""Running extremes, log-sum-exp scans and differences with PyTorch's names: cummax cummin logcumsumexp diff.

cummax/cummin find their indices on the host (numpy's running extremes) and gather the input there, so
their gradient is gather's, as in PyTorch. logcumsumexp runs in float64 on the host, forward and backward
(its gradient in log space, split by the sign of the incoming gradient as PyTorch does), and rounds once:
in f16 on the device, exp(x - max) would underflow for entries far below the maximum; it has a first
derivative only."""
import collections
import numbers

import numpy as np

from ..autograd.function import Function
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from .indexing import gather
from .reduction import _dim
from .shape import cat

CumMax = collections.namedtuple("cummax", ["values", "indices"])
CumMin = collections.namedtuple("cummin", ["values", "indices"])


def _running(input, dim, accumulate, result, name):
    dim = _dim(input, dim, name)
    if input.ndim == 0:
        return result(input, Tensor(np.zeros((), np.int64), device=input.device))
    x = np.moveaxis(input.detach().cpu().numpy(), dim, -1)
    running = accumulate.accumulate(x, axis=-1)
    # the last index where the running extreme was reached (PyTorch moves it on ties, and on every NaN)
    reached = (x == running) | (np.isnan(x) if x.dtype.kind == "f" else False)
    steps = np.where(reached, np.arange(x.shape[-1]), -1)
    indices = np.maximum.accumulate(steps, axis=-1) if x.shape[-1] else steps
    index = Tensor(np.ascontiguousarray(np.moveaxis(indices.astype(np.int64), -1, dim)), device=input.device)
    return result(gather(input, dim, index), index)


@tensor_method()
def cummax(input, dim):
    """(values, indices): the running maximum along dim and where it was reached (the last index on ties; NaN
    propagates)."""
    return _running(input, dim, np.maximum, CumMax, "cummax")


@tensor_method()
def cummin(input, dim):
    """(values, indices): the running minimum along dim and where it was reached (the last index on ties; NaN
    propagates)."""
    return _running(input, dim, np.minimum, CumMin, "cummin")


def _host64(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _reverse_logcumsumexp(v, axis):
    return np.flip(np.logaddexp.accumulate(np.flip(v, axis), axis=axis), axis)


class _LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        x64 = _host64(x)
        y64 = np.logaddexp.accumulate(x64, axis=dim) if x64.size else x64
        ctx.x64, ctx.y64 = x64, y64
        return Tensor(y64.astype(np.float16), device=x.device)

    @staticmethod
    def backward(ctx, g):
        # dx_j = sum_{i >= j} g_i exp(x_j - y_i) = exp(x_j + log sum_{i >= j} g_i exp(-y_i)), the sum taken in
        # log space separately over positive and negative g (a log of a negative sum does not exist).
        g64, x64, y64 = _host64(g), ctx.x64, ctx.y64
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = _reverse_logcumsumexp(np.log(np.where(g64 > 0, g64, 0.0)) - y64, ctx.dim)
            neg = _reverse_logcumsumexp(np.log(np.where(g64 < 0, -g64, 0.0)) - y64, ctx.dim)
            dx = np.exp(x64 + pos) - np.exp(x64 + neg)
        dx = np.where(np.isnan(dx) & ~np.isnan(g64) & ~np.isnan(x64), 0.0, dx)  # -inf - -inf of unused terms
        return Tensor(dx.astype(np.float16), device=g.device), None


@tensor_method()
def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim, computed in float64 (stable for any spread of values) and rounded once."""
    if not input.is_floating_point():
        raise TypeError(f"logcumsumexp: input must be a float tensor, got {input.dtype}")
    dim = _dim(input, dim, "logcumsumexp")
    if input.ndim == 0:
        return input * 1.0
    return _LogCumSumExp.apply(input, dim)


@tensor_method()
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (out[i] = x[i + 1] - x[i], n times), after prepend and append are
    concatenated on either side; bool tensors give their xor (which is != )."""
    if input.ndim == 0:
        raise ShapeMismatchError("diff: expected a tensor of at least 1 dimension, got a 0-d tensor")
    if not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n}")
    dim = _dim(input, dim, "diff")
    parts = [t if t.ndim else t.expand([1 if d == dim else s for d, s in enumerate(input.shape)])
             for t in (prepend, input, append) if t is not None]
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(int(n)):
        length = x.shape[dim]
        if length == 0:
            break
        after, before = x.narrow(dim, 1, length - 1), x.narrow(dim, 0, length - 1)
        x = (after != before) if x.dtype.name == "bool" else after - before
    return x


__all__ = ["cummax", "cummin", "logcumsumexp", "diff"]
