"""tl.fft: torch.fft's discrete Fourier transforms with its signatures (n or s, dim, norm), results and gradients:
fft ifft fft2 ifft2 fftn ifftn (complex to complex; a real input counts as complex), rfft irfft rfft2 irfft2 rfftn
irfftn (real to the half spectrum and back), hfft ihfft hfft2 ihfft2 hfftn ihfftn (the Hermitian pair), and
fftfreq rfftfreq fftshift ifftshift.

Spectra are complex tensors (tl.complex32: float16 parts; see tensorlogic.complex). Each transform runs in float64
on the host from the exact f16 values and rounds its result once (transforms.py says why), so on a GPU its data
goes through host memory once each way. Gradients are the adjoint transforms (PyTorch's formulas), to any order."""
import numbers

import numpy as np

from ..complex_tensors import ComplexTensor
from ..creation import tensor, zeros_like
from ..dtypes import as_dtype, float16
from ..ops.ordering import roll
from ..ops.shape import stack
from ..tensor import Tensor
from .transforms import C2C, C2R, DUAL, R2C

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "forward", "ortho")


# ---- arguments ---------------------------------------------------------------------------------------------
def _norm(norm, name):
    if norm is None:
        return "backward"
    if not isinstance(norm, str) or norm not in _NORMS:
        raise ValueError(f"fft.{name}: invalid normalization mode {norm!r} (None, 'backward', 'forward' or 'ortho')")
    return norm


def _input(x, name, real=False):
    """x as a complex or float16 tensor; a real transform's input must be real."""
    if isinstance(x, ComplexTensor):
        if real:
            raise TypeError(f"fft.{name} expects a real input tensor, but got complex32")
        return x
    if not isinstance(x, Tensor):
        raise TypeError(f"fft.{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x if x.is_floating_point() else x.to(float16)


def _complex_form(x):
    """The real form [..., 2] of x (a real tensor's imaginary parts are 0)."""
    return x._ri if isinstance(x, ComplexTensor) else stack([x, zeros_like(x)], -1)


def _int(value, name, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"fft.{name}(): {what} must be int, not {type(value).__name__}")
    return int(value)


def _plan(shape, s, dim, name):
    """(dims, sizes): the transformed dimensions (non-negative) and the signal sizes along them, -1 or a missing s
    meaning the input's own. Without dim, the last len(s) dimensions (all of them without s)."""
    ndim = len(shape)
    if s is not None and not isinstance(s, (tuple, list)):
        raise TypeError(f"fft.{name}(): s must be a sequence of ints, not {type(s).__name__}")
    if dim is None:
        count = ndim if s is None else len(s)
        if count > ndim:
            raise ValueError(f"fft.{name}: got shape with {count} values but input tensor only has {ndim} dimensions")
        dims = tuple(range(ndim - count, ndim))
    else:
        dims = tuple(_int(d, name, "dim") for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        for d in dims:
            if not -max(ndim, 1) <= d < max(ndim, 1) or ndim == 0:
                raise IndexError(f"fft.{name}: dimension out of range (expected to be in range of "
                                 f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        dims = tuple(d % ndim for d in dims)
        if len(set(dims)) != len(dims):
            raise ValueError(f"fft.{name}: FFT dims must be unique, got {list(dim)}")
    if s is not None and len(s) != len(dims):
        raise ValueError(f"fft.{name}: when given, dim and shape arguments must have the same length "
                         f"({len(dims)} and {len(s)})")
    sizes = [shape[d] for d in dims] if s is None else \
        [shape[d] if _int(v, name, "s") == -1 else int(v) for d, v in zip(dims, s)]
    return dims, sizes


# More float64 values than any host holds (2^48: 2 PiB of complex128): a MemoryError before numpy is asked, which
# past 2^63 bytes raises a ValueError of its own ("array is too big").
_MAX_POINTS = 2**48


def _check_points(count, name):
    if count > _MAX_POINTS:
        raise MemoryError(f"fft.{name}: {count} points exceed the available memory")


def _check_sizes(sizes, name):
    for v in sizes:
        if v < 1:
            raise ValueError(f"fft.{name}: invalid number of data points ({v}) specified")
    _check_points(int(np.prod(sizes, dtype=object)), name)
    return sizes


def _signal(n, dim, name):
    """(s, dim) of a one-dimensional transform's n and dim; n must be positive (-1 means the input's own size only
    in an s)."""
    if n is None:
        return None, (dim,)
    n = _int(n, name, "n")
    if n < 1:
        raise ValueError(f"fft.{name}: invalid number of data points ({n}) specified")
    return (n,), (dim,)


# ---- the three kinds of transform -----------------------------------------------------------------------------
def _c2c(x, s, dim, norm, inverse, name):
    x = _input(x, name)
    dims, sizes = _plan(x.shape, s, dim, name)
    norm = _norm(norm, name)
    if not dims:
        return ComplexTensor(_complex_form(x).clone())
    return ComplexTensor(C2C.apply(_complex_form(x), dims, tuple(_check_sizes(sizes, name)), norm, inverse))


def _r2c(x, s, dim, norm, name):
    x = _input(x, name, real=True)
    dims, sizes = _plan(x.shape, s, dim, name)
    if not dims:
        raise ValueError(f"fft.{name} must transform at least one axis")
    return ComplexTensor(R2C.apply(x, dims, tuple(_check_sizes(sizes, name)), norm))


def _c2r(x, s, dim, norm, name):
    """irfftn of x: the last size is the real output's, 2 (m - 1) by default for an input of m frequencies."""
    x = _input(x, name)
    dims, sizes = _plan(x.shape, s, dim, name)
    if not dims:
        raise ValueError(f"fft.{name} must transform at least one axis")
    if s is None or s[-1] == -1:
        sizes[-1] = 2 * (x.shape[dims[-1]] - 1)
    return C2R.apply(_complex_form(x), dims, tuple(_check_sizes(sizes, name)), norm)


def _conj(x):
    return x.conj() if isinstance(x, ComplexTensor) else x


# ---- complex to complex ----------------------------------------------------------------------------------------
def fft(input, n=None, dim=-1, norm=None):
    """The one-dimensional DFT along dim, the signal zero-padded or cropped to n; norm 'backward' (no scaling,
    the default), 'forward' (1/n) or 'ortho' (1/sqrt n)."""
    return _c2c(input, *_signal(n, dim, "fft"), norm, False, "fft")


def ifft(input, n=None, dim=-1, norm=None):
    """The inverse of fft (1/n by default, norm 'backward')."""
    return _c2c(input, *_signal(n, dim, "ifft"), norm, True, "ifft")


def fft2(input, s=None, dim=(-2, -1), norm=None):
    """fftn over two dimensions, the last two by default."""
    return _c2c(input, s, dim, norm, False, "fft2")


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """ifftn over two dimensions, the last two by default."""
    return _c2c(input, s, dim, norm, True, "ifft2")


def fftn(input, s=None, dim=None, norm=None):
    """The DFT over dim (all dimensions, or the last len(s)), each resized to s."""
    return _c2c(input, s, dim, norm, False, "fftn")


def ifftn(input, s=None, dim=None, norm=None):
    """The inverse of fftn."""
    return _c2c(input, s, dim, norm, True, "ifftn")


# ---- real to half spectrum and back ---------------------------------------------------------------------------
def rfft(input, n=None, dim=-1, norm=None):
    """The DFT of a real signal along dim: its n // 2 + 1 non-negative frequencies."""
    return _r2c(input, *_signal(n, dim, "rfft"), _norm(norm, "rfft"), "rfft")


def irfft(input, n=None, dim=-1, norm=None):
    """The real signal of length n (2 (m - 1) by default) whose rfft is input's m frequencies."""
    return _c2r(input, *_signal(n, dim, "irfft"), _norm(norm, "irfft"), "irfft")


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """rfftn over two dimensions, the last two by default."""
    return _r2c(input, s, dim, _norm(norm, "rfft2"), "rfft2")


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """irfftn over two dimensions, the last two by default."""
    return _c2r(input, s, dim, _norm(norm, "irfft2"), "irfft2")


def rfftn(input, s=None, dim=None, norm=None):
    """The DFT of a real signal over dim, the last of them halved to its non-negative frequencies."""
    return _r2c(input, s, dim, _norm(norm, "rfftn"), "rfftn")


def irfftn(input, s=None, dim=None, norm=None):
    """The inverse of rfftn; s gives the real output's sizes (the last one is not implied by the input)."""
    return _c2r(input, s, dim, _norm(norm, "irfftn"), "irfftn")


# ---- the Hermitian pair: a real spectrum of a Hermitian-symmetric signal ----------------------------------------
def hfft(input, n=None, dim=-1, norm=None):
    """The real DFT of a Hermitian-symmetric signal given by its first half: irfft of the conjugate with the dual
    scaling (no scaling by default)."""
    return _c2r(_conj(_input(input, "hfft")), *_signal(n, dim, "hfft"), DUAL[_norm(norm, "hfft")], "hfft")


def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of hfft: the conjugate of rfft with the dual scaling (1/n by default)."""
    return _r2c(input, *_signal(n, dim, "ihfft"), DUAL[_norm(norm, "ihfft")], "ihfft").conj()


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """hfftn over two dimensions, the last two by default."""
    return _c2r(_conj(_input(input, "hfft2")), s, dim, DUAL[_norm(norm, "hfft2")], "hfft2")


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """ihfftn over two dimensions, the last two by default."""
    return _r2c(input, s, dim, DUAL[_norm(norm, "ihfft2")], "ihfft2").conj()


def hfftn(input, s=None, dim=None, norm=None):
    """The n-dimensional hfft: irfftn of the conjugate with the dual scaling."""
    return _c2r(_conj(_input(input, "hfftn")), s, dim, DUAL[_norm(norm, "hfftn")], "hfftn")


def ihfftn(input, s=None, dim=None, norm=None):
    """The inverse of hfftn: the conjugate of rfftn with the dual scaling."""
    return _r2c(input, s, dim, DUAL[_norm(norm, "ihfftn")], "ihfftn").conj()


# ---- frequencies and shifts ------------------------------------------------------------------------------------
def _frequencies(counts, n, d, name, dtype, device, requires_grad):
    """counts / (d n) in float64, rounded once; d = 0 or n = 0 give PyTorch's inf and NaN."""
    if dtype is not None and not as_dtype(dtype).is_floating_point:
        raise TypeError(f"fft.{name}: dtype must be a floating point type, got {dtype!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.asarray(counts, np.float64) / (n * float(d))
    return tensor(values, dtype=float16, device=device, requires_grad=requires_grad)


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point fft with spacing d: [0, 1, ..., ceil(n/2) - 1, -floor(n/2), ..., -1]
    / (d n), computed in float64 and rounded once (float16 whatever float dtype is asked for)."""
    n = _int(n, "fftfreq", "n")
    if n < 0:
        raise ValueError(f"fft.fftfreq: n must be non-negative, got {n}")
    _check_points(n, "fftfreq")
    counts = np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)])
    return _frequencies(counts, n, d, "fftfreq", dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point rfft with spacing d: [0, 1, ..., n // 2] / (d n)."""
    n = _int(n, "rfftfreq", "n")
    if n < 0:
        raise ValueError(f"fft.rfftfreq: n must be non-negative, got {n}")
    _check_points(n, "rfftfreq")
    return _frequencies(np.arange(n // 2 + 1), n, d, "rfftfreq", dtype, device, requires_grad)


def _shift(input, dim, name, sign):
    if not isinstance(input, (Tensor, ComplexTensor)):
        raise TypeError(f"fft.{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    x = input  # any dtype: a roll moves values without arithmetic
    dims = _plan(x.shape, None, dim, name)[0]
    shifts = [sign * (x.shape[d] // 2) for d in dims]
    if isinstance(x, ComplexTensor):
        return ComplexTensor(roll(x._ri, shifts, list(dims))) if dims else x.clone()
    return roll(x, shifts, list(dims)) if dims else x.clone()


def fftshift(input, dim=None):
    """The zero frequency moved to the centre of each of dim (all dimensions by default): a roll by n // 2."""
    return _shift(input, dim, "fftshift", 1)


def ifftshift(input, dim=None):
    """The inverse of fftshift: a roll by -(n // 2)."""
    return _shift(input, dim, "ifftshift", -1)
