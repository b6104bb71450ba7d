"""tl.linalg.eig and eigvals: the eigendecomposition of general (non-symmetric) real matrices, whose eigenvalues and
eigenvectors are complex: tl.complex32 ComplexTensors (float16 real and imaginary parts).

Computed in float64 on the host by numpy's LAPACK (geev, as PyTorch's CPU eig: each eigenvector of unit norm with its
largest component real; the eigenvalues in geev's order) from the exact f16 values, each part rounded once to f16 on
the input's device. The gradient is PyTorch's formula, V^-H (diag(gL) + P(V^H gV) / E*) V^H, evaluated in float64 on
the host from the float64 factors: it needs complex matrix products and a complex solve, which the complex tensors
here do not have as ops, so it does not differentiate again (once_differentiable's error)."""
import collections

import numpy as np

from ..autograd.function import Function, differentiated_once
from ..autograd.grad_mode import is_grad_enabled
from ..complex_tensors import ComplexTensor, view_as_complex
from .checks import square
from .host import float64, to_device

EigResult = collections.namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])

_NON_FINITE = "input tensor should not contain infs or NaNs."  # PyTorch's words
_PHASE_DEPENDENT = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication by "
                    "e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined.")


def _eig64(a):
    """(eigenvalues [..., n], eigenvectors [..., n, n]) as complex128 arrays; empty matrices give empty results."""
    if not a.size:
        return np.zeros(a.shape[:-1], np.complex128), np.zeros(a.shape, np.complex128)
    w, v = np.linalg.eig(a)
    return w.astype(np.complex128), v.astype(np.complex128)


def _real_form(z, like):
    """A complex array as a float16 tensor [..., 2] of its rounded parts on like's device."""
    return to_device(np.stack([z.real, z.imag], axis=-1), like)


def _complex(g):
    """A gradient's real form [..., 2] as a complex128 array (None stays None)."""
    if g is None:
        return None
    ri = float64(g)
    return ri[..., 0] + 1j * ri[..., 1]


def _gradient(L, V, gL, gV):
    """PyTorch's linalg_eig_backward in float64: the complex gradient of A given those of L and V (either None)."""
    Vh = np.conj(np.swapaxes(V, -1, -2))
    n = L.shape[-1]
    if gV is None:
        inner = np.zeros(V.shape, np.complex128)
    else:
        VhgV = Vh @ gV
        diagonal = np.diagonal(VhgV, axis1=-2, axis2=-1)
        if not np.allclose(diagonal.imag, 0, rtol=1e-2, atol=1e-2):
            raise RuntimeError(_PHASE_DEPENDENT)
        # onto the tangent space of the unit-norm normalisation: the part of gV that moves no vector's length
        VhgV = VhgV - Vh @ (V * diagonal.real[..., None, :])
        gaps = np.conj(L)[..., None, :] - np.conj(L)[..., :, None]
        gaps[..., np.arange(n), np.arange(n)] = 1
        inner = VhgV / gaps
    if gL is not None:
        inner[..., np.arange(n), np.arange(n)] = gL
    return np.linalg.solve(Vh, inner @ Vh)


class _Eig(Function):
    multi_output = True

    @staticmethod
    def forward(ctx, A):
        a = float64(A)
        if not np.isfinite(a).all():
            raise RuntimeError(f"torch.linalg.eig: {_NON_FINITE}")
        ctx.factors = L, V = _eig64(a)
        ctx.save_for_backward(A)
        return _real_form(L, A), _real_form(V, A)

    @staticmethod
    def backward(ctx, gL, gV):
        (A,) = ctx.saved_tensors
        L, V = ctx.factors
        g = to_device(_gradient(L, V, _complex(gL), _complex(gV)).real, A)  # A is real: the real part, as PyTorch's
        if is_grad_enabled():  # create_graph: g depends on A (and the gradients) through a formula not recorded
            return differentiated_once(g, A, *(x for x in (gL, gV) if x is not None and x.requires_grad))
        return g


def _real_square(A, name):
    if isinstance(A, ComplexTensor):
        raise TypeError(f"linalg.{name}: complex input is not supported (only real matrices; their eigenvalues and "
                        "eigenvectors are complex)")
    return square(A, name)


def eig(A):
    """(eigenvalues [..., n], eigenvectors [..., n, n] as columns) of each real square matrix of A, as complex
    tensors (tl.complex32), as torch.linalg.eig: float64 LAPACK geev on the host, each part rounded once; each
    eigenvector has unit norm and its largest component real. The gradient is PyTorch's (a loss that depends on the
    eigenvectors' phases raises its RuntimeError); it does not differentiate again. A matrix holding inf or NaN is
    PyTorch's RuntimeError."""
    A = _real_square(A, "eig")
    L, V = _Eig.apply(A)
    return EigResult(view_as_complex(L), view_as_complex(V))


def eigvals(A):
    """The eigenvalues [..., n] of each real square matrix of A as a complex tensor (tl.complex32), in eig's order
    (float64 LAPACK geev on the host, rounded once); their gradient is PyTorch's. A matrix holding inf or NaN is
    eig's RuntimeError (PyTorch's eigvals returns what LAPACK gives for it)."""
    A = _real_square(A, "eigvals")
    return view_as_complex(_Eig.apply(A)[0])
