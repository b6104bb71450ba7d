"""Complex tensors (dtype tl.complex32: float16 real and imaginary parts; PyTorch's complex64, cfloat, complex128 and
cdouble all mean it, as its float names mean float16). They exist for tl.fft's spectra and what programs do with them:
the parts, magnitude and phase, arithmetic, einsum, indexing and reshaping (ComplexTensor lists them), with autograd
through all of it. Everything else refuses them with a TypeError; view_as_real gives the real form [..., 2] that any
real op takes."""
from .creation import empty, empty_like, full, full_like, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .functions import (ComplexTensor, abs, angle, complex, conj, conj_physical, einsum, imag, is_complex, polar, real,
                        resolve_conj, view_as_complex, view_as_real)

__all__ = ["ComplexTensor", "view_as_real", "view_as_complex", "complex", "polar", "real", "imag", "conj",
           "conj_physical", "resolve_conj", "angle", "abs", "is_complex", "einsum", "tensor", "zeros", "ones", "empty",
           "full", "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn"]
