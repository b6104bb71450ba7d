"""tl.fft against torch.fft (complex128/float64 on the same f16 inputs): every transform of the op database
(tests/opinfo.py FFTS) with n/s, dim and norm, values and input gradients; gradcheck and second derivatives of the
adjoint backwards; fftfreq, rfftfreq, fftshift, ifftshift; typed errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from opinfo import FFTS, SPECTRAL_SHAPE, cases
from oracle import assert_close_f16, assert_grad_close, f16_randn, host

FFT_CASES, FFT_IDS = cases(FFTS)


def _inputs(rng, real, device, shape=SPECTRAL_SHAPE):
    """(ours, PyTorch's, the f16 values): a real tensor, or a complex one from f16 real and imaginary parts."""
    values = f16_randn(rng, shape if real else shape + (2,))
    if real:
        ours, theirs = tl.tensor(values, device=device), torch.tensor(values.astype(np.float64))
    else:
        ours = tl.view_as_complex(tl.tensor(values, device=device))
        theirs = torch.view_as_complex(torch.tensor(values.astype(np.float64)))
    return ours, theirs


def _real_form(out):
    return tl.view_as_real(out) if isinstance(out, tl.ComplexTensor) else out


def _torch_real_form(out):
    return torch.view_as_real(out.resolve_conj()) if out.is_complex() else out


@pytest.mark.parametrize("op,variant", FFT_CASES, ids=FFT_IDS)
def test_values_and_gradients_match_torch(device, rng, op, variant):
    ours, theirs = _inputs(rng, op.real_input, device)
    theirs.requires_grad_()
    source = tl.view_as_real(ours) if isinstance(ours, tl.ComplexTensor) else ours
    source.requires_grad_()
    out, ref = op.call(tl, ours, variant), op.call(torch, theirs, variant)
    assert isinstance(out, tl.ComplexTensor) == ref.is_complex()
    got, want = _real_form(out), _torch_real_form(ref)
    assert tuple(got.shape) == tuple(want.shape)
    scale = float(want.detach().abs().max())
    assert_close_f16(got, want.detach().numpy(), atol=1e-3 * max(1.0, scale))  # each element rounded once
    weights = f16_randn(rng, tuple(want.shape))
    (got * tl.tensor(weights, device=device)).sum().backward()
    (want * torch.tensor(weights.astype(np.float64))).sum().backward()
    expected = torch.view_as_real(theirs.grad.resolve_conj()) if theirs.is_complex() else theirs.grad
    assert_grad_close(source.grad, expected, 5e-3, f"{op.name}{variant.suffix} input gradient")


@pytest.mark.parametrize("name,real,kwargs", [("fft", False, {}), ("rfft", True, {"n": 7}), ("irfft", False, {"n": 9}),
                                              ("hfft", False, {"norm": "ortho"}), ("irfftn", False, {})])
def test_gradcheck(device, rng, name, real, kwargs):
    """The adjoints against central differences of the transforms themselves (f16 evaluations)."""
    shape = (3, 5) if real else (3, 5, 2)
    x = tl.tensor(f16_randn(rng, shape), device=device, requires_grad=True)
    fn = getattr(tl.fft, name)

    def transform(t):
        return _real_form(fn(t if real else tl.view_as_complex(t), **kwargs))

    assert tl.autograd.gradcheck(transform, (x,))


def test_second_derivatives_match_torch(device, rng):
    """A spectral filter and a power spectrum (irfft2(rfft2(x) * w) and |rfft(x)|^2): the Hessian-vector product
    through the adjoints' own adjoints, against PyTorch's."""
    x = f16_randn(rng, (4, 6))
    w = f16_randn(rng, (4, 4, 2))
    v = f16_randn(rng, (4, 6))

    def loss(lib, t, wt):
        spectrum = lib.fft.rfft2(t) * lib.view_as_complex(wt)
        return (lib.fft.irfft2(spectrum, s=(4, 6)) ** 2).sum() + (lib.fft.rfft(t).abs() ** 2).sum()

    ours = [tl.tensor(a, device=device, requires_grad=True) for a in (x, w)]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in (x, w)]
    g = tl.autograd.grad(loss(tl, *ours), ours, create_graph=True)
    rg = torch.autograd.grad(loss(torch, *theirs), theirs, create_graph=True)
    for a, e, what in zip(g, rg, ("x", "w")):
        assert_grad_close(a, e, 1e-2, f"gradient of {what}")
    hv = tl.autograd.grad((g[0] * tl.tensor(v, device=device)).sum(), ours)
    rhv = torch.autograd.grad((rg[0] * torch.tensor(v.astype(np.float64))).sum(), theirs)
    for a, e, what in zip(hv, rhv, ("x", "w")):
        assert_grad_close(a, e, 2e-2, f"Hessian-vector product of {what}")


def test_integer_input_and_roundtrips(device, rng):
    x = f16_randn(rng, (5, 8))
    t = tl.tensor(x, device=device)
    assert_close_f16(tl.fft.irfft(tl.fft.rfft(t), n=8), x, atol=2e-3)
    assert_close_f16(tl.fft.ifftn(tl.fft.fftn(t)).real, x, atol=2e-3)
    assert_close_f16(tl.fft.hfft(tl.fft.ihfft(t), n=8), x, atol=2e-3)
    ints = tl.tensor([1, 2, 3, 4], device=device)
    want = torch.view_as_real(torch.fft.fft(torch.tensor([1, 2, 3, 4]))).numpy()
    np.testing.assert_array_equal(host(tl.view_as_real(tl.fft.fft(ints))), want)


@pytest.mark.parametrize("n,d", [(1, 1.0), (6, 0.5), (7, 2.0), (0, 1.0), (3, 0.0)])
def test_frequencies_and_shifts(device, rng, n, d):
    assert_close_f16(tl.fft.fftfreq(n, d, device=device), torch.fft.fftfreq(n, d, dtype=torch.float64).numpy())
    assert_close_f16(tl.fft.rfftfreq(n, d, device=device), torch.fft.rfftfreq(n, d, dtype=torch.float64).numpy())
    assert tl.fft.fftfreq(3, requires_grad=True).requires_grad
    x = f16_randn(rng, (3, 4, 5))
    for dim in (None, 1, (0, -1)):
        for name in ("fftshift", "ifftshift"):
            want = getattr(torch.fft, name)(torch.tensor(x), dim=dim).numpy()
            np.testing.assert_array_equal(host(getattr(tl.fft, name)(tl.tensor(x, device=device), dim=dim)), want)
    z = tl.view_as_complex(tl.tensor(f16_randn(rng, (4, 5, 2)), device=device))
    want = torch.fft.fftshift(torch.view_as_complex(torch.tensor(host(tl.view_as_real(z)).astype(np.float32))), dim=0)
    np.testing.assert_array_equal(host(tl.view_as_real(tl.fft.fftshift(z, dim=0))), torch.view_as_real(want).numpy())
    ints = tl.fft.ifftshift(tl.arange(5, device=device))
    assert ints.dtype == tl.int64 and ints.tolist() == torch.fft.ifftshift(torch.arange(5)).tolist()


def test_bad_arguments_raise_typed_errors(device):
    x = tl.randn(4, 6, device=device)
    z = tl.fft.fft(x)
    with pytest.raises(ValueError, match="normalization"):
        tl.fft.fft(x, norm="unitary")
    with pytest.raises(ValueError, match="data points"):
        tl.fft.fft(x, n=0)
    with pytest.raises(ValueError, match="data points"):
        tl.fft.irfft(tl.fft.rfft(x[:, :1]))  # one frequency: an output of 2 (1 - 1) = 0 points
    with pytest.raises(IndexError):
        tl.fft.fft(x, dim=2)
    with pytest.raises(ValueError, match="unique"):
        tl.fft.fft2(x, dim=(1, -1))
    with pytest.raises(ValueError, match="same length"):
        tl.fft.fftn(x, s=(4, 6), dim=(0,))
    with pytest.raises(TypeError, match="real input"):
        tl.fft.rfft(z)
    with pytest.raises(TypeError, match="real input"):
        tl.fft.ihfft(z)
    with pytest.raises(TypeError):
        tl.fft.fft([1.0, 2.0])
    with pytest.raises(TypeError):
        tl.fft.fft(x, n=2.5)
    with pytest.raises(TypeError):
        tl.fft.fftn(x, s=4)
    with pytest.raises(ValueError, match="at least one"):
        tl.fft.rfftn(x, dim=())
    with pytest.raises(ValueError):
        tl.fft.fftfreq(-1)
    with pytest.raises(TypeError):
        tl.fft.fftfreq(4, dtype=tl.int64)
