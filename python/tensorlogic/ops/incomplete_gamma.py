"""The regularized incomplete gamma functions: igamma(a, x) = P(a, x), the lower one (torch.igamma,
torch.special.gammainc), and igammac(a, x) = Q(a, x) = 1 - P(a, x), the upper one (torch.igammac,
torch.special.gammaincc), with their Tensor methods and in-place forms.

Values are computed in float64 on the host from the exact f16 inputs (the power series of P where x < a + 1, the
continued fraction of Q elsewhere, each to float64 precision, so the one taken is the one that does not cancel)
and rounded once to f16 on the inputs' device; PyTorch's values at the edges (NaN for a < 0 or x < 0 and for
a = x = 0 or a = x = inf). The gradient with respect to x is +-x^(a-1) e^-x / Gamma(a), in tensor ops; with respect
to a PyTorch has none and backward raises NotImplementedError, as here."""
import math

import numpy as np

from .._convert import numpy_to_array
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, tensor_method
from .elementwise import _written_back, exp
from .shape import broadcast_shapes
from .special import lgamma, xlogy

__all__ = ["igamma", "igammac"]

_LGAMMA = np.frompyfunc(math.lgamma, 1, 1)
_EPS = 1e-15  # (float64 carries 2.2e-16: a tighter bound might never be met)
_MAX_STEPS = 100000


def _lower_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_k x^k / ((a + 1) ... (a + k)), for x < a + 1 (terms shrink)."""
    term = np.ones_like(a)
    total = np.ones_like(a)
    for k in range(1, _MAX_STEPS):
        term = term * x / (a + k)
        total = total + term
        if np.all(term <= total * _EPS):
            break
    return np.exp(a * np.log(x) - x - _LGAMMA(a + 1.0).astype(np.float64)) * total


def _upper_fraction(a, x):
    """Q(a, x) = x^a e^-x / Gamma(a) / (x + 1 - a - 1(1 - a) / (x + 3 - a - ...)), for x >= a + 1, evaluated
    forwards (modified Lentz: c and d keep the convergents' ratios away from 0)."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(a, 1.0 / tiny)
    d = 1.0 / b
    h = d
    for k in range(1, _MAX_STEPS):
        an = -k * (k - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) <= _EPS):
            break
    return np.exp(a * np.log(x) - x - _LGAMMA(a).astype(np.float64)) * h


def _regularized(a, x, upper):
    """P(a, x) (upper False) or Q(a, x) of float64 arrays (broadcast), PyTorch's values at the edges."""
    a, x = np.broadcast_arrays(a, x)
    out = np.full(a.shape, np.nan)
    lower = np.zeros(a.shape)
    regular = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    series = regular & (x < a + 1)
    fraction = regular & ~series
    with np.errstate(all="ignore"):
        if series.any():
            lower[series] = _lower_series(a[series], x[series])
        if fraction.any():
            lower[fraction] = 1.0 - _upper_fraction(a[fraction], x[fraction])
            if upper:  # Q from its own fraction: 1 - P would lose Q's digits where P is near 1
                out[fraction] = _upper_fraction(a[fraction], x[fraction])
    out[series] = 1.0 - lower[series] if upper else lower[series]
    if not upper:
        out[fraction] = lower[fraction]
    # the edges: P is 0 at x = 0 (a > 0) and for a = inf (x finite), 1 at x = inf (a finite) and for a = 0 (x > 0)
    p_edge = np.select([(x == 0) & (a > 0), np.isinf(a) & (a > 0) & np.isfinite(x) & (x >= 0),
                        np.isinf(x) & (x > 0) & np.isfinite(a) & (a >= 0), (a == 0) & (x > 0)],
                       [0.0, 0.0, 1.0, 1.0], np.nan)
    edge = ~regular & ~np.isnan(p_edge)
    out[edge] = (1.0 - p_edge[edge]) if upper else p_edge[edge]
    return out


class _IncompleteGamma(Function):
    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        values = _regularized(_host(a), _host(x), upper)
        with np.errstate(over="ignore", invalid="ignore"):
            values = np.array(values, dtype=np.float16)
        return _wrap(numpy_to_array(values, "float16", a._a.device, False))

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{'igammac' if ctx.upper else 'igamma'}: input' is not "
                                      "implemented.")
        density = exp(xlogy(a - 1.0, x) - x - lgamma(a))  # x^(a-1) e^-x / Gamma(a); xlogy: 1 at a = 1, x = 0
        return None, (-g if ctx.upper else g) * density, None


def _host(t):
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


def _apply(input, other, upper, name):
    for value, what in ((input, "input"), (other, "other")):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(value).__name__}")
        if not value.is_floating_point():
            raise NotImplementedError(f"\"{name}\" not implemented for '{value.dtype.name}' (float16 only)")
    shape = broadcast_shapes(input.shape, other.shape)
    return _IncompleteGamma.apply(input.expand(shape), other.expand(shape), upper)


@tensor_method()
def igamma(input, other):
    """P(input, other): the regularized lower incomplete gamma function (torch.special.gammainc)."""
    return _apply(input, other, False, "igamma")


@tensor_method()
def igammac(input, other):
    """Q(input, other) = 1 - P(input, other): the regularized upper incomplete gamma function
    (torch.special.gammaincc)."""
    return _apply(input, other, True, "igammac")


_written_back(igamma, "igamma_")
_written_back(igammac, "igammac_")
