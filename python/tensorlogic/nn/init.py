"""Initialisers with PyTorch's formulas and defaults (so Linear and Conv2d start like torch's), drawing from
TensorLogic's Philox stream (tl.manual_seed makes them reproducible). Each fills the tensor in place, except inside
`_skipped()` (nn.utils.skip_init's construction), where each returns the tensor untouched and draws nothing."""
import contextlib
import contextvars
import functools
import math
import numbers
import warnings

import numpy as np

from .. import _core
from ..autograd.grad_mode import no_grad
from ..creation import tensor as tensor_of
from ..generator import own_stream
from ..ops.elementwise import erfinv, where
from ..ops.random import rand, randn, uniform_bounds


_skipping = contextvars.ContextVar("tensorlogic_init_skipped", default=False)


@contextlib.contextmanager
def _skipped():
    """Inside: every initializer of this module leaves its tensor as it is (in this thread)."""
    token = _skipping.set(True)
    try:
        yield
    finally:
        _skipping.reset(token)


def _initializer(fn):
    @functools.wraps(fn)
    def initialize(tensor, *args, **kwargs):
        return tensor if _skipping.get() else fn(tensor, *args, **kwargs)

    return initialize


def _fill_from(tensor, source):
    with no_grad():
        _core.copy_(tensor._a, source._a)
    tensor._version += 1
    return tensor


def _random(tensor, normal):
    make = randn if normal else rand
    return make(*tensor.shape, device=tensor.device)


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for a nonlinearity, as torch.nn.init.calculate_gain: 1 for linear, conv and sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (param: the slope, default 0.01), 3/4 for
    selu."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "sigmoid")
    if not isinstance(nonlinearity, str):
        raise TypeError(f"calculate_gain(): nonlinearity must be a str, got {type(nonlinearity).__name__}")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@_initializer
def uniform_(tensor, a=0.0, b=1.0):
    """Fills tensor in place with values uniform on [a, b) from the global stream (tl.manual_seed), outside
    autograd; returns it."""
    low, high = uniform_bounds(a, b)
    if tensor.numel() == 0:
        return tensor
    with no_grad():
        return _fill_from(tensor, _random(tensor, False) * (high - low) + low)


@_initializer
def normal_(tensor, mean=0.0, std=1.0):
    """Fills tensor in place with normal values of the given mean and std, outside autograd; returns it."""
    if tensor.numel() == 0:
        return tensor
    with no_grad():
        return _fill_from(tensor, _random(tensor, True) * std + mean)


@_initializer
def constant_(tensor, val):
    """Fills tensor in place with `val` (rounded to the tensor's dtype), outside autograd; returns it."""
    with no_grad():
        _core.fill_(tensor._a, float(val))
    tensor._version += 1
    return tensor


@_initializer
def zeros_(tensor):
    """Fills tensor in place with zeros; returns it."""
    return constant_(tensor, 0.0)


@_initializer
def ones_(tensor):
    """Fills tensor in place with ones; returns it."""
    return constant_(tensor, 1.0)


@_initializer
def xavier_uniform_(tensor, gain=1.0):
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)), in place; returns tensor (2 dimensions
    or more)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


@_initializer
def xavier_normal_(tensor, gain=1.0):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)), in place; returns tensor."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


@_initializer
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He uniform: U(-b, b) with b = sqrt(3) * gain(nonlinearity, a) / sqrt(fan) (fan_in or fan_out by `mode`), in
    place, as PyTorch; returns tensor."""
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


@_initializer
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He normal: N(0, std^2) with std = gain(nonlinearity, a) / sqrt(fan) (fan_in or fan_out by `mode`), in place;
    returns tensor."""
    if 0 in tensor.shape:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


_TRUNC_NORMAL_ROUNDS = 64  # rejection rounds before the inverse CDF takes over


@_initializer
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal(mean, std) restricted to [a, b]: values outside are drawn again; any still outside after a few
    dozen rounds (a window holding little of the normal's mass, e.g. [10, 11] at std 1, where redrawing would
    loop for ever) come from the inverse CDF over [a, b] instead, as PyTorch draws them all, clamped to [a, b]."""
    if tensor.numel() == 0:
        return tensor
    if not a < b:
        raise ValueError(f"trunc_normal_: a must be below b, got a={a}, b={b}")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    with no_grad():
        values = _random(tensor, True) * std + mean
        outside = (values < a) | (values > b)
        for _ in range(_TRUNC_NORMAL_ROUNDS):
            if not outside.any().item():
                return _fill_from(tensor, values)
            values = where(outside, _random(tensor, True) * std + mean, values)
            outside = (values < a) | (values > b)
        cdf = [0.5 * (1.0 + math.erf((x - mean) / (std * math.sqrt(2.0)))) for x in (a, b)]
        inverse = erfinv((_random(tensor, False) * (cdf[1] - cdf[0]) + cdf[0]) * 2.0 - 1.0) * (std * math.sqrt(2.0))
        return _fill_from(tensor, where(outside, (inverse + mean).clamp(a, b), values))


@_initializer
def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix (the rows or the columns orthonormal, the tensor viewed as [shape[0], -1]):
    the Q of a QR decomposition of a normal matrix from the stream, signs fixed by R's diagonal, times gain."""
    if not isinstance(gain, numbers.Real):  # (a tensor's product with the numpy matrix has no .astype)
        raise TypeError(f"orthogonal_(): gain must be a number, got {type(gain).__name__}")
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = randn(rows, cols, device="cpu").numpy().astype(np.float64)
    q, r = np.linalg.qr(flat.T if rows < cols else flat)
    q *= np.sign(np.diag(r))
    q = q.T if rows < cols else q
    return _fill_from(tensor, tensor_of((q * gain).reshape(tensor.shape).astype(np.float16), device=tensor.device))


@_initializer
def eye_(tensor):
    """Fills the 2-d tensor in place with the identity (ones on the diagonal of a rectangular matrix too)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill_from(tensor, tensor_of(np.eye(*tensor.shape, dtype=np.float16), device=tensor.device))


@_initializer
def dirac_(tensor, groups=1):
    """Fills the 3-, 4- or 5-d convolution weight in place so the convolution passes its input through: in
    each of the groups, output channel i takes input channel i at the kernel's centre (PyTorch's layout)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive int, got {groups!r}")
    if tensor.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = tensor.shape[0] // groups
    values = np.zeros(tensor.shape, np.float16)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups if out_per_group else 0):  # no output channels: no loop over a hostile 2^62 groups
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1.0
    return _fill_from(tensor, tensor_of(values, device=tensor.device))


@_initializer
def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-d tensor filled in place as a sparse matrix (Martens, 2010): normal values N(0, std^2), then in every
    column ceil(sparsity * rows) rows, drawn at random, set to zero; returns tensor."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real) or not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be a number in [0, 1], got {sparsity!r}")
    if own_stream(generator) is not None:
        raise ValueError("sparse_: separate generators are not supported; use tl.manual_seed")
    rows, cols = tensor.shape
    zeroed = int(math.ceil(sparsity * rows))
    with no_grad():
        values = _random(tensor, True) * std
        # each column's rows in a random order (the ranks of uniform draws): its first `zeroed` become zeros
        rank = _random(tensor, False).argsort(0).argsort(0)
        return _fill_from(tensor, where(rank < zeroed, 0.0, values))


def _deprecated(initializer):
    """The old name without the trailing underscore (nn.init.xavier_uniform, ...): PyTorch's FutureWarning, then
    the in-place initializer."""
    new = initializer.__name__
    old = new[:-1]

    @functools.wraps(initializer)
    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.", FutureWarning, stacklevel=2)
        return initializer(*args, **kwargs)

    deprecated.__name__ = deprecated.__qualname__ = old
    deprecated.__doc__ = f"{old}(...): deprecated (a FutureWarning, as PyTorch's); calls {new}."
    return deprecated


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
