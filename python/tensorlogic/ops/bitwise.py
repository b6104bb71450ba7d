"""Bitwise ops on integer (int32, int64) and bool tensors, with PyTorch's names and operators: bitwise_and
bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift, and & | ^ ~ << >> with their reflected
and in-place forms; and gcd and lcm of integer tensors.

Result dtypes follow PyTorch's promotion (tl.result_type): bool with bool stays bool, int32 with int32 (or a Python
int) stays int32, anything with int64 is int64, and a bool tensor with a Python int is int64. On bool results the ops are the logical
kernels; ~ of an integer is -1 - x and the shifts multiply or floor-divide by powers of two (exact, wrapping as the
integers do; a shift by a negative count or by at least the width gives 0, or -1 for a negative x shifted right,
as PyTorch's CPU kernels do), all on the device. And, or and xor of integers have no kernel: they are computed on
the host (numpy) and the result copied back, and so are gcd and lcm. Float tensors are refused (TypeError), as PyTorch
refuses them; gcd and lcm refuse float and bool tensors with PyTorch's NotImplementedError."""
import numbers

import numpy as np

from ..creation import tensor
from ..dtypes import bool as bool_, int32, int64
from ..errors import ShapeMismatchError
from ..promotion import result_type
from ..tensor import Tensor, tensor_method
from .elementwise import _written_back, logical_and, logical_not, logical_or, ne, where

_INTEGER = ("int32", "int64")


def _kind(x, op, name):
    """'bool', 'int32' or 'int64' for a tensor; 'pybool' or 'pyint' for a Python scalar; TypeError otherwise."""
    if isinstance(x, Tensor):
        if x.dtype.name in ("bool",) + _INTEGER:
            return x.dtype.name
        raise TypeError(f"{op}: {name} must be an integer or bool tensor, got {x.dtype.name}")
    if isinstance(x, (bool, np.bool_)):
        return "pybool"
    if isinstance(x, numbers.Integral):
        return "pyint"
    raise TypeError(f"{op}: {name} must be a tensor, an int or a bool, got {type(x).__name__}")


def _as_tensor(x, dtype, like):
    """x (a tensor or a Python scalar) as a tensor of `dtype` on like's device."""
    if isinstance(x, Tensor):
        return x if x.dtype.name == dtype else x.to({"bool": bool_, "int32": int32, "int64": int64}[dtype])
    return tensor(x, dtype={"bool": bool_, "int32": int32, "int64": int64}[dtype], device=like.device)


def _operands(input, other, op):
    ka, kb = _kind(input, op, "input"), _kind(other, op, "other")
    if ka.startswith("py") and kb.startswith("py"):
        raise TypeError(f"{op}: at least one argument must be a tensor")
    like = input if isinstance(input, Tensor) else other
    dtype = result_type(input, other).name  # PyTorch's promotion (a bool tensor with an int is int64)
    return _as_tensor(input, dtype, like), _as_tensor(other, dtype, like), dtype


def _broadcast_shape(a, b, op):
    try:
        return np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ShapeMismatchError(f"{op}: shapes {list(a.shape)} and {list(b.shape)} do not broadcast") from None


def _on_host(np_op, a, b, op):
    """np_op on the host copies of two integer tensors of one dtype, back on a's device."""
    _broadcast_shape(a, b, op)
    return tensor(np_op(a.detach().cpu().numpy(), b.detach().cpu().numpy()), device=a.device)


def _logical(name, logical, np_op):
    def fn(input, other):
        a, b, dtype = _operands(input, other, name)
        return logical(a, b) if dtype == "bool" else _on_host(np_op, a, b, name)

    fn.__name__ = fn.__qualname__ = name
    return fn


bitwise_and = _logical("bitwise_and", logical_and, np.bitwise_and)
bitwise_or = _logical("bitwise_or", logical_or, np.bitwise_or)
bitwise_xor = _logical("bitwise_xor", ne, np.bitwise_xor)
bitwise_and.__doc__ = "input & other elementwise (broadcast) on integer or bool tensors (or one Python int/bool)."
bitwise_or.__doc__ = "input | other elementwise (broadcast) on integer or bool tensors (or one Python int/bool)."
bitwise_xor.__doc__ = "input ^ other elementwise (broadcast) on integer or bool tensors (or one Python int/bool)."


def bitwise_not(input):
    """~input: logical not of a bool tensor, -1 - x (every bit flipped) of an integer one."""
    if _kind(input, "bitwise_not", "input") == "bool":
        return logical_not(input)
    return -1 - input


def _pow2(count, dtype):
    """2 ** count (count in [0, width - 1]) as `dtype`, the top bit's power wrapped to the most negative value."""
    width = 64 if dtype == "int64" else 32
    table = np.array([1 << i for i in range(width - 1)] + [-(1 << (width - 1))], dtype=np.int64 if width == 64 else np.int32)
    return tensor(table, device=count.device)[count]


def _shift(name, left):
    def fn(input, other):
        a, s, dtype = _operands(input, other, name)
        if dtype == "bool":  # PyTorch shifts bools as the integers 0 and 1
            a, s, dtype = a.long(), s.long(), "int64"
        _broadcast_shape(a, s, name)
        width = 64 if dtype == "int64" else 32
        inside = (s >= 0) & (s < width)
        power = _pow2(s.clamp(0, width - 1), dtype)
        if left:
            return where(inside, a * power, 0).to(a.dtype)
        # floor division by 2^s for s < width - 1; the sign alone for s = width - 1 and beyond the width
        sign = where(a < 0, -1, 0).to(a.dtype)
        shifted = a.div(where(s < width - 1, power, 1), rounding_mode="floor")
        return where(s < width - 1, where(s >= 0, shifted, sign), sign).to(a.dtype)

    fn.__name__ = fn.__qualname__ = name
    return fn


bitwise_left_shift = _shift("bitwise_left_shift", left=True)
bitwise_right_shift = _shift("bitwise_right_shift", left=False)
bitwise_left_shift.__doc__ = ("input << other: input * 2 ** other, wrapping (0 for a negative count or one of at "
                              "least the width), on integer tensors (bools count as 0 and 1).")
bitwise_right_shift.__doc__ = ("input >> other: floor(input / 2 ** other), the arithmetic shift (for a negative count "
                               "or one of at least the width: 0, or -1 for negative input), on integer tensors.")

def _number_theory(name, np_op):
    def fn(input, other):
        for value, which in ((input, "input"), (other, "other")):
            if not isinstance(value, Tensor):
                raise TypeError(f"{name}(): argument '{which}' must be Tensor, not {type(value).__name__}")
            if value.dtype.name not in _INTEGER:
                raise NotImplementedError(f"{name}: not implemented for {value.dtype.name} tensors (integer ones only)")
        a, b, _ = _operands(input, other, name)
        return _on_host(np_op, a, b, name)

    fn.__name__ = fn.__qualname__ = name
    return fn


# numpy's gcd and lcm give PyTorch's results: non-negative (but gcd(-2^63, 0) = -2^63) and lcm wrapping on overflow
gcd = _number_theory("gcd", np.gcd)
lcm = _number_theory("lcm", np.lcm)
gcd.__doc__ = ("The greatest common divisor of input and other elementwise (broadcast), integer tensors of either "
               "width; gcd(0, 0) is 0. Computed on the host.")
lcm.__doc__ = ("The least common multiple of input and other elementwise (broadcast), integer tensors of either "
               "width; 0 where either is 0, wrapping on overflow as PyTorch's. Computed on the host.")

for _fn in (bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift, gcd, lcm):
    tensor_method()(_fn)
    _written_back(_fn, _fn.__name__ + "_")


# ---- operators ---------------------------------------------------------------------------------------------
def _reflected(fn):
    return lambda self, other: fn(other, self)


Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__invert__ = bitwise_not
Tensor.__lshift__, Tensor.__rlshift__ = bitwise_left_shift, _reflected(bitwise_left_shift)
Tensor.__rshift__, Tensor.__rrshift__ = bitwise_right_shift, _reflected(bitwise_right_shift)
# a &= b writes into a, as in PyTorch
for _name, _op in (("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor), ("lshift", bitwise_left_shift),
                   ("rshift", bitwise_right_shift)):
    _written_back(_op, f"__i{_name}__")

gcd_, lcm_ = Tensor.gcd_, Tensor.lcm_  # (torch.gcd_ and torch.lcm_)
__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
           "gcd", "lcm", "gcd_", "lcm_"]
