"""torch.special's orthogonal polynomials of degree n at x: chebyshev_polynomial_t/u/v/w, their shifted forms (of
2x - 1), hermite_polynomial_h/he, laguerre_polynomial_l, legendre_polynomial_p. Each runs its three-term recurrence
in float64 on the host from the exact f16 values (n truncated to an integer, as PyTorch's; degree < 0 gives 0), with
PyTorch's closed forms where it uses them (at x = +-1, and the trigonometric forms of the Chebyshev kinds for large
n inside (-1, 1)), and rounds once to f16 on x's device. No gradient, as in PyTorch (it has no derivative for them).
x and n are tensors or numbers (not both numbers), broadcast against each other."""
import numpy as np

from .._convert import numpy_to_array
from ..tensor import Tensor, _wrap

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p"]


def _operands(x, n, name):
    """(x, n as float64 and int64 arrays broadcast, the device of the result)."""
    tensors = [t for t in (x, n) if isinstance(t, Tensor)]
    if not tensors:
        raise TypeError(f"{name}(): x or n must be a Tensor, got {type(x).__name__} and {type(n).__name__}")
    for value, what in ((x, "x"), (n, "n")):
        if not isinstance(value, Tensor) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TypeError(f"{name}(): argument '{what}' must be a Tensor or a number, not {type(value).__name__}")
    xs = _host(x)
    with np.errstate(invalid="ignore"):
        degrees = _host(n)
        # PyTorch casts n to int64: NaN and values past the range become int64's minimum, a negative degree
        whole = np.where(np.isfinite(degrees) & (np.abs(degrees) < 2.0**62), np.trunc(degrees), -1.0)
    xs, ns = np.broadcast_arrays(xs, whole.astype(np.int64))
    return xs, ns, tensors[0]._a.device


def _host(value):
    if isinstance(value, Tensor):
        return np.asarray(value.detach().cpu().numpy(), dtype=np.float64)
    return np.asarray(float(value))


def _result(values, device):
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.array(values, dtype=np.float16)
    return _wrap(numpy_to_array(values, "float16", device, False))


# The recurrence takes n steps: degrees beyond this raise ValueError (PyTorch's kernels loop for them, for as long as
# it takes) unless every value has overflowed before, or a closed form gives them.
_MAX_DEGREE = 1 << 16


def _recurrence(x, n, first, step, closed=None):
    """P_n(x) for each element: P_0 = 1, P_1 = first(x), P_(k+1) = step(k, x, P_k, P_(k-1)); 0 where n < 0. Elements
    where `closed` is set take a closed form later: their degrees do not lengthen the loop."""
    out = np.where(n == 0, 1.0, np.where(n == 1, first(x), 0.0))
    wanted = n if closed is None else np.where(closed, 0, n)
    previous, current = np.ones_like(x), first(x)
    for k in range(1, int(wanted.max(initial=0))):
        pending = wanted > k
        if not np.isfinite(current[pending]).any():  # overflowed: +-inf (or NaN) from here on, as PyTorch's
            return np.where(pending, current, out)
        if k >= _MAX_DEGREE:
            raise ValueError(f"orthogonal polynomials: degree {int(wanted.max())} is beyond {_MAX_DEGREE} (the "
                             "recurrence takes one step per degree)")
        previous, current = current, step(k, x, current, previous)
        out = np.where(n == k + 1, current, out)
    return out


def _chebyshev(x, n, first, edge, trig, trig_from):
    """A Chebyshev kind: the recurrence 2x P_k - P_(k-1) from P_1 = first(x); edge(x, n) at |x| = 1, and for
    n > trig_from inside (-1, 1) the trigonometric form trig(theta = acos x, n), as PyTorch's kernels."""
    with np.errstate(all="ignore"):
        inside = (np.abs(x) < 1) & (n > trig_from)
        out = _recurrence(x, n, first, lambda k, x, p, q: 2.0 * x * p - q, inside | (np.abs(x) == 1))
        out = np.where(inside, trig(np.arccos(np.clip(x, -1.0, 1.0)), n), out)
        out = np.where(np.abs(x) == 1, edge(x, n), out)
    return np.where(n < 0, 0.0, out)


def _odd_sign(x, n, value):
    """value at x = 1; at x = -1, value for even n and -value for odd n."""
    return np.where((x > 0) | (n % 2 == 0), value, -value)


def _u_trig(t, n):
    s = np.sin(t)
    return np.where(s != 0, np.sin((n + 1) * t) / np.where(s != 0, s, 1.0), (n + 1) * np.cos((n + 1) * t) / np.cos(t))


def _v_trig(t, n):
    c = np.cos(t / 2)
    return np.where(np.sin(t / 2) != 1, np.cos((n + 0.5) * t) / np.where(c != 0, c, 1.0),
                    _odd_sign(-np.ones_like(t), n, 2.0 * n + 1))


def _w_trig(t, n):
    s = np.sin(t / 2)
    return np.where(np.cos(t / 2) != 1, np.sin((n + 0.5) * t) / np.where(s != 0, s, 1.0), 2.0 * n + 1)


_KINDS = {
    "t": (lambda x: x, lambda x, n: _odd_sign(x, n, 1.0), lambda t, n: np.cos(n * t), 6),
    "u": (lambda x: 2.0 * x, lambda x, n: _odd_sign(x, n, n + 1.0), _u_trig, 8),
    "v": (lambda x: 2.0 * x - 1.0, lambda x, n: np.where(x > 0, 1.0, _odd_sign(x, n, 2.0 * n + 1)), _v_trig, 8),
    "w": (lambda x: 2.0 * x + 1.0, lambda x, n: np.where(x > 0, 2.0 * n + 1, _odd_sign(x, n, 1.0)), _w_trig, 8),
}


def _chebyshev_function(kind, shifted):
    name = f"{'shifted_' if shifted else ''}chebyshev_polynomial_{kind}"

    def polynomial(x, n):
        xs, ns, device = _operands(x, n, name)
        return _result(_chebyshev(2.0 * xs - 1.0 if shifted else xs, ns, *_KINDS[kind]), device)

    polynomial.__name__ = polynomial.__qualname__ = name
    polynomial.__doc__ = (f"The Chebyshev polynomial of the {kind.upper()} kind, of degree n, at "
                          f"{'2x - 1' if shifted else 'x'}, as torch.special.{name}.")
    return polynomial


chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w = (
    _chebyshev_function(kind, False) for kind in "tuvw")
(shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
 shifted_chebyshev_polynomial_w) = (_chebyshev_function(kind, True) for kind in "tuvw")


def hermite_polynomial_h(x, n):
    """The physicists' Hermite polynomial H_n(x): H_(k+1) = 2x H_k - 2k H_(k-1)."""
    xs, ns, device = _operands(x, n, "hermite_polynomial_h")
    with np.errstate(all="ignore"):
        values = _recurrence(xs, ns, lambda x: 2.0 * x, lambda k, x, p, q: 2.0 * x * p - 2.0 * k * q)
    return _result(values, device)


def hermite_polynomial_he(x, n):
    """The probabilists' Hermite polynomial He_n(x): He_(k+1) = x He_k - k He_(k-1)."""
    xs, ns, device = _operands(x, n, "hermite_polynomial_he")
    with np.errstate(all="ignore"):
        values = _recurrence(xs, ns, lambda x: x, lambda k, x, p, q: x * p - k * q)
    return _result(values, device)


def laguerre_polynomial_l(x, n):
    """The Laguerre polynomial L_n(x): L_(k+1) = ((2k + 1 - x) L_k - k L_(k-1)) / (k + 1); 1 at x = 0."""
    xs, ns, device = _operands(x, n, "laguerre_polynomial_l")
    with np.errstate(all="ignore"):
        values = _recurrence(xs, ns, lambda x: 1.0 - x, lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1),
                             xs == 0)
    return _result(np.where((xs == 0) & (ns >= 0), 1.0, values), device)


def legendre_polynomial_p(x, n):
    """The Legendre polynomial P_n(x): P_(k+1) = ((2k + 1) x P_k - k P_(k-1)) / (k + 1); +-1 at x = +-1."""
    xs, ns, device = _operands(x, n, "legendre_polynomial_p")
    with np.errstate(all="ignore"):
        values = _recurrence(xs, ns, lambda x: x, lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1),
                             np.abs(xs) == 1)
    edge = (np.abs(xs) == 1) & (ns >= 0)
    return _result(np.where(edge, _odd_sign(xs, ns, 1.0), values), device)
