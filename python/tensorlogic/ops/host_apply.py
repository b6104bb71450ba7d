"""Tensor.apply_(callable): a Python function applied to each element of a CPU tensor, in place, as PyTorch's;
map_(other, callable) and map2_(x, y, callable) likewise, the function also given the elements of tensors of the same
dtype broadcast to the tensor's shape.

It calls Python once per element, so like PyTorch's it is for small tensors and host-side bookkeeping (relabelling
classes through a dict, say), and only on the CPU: a GPU tensor is PyTorch's TypeError. The function is given each
element as a Python number (float, int or bool, by the dtype) in row-major order and must return a real number
(a 0-d tensor counts), which is stored as the tensor's dtype: rounded to f16 (a finite value beyond +-65504 is a
PrecisionOverflowError, SPEC's rule for data becoming f16, where PyTorch's float16 stores inf), truncated toward
zero for an integer dtype (beyond its range: PyTorch's RuntimeError), nonzero for bool."""
import math
import numbers

import numpy as np

from .._convert import numpy_to_array
from ..tensor import Tensor, _wrap, tensor_method
from .elementwise import copy_


def _real(value):
    """A returned value as a Python int or float (PyTorch's TypeError for anything that is not a real number)."""
    if isinstance(value, Tensor):
        value = value.item()  # (PyTorch's error for a tensor of more than one element)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"must be real number, not {type(value).__name__}")


def _integer(value, dtype):
    """value truncated toward zero, within dtype's range (PyTorch's two errors: a Python int is read as an int64
    first)."""
    if isinstance(value, int) and not -2**63 <= value < 2**63:
        raise ValueError("Overflow when unpacking long long")
    limits = np.iinfo(dtype.numpy)
    whole = value if isinstance(value, int) else (math.trunc(value) if math.isfinite(value) else None)
    if whole is None or not limits.min <= whole <= limits.max:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
    return whole


def _check_target(self, name):
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    if not self.is_cpu:
        raise TypeError(f"{name} is only implemented on CPU tensors")


def _operand_values(self, other, name, argument, position):
    """other's elements broadcast to self's shape, in row-major order (PyTorch's errors for a non-tensor, another
    dtype, an operand that requires grad or does not broadcast)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Tensor, not "
                        f"{type(other).__name__}")
    if other.dtype is not self.dtype:
        raise TypeError(f"{name}: expected {self.type()} for argument '{argument}' (got {other.type()})")
    if other.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    try:
        expanded = other.expand(tuple(self.shape))
    except ValueError as error:  # (our ShapeMismatchError; PyTorch's expand raises RuntimeError)
        raise RuntimeError(f"{name}: {error}") from None
    return expanded.reshape(-1).tolist()


def _store(self, results):
    """Writes the callable's results (an iterator: each is checked as it comes, so a bad one stops the calls, as in
    PyTorch) into self as its dtype (see the module's docstring); returns self."""
    dtype, shape = self.dtype, tuple(self.shape)
    results = [_real(r) for r in results]
    if tuple(self.shape) != shape:
        raise RuntimeError(f"the callable changed the tensor's shape from {list(shape)} to {list(self.shape)}")
    if dtype.name == "bool":
        values = np.array([bool(r) for r in results], dtype=np.bool_)
    elif dtype.name == "float16":
        values = np.array(results, dtype=np.float64)
    else:
        values = np.array([_integer(r, dtype) for r in results], dtype=dtype.numpy)
    copy_(self, _wrap(numpy_to_array(values.reshape(shape), dtype, "cpu", False)))
    return self


@tensor_method()
def apply_(self, callable):  # noqa: A002 (PyTorch's parameter name)
    """Replaces each element by callable(element) (see the module's docstring); CPU tensors only; returns self."""
    _check_target(self, "apply_")
    return _store(self, (callable(v) for v in self.reshape(-1).tolist()))


@tensor_method()
def map_(self, other, callable):  # noqa: A002 (PyTorch's parameter name)
    """Replaces each element v by callable(v, w), w other's element there (other of self's dtype, broadcast to
    self's shape); CPU tensors only; returns self."""
    _check_target(self, "map_")
    others = _operand_values(self, other, "map_", "other", 1)
    return _store(self, (callable(v, w) for v, w in zip(self.reshape(-1).tolist(), others)))


@tensor_method()
def map2_(self, x, y, callable):  # noqa: A002 (PyTorch's parameter name)
    """Replaces each element v by callable(v, a, b), a and b x's and y's elements there (as map_'s other)."""
    _check_target(self, "map2_")
    xs, ys = _operand_values(self, x, "map2_", "x", 1), _operand_values(self, y, "map2_", "y", 2)
    return _store(self, (callable(v, a, b) for v, a, b in zip(self.reshape(-1).tolist(), xs, ys)))
