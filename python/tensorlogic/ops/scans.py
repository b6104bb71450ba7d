"""Running extremes, log-sum-exp scans, differences and trapezoidal integrals with PyTorch's names: cummax cummin
logcumsumexp diff gradient trapezoid (trapz) cumulative_trapezoid.

cummax/cummin find their indices on the host (numpy's running extremes) and gather the input there, so
their gradient is gather's, as in PyTorch. logcumsumexp runs in float64 on the host, forward and backward
(its gradient in log space, split by the sign of the incoming gradient as PyTorch does), and rounds once:
in f16 on the device, exp(x - max) would underflow for entries far below the maximum; it has a first
derivative only."""
import collections
import numbers

import numpy as np

from ..autograd.function import Function
from ..creation import tensor, zeros
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
        return result(input, tensor(np.zeros((), np.int64), device=input.device))
    x = np.moveaxis(input.detach().cpu().numpy(), dim, -1)
    running = accumulate.accumulate(x, axis=-1)
    # the last index where the running extreme was reached (PyTorch moves it on ties, and on every NaN)
    reached = (x == running) | (np.isnan(x) if x.dtype.kind == "f" else False)
    steps = np.where(reached, np.arange(x.shape[-1]), -1)
    indices = np.maximum.accumulate(steps, axis=-1) if x.shape[-1] else steps
    index = tensor(np.ascontiguousarray(np.moveaxis(indices.astype(np.int64), -1, dim)), device=input.device)
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
        return tensor(y64.astype(np.float16), device=x.device)

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
        return tensor(dx.astype(np.float16), device=g.device), None


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


def _gradient_spacing(input, dims, spacing):
    """One spacing per dim of `dims`: a number (uniform steps) or a 1-d tensor of coordinates."""
    if isinstance(spacing, (numbers.Real, Tensor)) and not (isinstance(spacing, Tensor) and spacing.ndim == 1):
        if isinstance(spacing, bool) or (isinstance(spacing, Tensor) and spacing.ndim):
            raise TypeError(f"gradient: spacing must be a number, a list of numbers or a list of 1-d tensors, got "
                            f"{spacing!r:.60}")
        return [float(spacing)] * len(dims)
    spacing = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing]
    if len(spacing) != len(dims):
        raise ValueError(f"gradient: expected spacing to be unspecified, a scalar or a list of length {len(dims)} "
                         f"(one per dim), got {len(spacing)}")
    out = []
    for d, s in zip(dims, spacing):
        if isinstance(s, Tensor):
            if s.ndim != 1 or s.shape[0] != input.shape[d]:
                raise ShapeMismatchError(f"gradient: the coordinates of dim {d} must be a 1-d tensor of its size "
                                         f"{input.shape[d]}, got shape {list(s.shape)}")
            out.append(s if s.is_floating_point() else s.float())
        elif isinstance(s, numbers.Real) and not isinstance(s, bool):
            out.append(float(s))
        else:
            raise TypeError(f"gradient: each spacing must be a number or a 1-d tensor, got {type(s).__name__}")
    return out


def _along(t, d, ndim):
    """A 1-d tensor shaped to broadcast along dim d of an ndim-d tensor."""
    return t.reshape([-1 if k == d else 1 for k in range(ndim)])


def _gradient_along(x, d, h, edge_order):
    """numpy's second-order differences of x along dim d (uniform steps h, or coordinates h), with first- or
    second-order one-sided differences at the two ends."""
    n = x.shape[d]

    def at(start, length):
        return x.narrow(d, start, length)

    if not isinstance(h, Tensor):
        inner = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first, last = (at(1, 1) - at(0, 1)) / h, (at(n - 1, 1) - at(n - 2, 1)) / h
        else:
            first = (-3 * at(0, 1) + 4 * at(1, 1) - at(2, 1)) / (2 * h)
            last = (3 * at(n - 1, 1) - 4 * at(n - 2, 1) + at(n - 3, 1)) / (2 * h)
        return cat([first, inner, last], d)
    dx = h[1:] - h[:-1]
    hl, hr = _along(dx[:-1], d, x.ndim), _along(dx[1:], d, x.ndim)
    inner = (hl * hl * at(2, n - 2) - hr * hr * at(0, n - 2) + (hr * hr - hl * hl) * at(1, n - 2)) / (hl * hr * (hl + hr))
    if edge_order == 1:
        first, last = (at(1, 1) - at(0, 1)) / dx[0], (at(n - 1, 1) - at(n - 2, 1)) / dx[-1]
    else:
        a, b = dx[0], dx[1]
        first = (-(2 * a + b) / (a * (a + b)) * at(0, 1) + (a + b) / (a * b) * at(1, 1) - a / (b * (a + b)) * at(2, 1))
        a, b = dx[-2], dx[-1]
        last = (b / (a * (a + b)) * at(n - 3, 1) - (a + b) / (a * b) * at(n - 2, 1) + (2 * b + a) / (b * (a + b)) *
                at(n - 1, 1))
    return cat([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """torch.gradient: the derivative estimated by central differences along each dim of `dim` (all by default),
    one tensor per dim in a tuple. spacing is a number (the step of every dim), a list of numbers (one per dim) or
    a list of 1-d coordinate tensors (uneven steps: numpy's second-order formula); the two ends take one-sided
    differences of edge_order 1 or 2. Integer inputs give float16 results."""
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise ValueError(f"gradient: only edge_order=1 and edge_order=2 are supported, got {edge_order!r}")
    if input.ndim == 0:
        raise ShapeMismatchError("gradient: expected a tensor of at least 1 dimension, got a 0-d tensor")
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, numbers.Integral) else list(dim)
    dims = [_dim(input, d, "gradient") for d in dims]
    if len(set(dims)) != len(dims):
        raise ValueError(f"gradient: dim {dim!r} names a dimension twice")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise ShapeMismatchError(f"gradient: each dimension must have at least edge_order + 1 = {edge_order + 1} "
                                     f"elements, dim {d} of {list(input.shape)} has {input.shape[d]}")
    x = input if input.is_floating_point() else input.float()
    return tuple(_gradient_along(x, d, h, edge_order) for d, h in zip(dims, _gradient_spacing(input, dims, spacing)))


def _neighbours(t, dim, combine):
    """combine(t[1:], t[:-1]) along dim (empty where dim has fewer than two elements)."""
    n = t.shape[dim]
    return combine(t.narrow(dim, min(n, 1), max(n - 1, 0)), t.narrow(dim, 0, max(n - 1, 0)))


def _trapezoid_parts(y, x, dx, dim, name):
    """(dim, the sum of each pair of neighbours of y along dim, the steps: a number, or a tensor that broadcasts
    against the sums), as PyTorch forms them: a 1-d x is laid along dim, an x of fewer dims than y gets leading
    ones, and the steps are x's differences along dim."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{name}(): argument 'y' must be Tensor, not {type(y).__name__}")
    if x is not None and dx is not None:
        raise TypeError(f"{name}(): give x or dx, not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__} (a uniform step is dx=)")
    if y.dtype.name == "bool" or (x is not None and x.dtype.name == "bool"):
        raise RuntimeError(f"{name}: received a bool input, but bool is not supported")
    if y.ndim == 0:
        raise IndexError(f"{name}: Dimension specified as {dim} but tensor has no dimensions")
    dim = _dim(y, dim, name)
    n = y.shape[dim]
    pairs = _neighbours(y, dim, lambda right, left: right + left)
    if x is None:
        step = 1.0 if dx is None else dx
        if isinstance(step, bool) or not isinstance(step, (numbers.Real, Tensor)) or \
                (isinstance(step, Tensor) and step.ndim):
            raise TypeError(f"{name}(): dx must be a number, got {type(step).__name__}")
        return dim, pairs, float(step)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        x = x.reshape([n if d == dim else 1 for d in range(y.ndim)])
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    return dim, pairs, _neighbours(x, dim, lambda right, left: right - left)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along dim by the trapezoidal rule: at the points x (a tensor: 1-d along dim, or
    broadcasting with y), or with a uniform step dx (1 by default). An empty dim integrates to zeros."""
    dim, pairs, step = _trapezoid_parts(y, x, dx, dim, "trapezoid")
    if y.shape[dim] == 0:
        return zeros([s for d, s in enumerate(y.shape) if d != dim], dtype=y.dtype, device=y.device)
    if isinstance(step, Tensor):
        return (step * pairs).sum(dim) / 2
    return (y.sum(dim) - (y.select(dim, 0) + y.select(dim, -1)) * 0.5) * step


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral of y along dim (one element fewer than y there): at the points x or with
    a uniform step dx, as trapezoid."""
    dim, pairs, step = _trapezoid_parts(y, x, dx, dim, "cumulative_trapezoid")
    return (step * pairs).cumsum(dim) / 2 if isinstance(step, Tensor) else (step / 2 * pairs).cumsum(dim)


trapz = trapezoid
__all__ = ["cummax", "cummin", "logcumsumexp", "diff", "gradient", "trapezoid", "trapz", "cumulative_trapezoid"]
