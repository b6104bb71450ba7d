"""The three discrete Fourier transforms tl.fft's functions are made of, as autograd Functions on real forms:
complex to complex (_C2C), real to the half spectrum (_R2C) and back (_C2R), over any dimensions with PyTorch's
zero-padding or cropping to the sizes asked for and its three scalings.

Each runs in float64 on the host (numpy's pocketfft) from the exact f16 values and rounds its result once to f16
on the input's device, as tl.linalg's factorisations do: an FFT in f16 arithmetic would round at each of its log n
stages. Each backward is the adjoint, itself one of these transforms (so second derivatives flow): a DFT's adjoint
is the opposite direction with the dual scaling (backward <-> forward, ortho its own), padding's adjoint is
cropping and back, and the half spectrum's are zero-extension (R2C) and doubling the bins that stand for two (C2R),
PyTorch's formulas."""
import numpy as np

from ..autograd.function import Function
from ..creation import tensor
from ..linalg.host import float64, to_device
from ..ops.shape import cat

DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def host_complex(ri):
    """A real form [..., 2] as a complex128 array on the host (exact: every f16 is a float64)."""
    return np.ascontiguousarray(float64(ri)).view(np.complex128)[..., 0]  # (not re + 1j * im: 1j * inf is nan + inf j)


def on_host(transform, a, sizes, dims, norm):
    """numpy's transform of `a`: an inf or NaN input gives NaNs, as PyTorch's do, without numpy's RuntimeWarning."""
    with np.errstate(invalid="ignore", over="ignore"):
        return transform(a, s=sizes, axes=dims, norm=norm)


def real_form(z, like):
    """A complex array as the f16 real form [..., 2] on `like`'s device, each part rounded once (inf beyond
    +-65504, as every op's results)."""
    return to_device(np.stack([z.real, z.imag], -1), like)


def resized(t, dims, sizes):
    """t cropped or zero-padded at the end of each of `dims` to `sizes` (differentiable: narrow and cat)."""
    for d, size in zip(dims, sizes):
        have = t.shape[d]
        if have > size:
            t = t.narrow(d, 0, size)
        elif have < size:
            shape = list(t.shape)
            shape[d] = size - have
            t = cat([t, t.new_zeros(shape)], d)
    return t


class C2C(Function):
    """fftn (inverse=False) or ifftn of the complex tensor whose real form is `ri`, over `dims` (dimensions of the
    complex shape), its input resized to `sizes` first (None: as it is)."""

    @staticmethod
    def forward(ctx, ri, dims, sizes, norm, inverse):
        transform = np.fft.ifftn if inverse else np.fft.fftn
        ctx.args = (dims, tuple(ri.shape[d] for d in dims), norm, inverse)
        return real_form(on_host(transform, host_complex(ri), sizes, dims, norm), ri)

    @staticmethod
    def backward(ctx, g):
        dims, in_sizes, norm, inverse = ctx.args
        return resized(C2C.apply(g, dims, None, DUAL[norm], not inverse), dims, in_sizes), None, None, None, None


class R2C(Function):
    """rfftn of the real tensor x over `dims`: the last of them keeps its n // 2 + 1 non-negative frequencies."""

    @staticmethod
    def forward(ctx, x, dims, sizes, norm):
        in_sizes = tuple(x.shape[d] for d in dims)
        ctx.args = (dims, in_sizes, sizes[-1] if sizes else in_sizes[-1], norm)
        return real_form(on_host(np.fft.rfftn, float64(x), sizes, dims, norm), x)

    @staticmethod
    def backward(ctx, g):
        dims, in_sizes, n, norm = ctx.args
        full = resized(g, dims[-1:], (n,))  # the frequencies rfft leaves out contribute nothing: zeros
        back = C2C.apply(full, dims, None, DUAL[norm], True)
        return resized(back[..., 0], dims, in_sizes), None, None, None


class C2R(Function):
    """irfftn of the half spectrum whose real form is `ri`, over `dims`, to the real output sizes `sizes` (all
    given: the last one, n, is not implied by the input's n // 2 + 1)."""

    @staticmethod
    def forward(ctx, ri, dims, sizes, norm):
        ctx.args = (dims, tuple(ri.shape[d] for d in dims), sizes[-1], norm)
        return to_device(on_host(np.fft.irfftn, host_complex(ri), sizes, dims, norm), ri)

    @staticmethod
    def backward(ctx, g):
        dims, in_sizes, n, norm = ctx.args
        spectrum = R2C.apply(g, dims, None, DUAL[norm])
        # irfft reads bins 1 .. n - (n // 2 + 1) twice (each and its mirror image), the others (0 and n / 2) once
        kept = n // 2 + 1
        weights = np.ones(kept, np.float16)
        weights[1:n - kept + 1] = 2
        weights = tensor(weights.reshape((kept,) + (1,) * (spectrum.ndim - 1 - dims[-1])), device=g.device)
        return resized(spectrum * weights, dims, in_sizes), None, None, None
