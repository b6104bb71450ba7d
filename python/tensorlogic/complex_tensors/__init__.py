"""Complex tensors: dtype tl.complex32, float16 real and imaginary parts (PyTorch's complex64, cfloat, complex128 and
cdouble all mean it, as its float names all mean float16).

Why they look as they do. The native core has no complex dtype, and giving it one would touch every kernel family
and backend for the few programs that need complex numbers. What those programs need is the spectra of tl.fft and
what is done with them: the parts, magnitude and phase, products with complex weights (a Fourier neural operator
mixes its modes with einsum), writes into a zero spectrum, and gradients through all of it. So a ComplexTensor is a
Python object over a float16 tensor of shape [..., 2] (the real and imaginary parts, PyTorch's complex32 layout:
what view_as_real returns, sharing its memory) and computes with the library's real ops on that form, which gives
it every device, autograd (a gradient is PyTorch's, dL/dRe + i dL/dIm) and the in-place version checks for free.

What that means for a PyTorch program: a ComplexTensor is not a tl.Tensor (isinstance says False); it supports the
methods ComplexTensor lists, the functions here, tl.einsum with complex operands and tl.fft; every other op refuses
it with a TypeError (a missing method: an AttributeError naming what there is), and view_as_real gives the real
form that any real op takes. A real tensor's operators take real operands: write z * t, not t * z. Parameters are
real: hold complex weights as a real Parameter [..., 2] and view_as_complex it in forward, which PyTorch accepts
too. Products and quotients round the parts' products and sums separately (PyTorch's complex32 rounds once)."""
from .creation import empty, empty_like, full, full_like, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .functions import (ComplexTensor, abs, angle, complex, conj, conj_physical, einsum, imag, is_complex, is_conj,
                        is_neg, polar, real, resolve_conj, resolve_neg, view_as_complex, view_as_real)

__all__ = ["ComplexTensor", "view_as_real", "view_as_complex", "complex", "polar", "real", "imag", "conj",
           "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "angle", "abs", "is_complex", "einsum", "tensor", "zeros", "ones", "empty",
           "full", "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn"]
