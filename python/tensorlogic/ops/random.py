"""The random generator (one Philox stream, identical on every device): manual_seed, rand, randn, randint."""
import numbers

from .. import _core
from ..device import device_name
from ..dtypes import as_dtype, float16, int32
from ..tensor import _wrap

_U64 = (1 << 64) - 1


def manual_seed(seed):
    """Seeds the generator and restarts its stream (negative seeds wrap to 64 bits, as in PyTorch)."""
    seed = int(seed)
    if seed < -(1 << 63) or seed > _U64:
        raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64 - 1], got {seed}")
    _core.manual_seed(seed & _U64)


def _size(size, name):
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral):
            raise TypeError(f"{name}: size must be ints, got {size!r}")
    return [int(s) for s in size]


def _finish(array, dtype, requires_grad, name, default):
    dtype = as_dtype(dtype) or default
    if dtype is not array_dtype(array):
        if default is float16:
            raise TypeError(f"{name}: only float16 is supported for floating random numbers, got {dtype!r}")
        array = _core.astype(array, dtype.name)
    t = _wrap(array)
    t.requires_grad = bool(requires_grad)
    return t


def array_dtype(array):
    return float16 if array.dtype == "float16" else int32


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Uniform on [0, 1): multiples of 2**-11, exact in float16 (never 1.0)."""
    _no_generator(generator, "rand")
    size = _size_arg(size, kwargs, "rand")
    return _finish(_core.rand(size, device_name(device)), dtype, requires_grad, "rand", float16)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Standard normal (Box-Muller on the Philox stream; see cpp/core/philox.h)."""
    _no_generator(generator, "randn")
    size = _size_arg(size, kwargs, "randn")
    return _finish(_core.randn(size, device_name(device)), dtype, requires_grad, "randn", float16)


def _size_arg(size, kwargs, name):
    """The shape from varargs, one sequence, or size= (as PyTorch accepts)."""
    if "size" in kwargs:
        if size:
            raise TypeError(f"{name}: size given twice")
        size = (kwargs.pop("size"),)
    if kwargs:
        raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(kwargs)}")
    return _size(size, name)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """randint(high, size) or randint(low, high, size): int32 uniform on [low, high)."""
    _no_generator(generator, "randint")
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint(low=0, high, size): expected high and size")
    array = _core.randint(int(low), int(high), _size((size,), "randint"), device_name(device))
    return _finish(array, dtype, requires_grad, "randint", int32)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype, device=device or input.device, requires_grad=requires_grad)


def _no_generator(generator, name):
    if generator is not None:
        raise ValueError(f"{name}: separate generators are not supported; use tl.manual_seed")


__all__ = ["manual_seed", "rand", "randn", "randint", "rand_like", "randn_like"]
