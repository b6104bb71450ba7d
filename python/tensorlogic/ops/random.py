"""The random generator (one Philox stream, identical on every device): manual_seed, rand, randn, randint,
randperm, multinomial, and the in-place fills of Tensor (uniform_ normal_ bernoulli_ exponential_ random_
log_normal_ cauchy_ geometric_). rand, randn, randint and randperm also take a tl.Generator (generator=), as data
pipelines pass one (samplers, splits, augmentations): they then draw on the host from its own stream, not the global
one."""
import math
import numbers
import warnings

import numpy as np

from .. import _core
from .._convert import numpy_to_array
from ..device import device_name
from ..generator import default_generator, host_rng, own_stream
from ..autograd.function import records
from ..autograd.inplace import inplace
from ..dtypes import _BY_NAME, as_dtype, float16, int64
from ..tensor import Tensor, _size_keyword, _wrap, tensor_method
from .elementwise import where



def manual_seed(seed):
    """Seeds the global stream and restarts it (negative seeds wrap to 64 bits, as in PyTorch); returns
    tl.default_generator, as torch.manual_seed returns torch.default_generator."""
    return default_generator.manual_seed(int(seed))  # (int(): PyTorch's takes 1.5 or "3" here, not on a Generator)


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
    return _BY_NAME[array.dtype]


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Uniform on [0, 1): multiples of 2**-11, exact in float16 (never 1.0)."""
    size = _size(_size_keyword(size, kwargs, "rand"), "rand")
    if own_stream(generator) is not None:
        array = _from_host(host_rng(generator).integers(0, 1 << 11, size) * 2.0**-11, "float16", device)
    else:
        array = _core.rand(size, device_name(device))
    return _finish(array, dtype, requires_grad, "rand", float16)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Standard normal (Box-Muller on the Philox stream; see cpp/core/philox.h)."""
    size = _size(_size_keyword(size, kwargs, "randn"), "randn")
    if own_stream(generator) is not None:
        array = _from_host(host_rng(generator).standard_normal(size), "float16", device)
    else:
        array = _core.randn(size, device_name(device))
    return _finish(array, dtype, requires_grad, "randn", float16)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """randint(high, size) or randint(low, high, size): int64 uniform on [low, high)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint(low=0, high, size): expected high and size")
    size = _size((size,), "randint")
    if int(low) < int(high):
        _check_draw_range("randint", (as_dtype(dtype) or int64).name, int(low), int(high) - 1)
    if own_stream(generator) is not None:
        if int(low) >= int(high):  # numpy's message would name its own function
            raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
        array = _from_host(host_rng(generator).integers(int(low), int(high), size), "int64", device)
    elif int(low) < -(1 << 31) or int(high) > (1 << 31):  # the kernel draws int32s: wider ranges on the host
        low, high = int(low), int(high)
        if not -(1 << 63) <= low < high <= (1 << 63) - 1:
            raise ValueError(f"randint: expected low < high within int64, got low={low}, high={high}")
        array = _from_host(host_rng().integers(low, high, size), "int64", device)
    else:
        array = _core.randint(int(low), int(high), size, device_name(device))
    return _finish(array, dtype, requires_grad, "randint", int64)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (int64), drawn on the host from the Philox stream: the same
    permutation on every device for the same seed."""
    if own_stream(generator) is not None:
        if int(n) < 0:
            raise ValueError(f"randperm: n must be non-negative, got {n}")
        array = _from_host(host_rng(generator).permutation(int(n)), "int64", device)
    else:
        array = _core.randperm(int(n), device_name(device))
    return _finish(array, dtype, requires_grad, "randperm", int64)


def _from_host(values, dtype, device):
    return numpy_to_array(np.asarray(values), dtype, device_name(device), True)


@tensor_method()
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices drawn from each row of the non-negative weights `input` ([n] or [rows, n]; rows
    need not sum to 1), with or without replacement (int64). Sampling runs on the host from the Philox
    stream (the weights are read back), so every device draws the same indices for the same seed."""
    _no_generator(generator, "multinomial")
    num_samples = int(num_samples)
    if not -(1 << 63) <= num_samples < 1 << 63:  # (the binding's int64)
        raise MemoryError(f"multinomial: {num_samples} samples are beyond any memory")
    return _wrap(_core.multinomial(input._a, num_samples, bool(replacement)))


def _fill_random(t, values, name):
    """Writes float values into t in place."""
    if not t.is_floating_point():
        raise TypeError(f"in-place random fills need a float16 tensor, got {t.dtype.name}")
    return _write_random(t, values, name)


def _write_random(t, values, name):
    """values written into t as an in-place op: recorded where t requires grad (a leaf that does is refused outside
    no_grad, and what t had flows no gradient on: PyTorch's zeros), a plain write otherwise (an initialiser)."""
    if records(t):
        return inplace(t, lambda before: where(True, values, before), name)
    _core.copy_(t._a, values._a)
    t._version += 1
    return t


@tensor_method()
def uniform_(input, a=0.0, b=1.0, *, generator=None):
    """Fills input with uniform values on [a, b) from the Philox stream; PyTorch's RuntimeErrors for bounds beyond
    float16 (or NaN), a > b, and a range wider than 65504 (each would fill infinities, or values outside [a, b))."""
    _no_generator(generator, "uniform_")
    low, high = uniform_bounds(a, b)
    u = rand(input.shape, device=input.device)
    return _fill_random(input, u * (high - low) + low, "uniform_")


def uniform_bounds(a, b):
    """(a, b) as floats, checked as PyTorch's uniform_ checks them for float16 (its RuntimeErrors)."""
    low, high = float(a), float(b)
    for name, bound in (("from", low), ("to", high)):
        if not -65504 <= bound <= 65504:
            raise RuntimeError(f"uniform_: {name} = {bound} is out of bounds for float16 (|x| <= 65504)")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    if high - low > 65504:
        raise RuntimeError(f"uniform_ expects to - from <= 65504 (float16's largest value), but found to={high} and "
                           f"from={low}")
    return low, high


@tensor_method()
def normal_(input, mean=0.0, std=1.0, *, generator=None):
    """Fills input with normal values of the given mean and std from the global Philox stream (tl.manual_seed);
    returns input. generator= is not supported."""
    _no_generator(generator, "normal_")
    return _fill_random(input, randn(input.shape, device=input.device) * float(std) + float(mean), "normal_")


@tensor_method()
def bernoulli_(input, p=0.5, *, generator=None):
    """Fills input with 1 where a uniform draw falls below p (a number or a tensor of probabilities), else 0."""
    _no_generator(generator, "bernoulli_")
    drawn = rand(input.shape, device=input.device) < _probabilities(p, "bernoulli_")
    return _fill_random(input, drawn.float(), "bernoulli_")


@tensor_method()
def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (or p), else 0, as float16."""
    _no_generator(generator, "bernoulli")
    return (rand(input.shape, device=input.device) < _probabilities(input if p is None else p, "bernoulli")).float()


def _probabilities(p, op):
    """p when every probability in it is in [0, 1]; PyTorch's RuntimeError otherwise (1.5 and NaN drew 1 and 0).
    Numbers and CPU tensors are checked; a GPU tensor is not (the check would wait for the device at every draw,
    as a training step must not), and draws as clamped: above 1 always, below 0 and NaN never."""
    if isinstance(p, Tensor) and p.device.type != "cpu":
        return p
    inside = (p >= 0) & (p <= 1)
    if not (inside.all() if isinstance(inside, Tensor) else inside):
        raise RuntimeError(f"{op}: expected every probability p to be in [0, 1]")
    return p


@tensor_method()
def exponential_(input, lambd=1.0, *, generator=None):
    """Fills input with draws from the exponential distribution of rate lambd (> 0) from the global Philox stream;
    returns input. Float tensors only; generator= is not supported."""
    _no_generator(generator, "exponential_")
    if not input.is_floating_point():
        raise RuntimeError(f"exponential_: the exponential distribution is continuous; dtype must be a floating point "
                           f"type, got {input.dtype.name}")
    if not float(lambd) > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    u = rand(input.shape, device=input.device)  # in [0, 1): 1 - u is in (0, 1]
    return _fill_random(input, (1.0 - u).log() * (-1.0 / float(lambd)), "exponential_")


# random_'s default ranges, [0, high] inclusive: float16 draws the integers it holds exactly (2^11 + 1 of them, as
# PyTorch's Half), integer dtypes their non-negative values
_RANDOM_HIGH = {"float16": 1 << 11, "bool": 1, "int32": (1 << 31) - 1, "int64": (1 << 63) - 1}
_INT_RANGE = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}


def _check_draw_range(op, dtype, low, high):
    """PyTorch's RuntimeError for integer draws in [low, high] that `dtype` cannot hold (an integer dtype would wrap
    them, float16 round them to +-inf), and its warning where float16 rounds them."""
    if dtype in _INT_RANGE:
        least, most = _INT_RANGE[dtype]
        for name, value in (("from", low), ("to - 1", high)):
            if not least <= value <= most:
                raise RuntimeError(f"{op}: {name} is out of bounds for {dtype}")
    elif dtype == "float16" and not -65504 <= low <= high <= 65504:
        raise RuntimeError(f"{op}: {'from' if low < -65504 else 'to - 1'} is out of bounds for float16 "
                           "(|x| <= 65504)")
    elif dtype == "float16" and not -(1 << 11) <= low <= high <= 1 << 11:
        warnings.warn(f"{op}: float16 holds the integers of [-2^11, 2^11] exactly; draws outside are rounded",
                      stacklevel=3)


@tensor_method()
def random_(input, *args, to=None, generator=None):
    """random_(), random_(to), random_(from, to): fills input with integers drawn uniformly from [from, to - 1] (from
    0; without `to`, up to the largest value the dtype holds exactly: 2^11 for float16, 2^31 - 1 for int32, 2^63 - 1
    for int64, 1 for bool), as PyTorch's; returns input. Ranges within int32 draw from the global Philox stream on
    input's device, wider ones on the host from a stream seeded by it (both follow tl.manual_seed)."""
    _no_generator(generator, "random_")
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments (from, to), got {len(args)}")
    if len(args) == 1 and to is None:
        low, to = 0, args[0]
    else:
        low = args[0] if args else 0
        to = args[1] if len(args) == 2 else to
    for name, value in (("from", low), ("to", to)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise TypeError(f"random_(): argument '{name}' must be int, not {type(value).__name__}")
        if value is not None and not -(1 << 63) <= value < 1 << 63:
            raise ValueError(f"random_(): '{name}' {value} does not fit in int64")
    dtype = input._a.dtype
    high = _RANDOM_HIGH[dtype] if to is None else int(to) - 1
    low = int(low)
    if low > high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high + 1}")
    _check_draw_range("random_", dtype, low, high)
    if -(1 << 31) <= low and high < (1 << 31) - 1:
        values = _core.randint(low, high + 1, list(input.shape), input._a.device)
    else:
        values = _from_host(host_rng().integers(low, high, input.shape, endpoint=True), "int64", input.device)
    return _write_random(input, _wrap(values).to(dtype=dtype), "random_")


@tensor_method()
def log_normal_(input, mean=1.0, std=2.0, *, generator=None):
    """Fills input with exp(X), X normal of the given mean and std (> 0), from the global Philox stream; returns
    input. Float tensors only."""
    _no_generator(generator, "log_normal_")
    if not input.is_floating_point():
        raise NotImplementedError(f"log_normal_ is not implemented for {input.dtype.name} (float16 only)")
    if not float(std) > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    normal = randn(input.shape, device=input.device) * float(std) + float(mean)
    return _fill_random(input, normal.exp(), "log_normal_")


@tensor_method()
def cauchy_(input, median=0.0, sigma=1.0, *, generator=None):
    """Fills input with draws from the Cauchy distribution, median + sigma tan(pi (u - 1/2)) for u uniform, from the
    global Philox stream; returns input. Float tensors only; sigma > 0."""
    _no_generator(generator, "cauchy_")
    if not input.is_floating_point():
        raise RuntimeError(f"Cauchy distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {input.dtype.name}")
    if not float(sigma) > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    u = rand(input.shape, device=input.device)
    return _fill_random(input, ((u - 0.5) * math.pi).tan() * float(sigma) + float(median), "cauchy_")


@tensor_method()
def geometric_(input, p, *, generator=None):
    """Fills input with the number of Bernoulli(p) trials up to the first success (1, 2, ...), from the global Philox
    stream; returns input. p in (0, 1); float16 and integer tensors."""
    _no_generator(generator, "geometric_")
    if input.dtype.name == "bool":
        raise NotImplementedError("geometric_ is not implemented for bool tensors")
    if not 0.0 < float(p) < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    if not input.is_floating_point():  # counts past f16's range (p small) stay exact: drawn on the host
        counts = host_rng().geometric(float(p), input.shape)
        return _write_random(input, _wrap(_from_host(counts, input._a.dtype, input.device)), "geometric_")
    # the inverse of the distribution function: ceil(log(v) / log(1 - p)) for v uniform in (0, 1] (1 - u); v = 1
    # gives 0, counted as the first trial (1). Counts past 65504 are inf, as in PyTorch's float16.
    v = 1.0 - rand(input.shape, device=input.device)
    return _fill_random(input, (v.log() * (1.0 / math.log1p(-float(p)))).ceil().clamp_min(1.0), "geometric_")


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    """rand with input's shape, on input's device unless given (float16 unless dtype says otherwise)."""
    return rand(input.shape, dtype=dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    """randn with input's shape, on input's device unless given (float16 unless dtype says otherwise)."""
    return randn(input.shape, dtype=dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, *args, high=None, generator=None, dtype=None, device=None, requires_grad=False,
                 memory_format=None):
    """randint_like(input, high) or randint_like(input, low, high): uniform integers on [low, high) (low 0) in
    input's shape, of input's dtype (a float tensor gets integral floats; PyTorch's rule) on input's device unless
    dtype or device say otherwise."""
    if high is not None:
        args = args + (high,)
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint_like(input, low=0, high): expected high, and optionally low before it")
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def _no_generator(generator, name):
    if own_stream(generator) is not None:
        raise ValueError(f"{name}: separate generators are not supported; use tl.manual_seed")


__all__ = ["manual_seed", "rand", "randn", "randint", "randperm", "multinomial", "bernoulli", "rand_like", "randn_like",
           "randint_like"]
