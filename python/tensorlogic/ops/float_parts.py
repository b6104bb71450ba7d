"""The parts of float16 numbers, with PyTorch's names: frexp (mantissa and exponent), ldexp (scaling by powers of
two) and nextafter (the neighbouring float16). Each is exact: exponents and neighbours are read on the host
(numpy's frexp and nextafter on the float16 values), and powers of two are applied as products of factors that
float16 holds exactly, so no rounding happens where the exact result is a float16 number."""
import collections
import math
import numbers

import numpy as np

from ..autograd.broadcast import sum_to
from ..autograd.function import Function
from ..creation import tensor
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from ..promotion import result_type
from .elementwise import _written_back, floor, isfinite, where
from .special import exp2

Frexp = collections.namedtuple("frexp", ["mantissa", "exponent"])

# Scaling by 2^k as a product of factors that float16 holds exactly (2^-24 .. 2^15). One factor where 2^k is one of
# them: the product is computed in f32 and rounded once. Beyond 2^15 the factors go up one after another, each product
# exact until the last (which may overflow to inf, as the exact value would). Below 2^-24 the value is first scaled
# down while it stays a normal float16 (exact) and 2^-24 comes last, so a subnormal result is rounded once.
# |k| <= 42 covers every k that maps a non-zero float16 to one; larger ones saturate to 0 or inf as they would.
_MAX_SHIFT = 42
_LN2 = math.log(2.0)


def _tensor(t, op, name="input"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a tensor, got {type(t).__name__}")


def _float_input(t, op, name="input"):
    _tensor(t, op, name)
    if not t.is_floating_point():
        raise TypeError(f"{op}: {name} must be a float tensor, got {t.dtype.name}")


def _host(t):
    return t.detach().cpu().numpy()


def _powers_of_two(k, like):
    """Float16 tensors 2^a, 2^b, 2^c (applied in this order) with a + b + c = k (int64 on like's device)."""
    table = tensor([2.0 ** e for e in range(-24, 16)], device=like.device)
    k = k.clamp(-_MAX_SHIFT, _MAX_SHIFT)
    up, down = k > 15, k < -24
    rest = (k - 15).clamp(max=15)  # scaling up: 2^15, then 2^rest, then the remainder (<= 12)
    first_down = (k + 24).clamp(min=-14)  # scaling down: 2^(k + 24) in two normal steps, then 2^-24
    a = where(up, 15, where(down, first_down, k))
    b = where(up, rest, where(down, k + 24 - first_down, 0))
    c = where(up, k - 15 - rest, where(down, -24, 0))
    return tuple(table[e + 24] for e in (a, b, c))


@tensor_method()
def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1) (0, inf and NaN keep
    their value, exponent 0), exponent int32, as C's frexp. The mantissa is input times exact powers of two, so
    its gradient is grad / 2 ** exponent, as PyTorch's."""
    _float_input(input, "frexp")
    with np.errstate(invalid="ignore"):  # inf and NaN: exponent 0, as PyTorch's
        _, exponent = np.frexp(_host(input))
    exponent = tensor(exponent.astype(np.int32), device=input.device)
    mantissa = input
    for factor in _powers_of_two(-exponent.long(), input):
        mantissa = mantissa * factor
    return Frexp(mantissa, exponent)


@tensor_method()
def ldexp(input, other):
    """input * 2 ** other (broadcast; other a tensor or a number). An integer (or bool) `other` scales exactly (a
    float16 result rounds once); a float one is input * exp2(other), PyTorch's definition, with gradients for both
    (formed so that they overflow only where the result does). The result is float16 whatever the inputs' dtypes,
    as PyTorch's is float."""
    _tensor(input, "ldexp")
    x = input if input.is_floating_point() else input.float()
    k = other if isinstance(other, Tensor) else tensor(other, device=input.device)
    return _FloatLdexp.apply(x, k) if k.is_floating_point() else _scaled(x, k)


def _scaled(x, k):
    """x * 2^k, k an integer tensor: exact products (see _MAX_SHIFT)."""
    for factor in _powers_of_two(k.long(), x):
        x = x * factor
    return x


class _FloatLdexp(Function):
    """x * exp2(k) for a float k as x scaled exactly by 2^floor(k), then times exp2(frac(k)): exp2(k) alone
    overflows f16 from k = 16 where the result need not (0.1049 * 2^19.08 is 58069). The gradients are formed the
    same way (x's is ldexp(g, k), k's g (y ln 2)), so they too overflow only where their value does."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x, k)
        whole = where(isfinite(k), floor(k), 0.0)
        return _scaled(x, whole) * exp2(k - whole)

    @staticmethod
    def backward(ctx, g):
        x, k = ctx.saved_tensors
        gx = sum_to(ldexp(g, k), ctx.input_shapes[0]) if ctx.needs_input_grad[0] else None
        gk = sum_to(g * (ldexp(x, k) * _LN2), ctx.input_shapes[1]) if ctx.needs_input_grad[1] else None
        return gx, gk


@tensor_method()
def nextafter(input, other):
    """The float16 next to input in the direction of other (elementwise, broadcast): input itself where they are
    equal, NaN where either is NaN. Defined where their result type is a float (PyTorch has no integer form); it has
    no gradient (PyTorch defines none)."""
    _tensor(input, "nextafter")
    if not isinstance(other, (Tensor, numbers.Real)):
        raise TypeError(f"nextafter: other must be a tensor or a number, got {type(other).__name__}")
    if not result_type(input, other).is_floating_point:
        raise TypeError(f"nextafter: defined for floating point results, got {input.dtype.name} and "
                        f"{other.dtype.name if isinstance(other, Tensor) else type(other).__name__}")
    b = _host(other) if isinstance(other, Tensor) else np.asarray(other)
    try:
        np.broadcast_shapes(tuple(input.shape), b.shape)
    except ValueError:
        raise ShapeMismatchError(f"nextafter: shapes {list(input.shape)} and {list(b.shape)} do not broadcast") \
            from None
    with np.errstate(over="ignore"):
        return tensor(np.nextafter(_host(input).astype(np.float16), b.astype(np.float16)), device=input.device)


_written_back(ldexp, "ldexp_")
_written_back(nextafter, "nextafter_")

__all__ = ["frexp", "ldexp", "nextafter"]
