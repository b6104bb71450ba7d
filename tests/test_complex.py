"""Complex tensors (tensorlogic.complex_tensors) against PyTorch's complex128 on the same f16 parts: arithmetic with
complex, real and Python operands, parts, magnitude and phase, einsum, indexing, views and reductions, with their
gradients; creation with complex dtypes; host data; typed errors everywhere else."""
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_grad_close, f16_randn, host


def _pair(rng, device, shape, scale=1.0):
    """(ours, PyTorch's, our real form) of a random complex tensor whose parts are f16 values; both require grad."""
    parts = f16_randn(rng, tuple(shape) + (2,), scale)
    ri = tl.tensor(parts, device=device, requires_grad=True)
    theirs = torch.view_as_complex(torch.tensor(parts.astype(np.float64))).detach().requires_grad_()
    return tl.view_as_complex(ri), theirs, ri


def _real(rng, device, shape):
    """Real operands kept at least 0.25 from 0: z / r's gradient in r is -z / r^2 summed, past f16's range as r
    nears 0 (seed 1685571580 had 1.2e7), where float64 PyTorch's is finite."""
    values = f16_randn(rng, shape)
    values = (np.where(values < 0, -1.0, 1.0) * (np.abs(values) + 0.25)).astype(np.float16)
    return (tl.tensor(values, device=device, requires_grad=True),
            torch.tensor(values.astype(np.float64), requires_grad=True))


def _form(t):
    return tl.view_as_real(t) if isinstance(t, tl.ComplexTensor) else t


def _torch_form(t):
    return torch.view_as_real(t.resolve_conj()) if t.is_complex() else t


def _check(ours, theirs, ulps=2):
    """Values within `ulps` f16 ulps of the largest part (products and sums of parts each round once)."""
    want = _torch_form(theirs).detach().numpy()
    scale = max(1.0, float(np.abs(want[np.isfinite(want)]).max(initial=0.0)))
    assert_close_f16(_form(ours), want, atol=1e-3 * ulps * scale)


def _check_grads(ours, theirs, rng, device, inputs):
    """Input gradients of <real form of the output, random weights> against PyTorch's."""
    weights = f16_randn(rng, tuple(_torch_form(theirs).shape))
    (_form(ours) * tl.tensor(weights, device=device)).sum().backward()
    (_torch_form(theirs) * torch.tensor(weights.astype(np.float64))).sum().backward()
    for k, (mine, ref) in enumerate(inputs):
        if ref.grad is None:  # an input the case does not use
            assert mine.grad is None
            continue
        expected = torch.view_as_real(ref.grad.resolve_conj()) if ref.is_complex() else ref.grad
        assert_grad_close(mine.grad, expected, 1e-2, f"gradient of input {k}")


@pytest.mark.parametrize("case", ["z+w", "z-w", "z*w", "z/w", "z+r", "z-r", "z*r", "z/r", "z*2.5", "z/-0.5",
                                  "z+(1-2j)", "z*(0.5+1.5j)", "z/(2-1j)", "(1+1j)-z", "3/z", "(2j)/z", "-z",
                                  "z.conj()", "z.reciprocal()", "z.add(w, alpha=2)"])
def test_arithmetic_matches_torch(device, rng, case):
    z, tz, zri = _pair(rng, device, (3, 4))
    w, tw, wri = _pair(rng, device, (4,), scale=2.0)
    r, tr = _real(rng, device, (3, 1))
    ours = eval(case, {"z": z, "w": w, "r": r})
    theirs = eval(case, {"z": tz, "w": tw, "r": tr})
    _check(ours, theirs, ulps=4 if "/" in case else 2)
    _check_grads(ours, theirs, rng, device, [(zri, tz), (wri, tw), (r, tr)])


def test_parts_magnitude_and_phase(device, rng):
    z, tz, zri = _pair(rng, device, (5, 3))
    for name in ("real", "imag"):
        _check(getattr(z, name), getattr(tz, name))
        _check(getattr(tl, name)(z), getattr(torch, name)(tz))
    _check(z.abs(), tz.abs())
    _check(tl.abs(z), torch.abs(tz))
    _check(z.angle(), tz.angle())
    _check(tl.angle(z), torch.angle(tz))
    loss, tloss = (z.abs() * 2.0 + z.angle()).sum(), (tz.abs() * 2.0 + tz.angle()).sum()
    loss.backward()
    tloss.backward()
    assert_grad_close(zri.grad, torch.view_as_real(tz.grad), 1e-2, "abs and angle")
    zero = tl.view_as_complex(tl.zeros(2, 2, device=device, requires_grad=True))
    (zero.abs() + zero.angle()).sum().backward()  # PyTorch's gradients at 0 are 0, not NaN
    assert host(tl.view_as_real(zero).grad).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    x = tl.tensor([-1.5, 0.0, 2.0, float("nan")], device=device)
    np.testing.assert_allclose(host(tl.angle(x)), torch.angle(torch.tensor(host(x))).numpy(), rtol=1e-3)
    assert tl.real(x) is x and tl.conj(x) is x and tl.is_complex(z) and not tl.is_complex(x)
    assert z.real.data_ptr() == zri.data_ptr()  # a view: writes show in the complex tensor


@pytest.mark.parametrize("equation,shapes,kinds", [
    ("bixy,ioxy->boxy", [(2, 3, 4, 2), (3, 5, 4, 2)], "cc"),  # the FNO's mode mixing
    ("ij,jk", [(3, 4), (4, 5)], "cr"),
    ("ij,jk->ik", [(3, 4), (4, 5)], "rc"),
    ("i,i->", [(6,), (6,)], "cc"),
    ("...j,jk->...k", [(2, 3, 4), (4, 2)], "cc"),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)], "ccc"),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)], "crc"),
])
def test_einsum_with_complex_operands(device, rng, equation, shapes, kinds):
    pairs = [_pair(rng, device, s) if k == "c" else _real(rng, device, s) for s, k in zip(shapes, kinds)]
    ours = tl.einsum(equation, *[p[0] for p in pairs])
    theirs = torch.einsum(equation, *[p[1].to(torch.complex128) for p in pairs])  # PyTorch's einsum does not promote
    assert isinstance(ours, tl.ComplexTensor)
    _check(ours, theirs, ulps=4)
    inputs = [(p[2], p[1]) if k == "c" else (p[0], p[1]) for p, k in zip(pairs, kinds)]
    _check_grads(ours, theirs, rng, device, inputs)


def test_indexing_views_and_reductions(device, rng):
    z, tz, zri = _pair(rng, device, (3, 4, 5))
    cases = [(z[1], tz[1]), (z[:, 1:3, ::2], tz[:, 1:3, ::2]), (z[..., -2:], tz[..., -2:]), (z[None, 0], tz[None, 0]),
             (z.reshape(4, 15), tz.reshape(4, 15)), (z.view(-1, 5), tz.view(-1, 5)),
             (z.permute(2, 0, 1), tz.permute(2, 0, 1)),
             (z.transpose(0, -1), tz.transpose(0, -1)), (z.unsqueeze(-1), tz.unsqueeze(-1)),
             (z[:, :1].squeeze(1), tz[:, :1].squeeze(1)), (z.flatten(1), tz.flatten(1)),
             (z[:1].expand(2, 4, 5), tz[:1].expand(2, 4, 5)), (z.sum(), tz.sum()), (z.sum((0, 2)), tz.sum((0, 2))),
             (z.mean(-1, keepdim=True), tz.mean(-1, keepdim=True)), (z.clone(), tz.clone())]
    for ours, theirs in cases:
        assert tuple(ours.shape) == tuple(theirs.shape)
        _check(ours, theirs)
    mask = host(z.real) > 0
    _check(z[tl.tensor(mask, device=device)], tz[torch.tensor(mask)])
    loss = sum(_form(o).sum() * (k + 1) for k, (o, _) in enumerate(cases))
    tloss = sum(_torch_form(t).sum() * (k + 1) for k, (_, t) in enumerate(cases))
    loss.backward()
    tloss.backward()
    assert_grad_close(zri.grad, torch.view_as_real(tz.grad), 1e-2, "views")
    assert len(z) == 3 and z.ndim == 3 and z.dim() == 3 and z.numel() == 60 and z.size(-1) == 5
    assert z.dtype is tl.complex64 and z.dtype.is_complex and not z.dtype.is_floating_point


def test_setitem_records_the_written_values(device, rng):
    """FNO's write of mixed modes into a zero spectrum: gradients reach the written values, not the zeros."""
    z, tz, zri = _pair(rng, device, (2, 3))
    out = tl.zeros(4, 3, dtype=tl.cfloat, device=device)
    tout = torch.zeros(4, 3, dtype=torch.complex128)
    out[1:3] = z * z
    tout[1:3] = tz * tz
    out[0] = 2.0
    tout[0] = 2.0
    out[3, 1] = 1 - 1j
    tout[3, 1] = 1 - 1j
    _check(out, tout)
    _check_grads(out, tout, rng, device, [(zri, tz)])


def test_creation_with_complex_dtypes(device, rng):
    for dtype in (tl.complex64, tl.cfloat, tl.complex128, tl.cdouble, tl.chalf, "complex64", torch.complex64, complex):
        z = tl.zeros(2, 3, dtype=dtype, device=device)
        assert isinstance(z, tl.ComplexTensor) and z.shape == (2, 3) and not host(tl.view_as_real(z)).any()
    ones = tl.ones((2,), dtype=tl.cfloat, device=device)
    assert ones.tolist() == [1 + 0j, 1 + 0j]
    assert tl.full((2, 2), 1.5 - 2j, device=device).tolist() == [[1.5 - 2j] * 2] * 2
    assert tl.tensor([1 + 2j, 3], device=device).tolist() == [1 + 2j, 3 + 0j]
    assert tl.tensor(np.array([0.5j]), device=device).item() == 0.5j
    assert tl.tensor([1.0, 2.0], dtype=tl.complex64, device=device).tolist() == [1 + 0j, 2 + 0j]
    like = tl.zeros_like(ones)
    assert isinstance(like, tl.ComplexTensor)
    assert isinstance(tl.ones_like(tl.zeros(3), dtype=tl.cfloat), tl.ComplexTensor)
    assert tl.empty_like(ones).shape == (2,) and tl.empty(4, dtype=tl.cfloat).shape == (4,)
    assert not isinstance(tl.zeros_like(ones, dtype=tl.float32), tl.ComplexTensor)
    u = tl.rand(4000, dtype=tl.cfloat, device=device)
    parts = host(tl.view_as_real(u))
    assert parts.min() >= 0 and parts.max() < 1 and abs(parts.mean() - 0.5) < 0.03
    n = tl.randn(4000, dtype=tl.cfloat, device=device, requires_grad=True)
    assert n.requires_grad and abs(float((n.abs() ** 2).mean()) - 1.0) < 0.1  # E|z|^2 = 1, as PyTorch's
    assert tl.polar(tl.tensor([2.0]), tl.tensor([0.0])).tolist() == [2 + 0j]
    made = tl.complex(tl.tensor([1.0, 2.0]), tl.tensor([3.0]))  # broadcast
    assert made.tolist() == [1 + 3j, 2 + 3j]


def test_host_data_and_devices(device, rng):
    z, tz, _ = _pair(rng, device, (2, 2))
    np.testing.assert_allclose(z.numpy(), tz.detach().numpy().astype(np.complex64))
    np.testing.assert_allclose(np.asarray(z), z.numpy())
    assert complex(z[0, 0]) == z.tolist()[0][0] == z[0, 0].item()
    assert "dtype=tensorlogic.complex32" in repr(z) and "j" in repr(z) and "grad_fn" in repr(z * 1.0)
    assert z.to("cpu").device == tl.device("cpu") and z.cpu().to(device).device == z.device
    assert z.to(dtype=tl.cfloat).shape == (2, 2)
    assert z.detach().requires_grad is False and z.requires_grad
    assert (z == z).all() and not (z != z).any()


def test_host_data_of_infinite_and_signed_zero_parts(device, rng):
    """An infinite imaginary part made the real part NaN in numpy(), tolist(), item() and the repr (re + 1j * im:
    1j * inf is nan + inf j), and -0.0 printed as '+-0.0000j'; the fft of such data warned from numpy."""
    parts = f16_randn(rng, (6, 2))
    parts[:, 1] = [np.inf, -np.inf, -0.0, 0.0, np.nan, 1.0]
    parts[5, 0] = np.inf
    z = tl.view_as_complex(tl.tensor(parts, device=device))
    theirs = torch.view_as_complex(torch.tensor(parts.astype(np.float32)))
    np.testing.assert_array_equal(z.numpy(), theirs.numpy())
    assert np.array_equal(np.signbit(z.numpy().imag), np.signbit(parts[:, 1]))
    assert [str(v) for v in z.tolist()] == [str(v) for v in theirs.tolist()]
    assert str(z[1].item()) == str(theirs[1].item())
    assert "-0.0000j" in repr(z) and "+-" not in repr(z) and repr(z).count("nan") == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectrum = tl.fft.fft(z)
    np.testing.assert_array_equal(np.isnan(spectrum.numpy()), np.isnan(torch.fft.fft(theirs.cdouble()).numpy()))


def test_everything_else_raises_typed_errors(device, rng):
    z, _, _ = _pair(rng, device, (3,))
    x = tl.randn(3, device=device)
    with pytest.raises(TypeError, match="must be Tensor"):
        tl.exp(z)
    with pytest.raises(TypeError):
        tl.cat([z, z])
    with pytest.raises(AttributeError, match="complex tensors have no 'exp'"):
        z.exp()
    with pytest.raises(TypeError, match="complex"):
        x + z  # a real tensor's operators take real operands: write z + x
    with pytest.raises(TypeError, match="complex"):
        tl.Tensor(z)
    with pytest.raises(TypeError, match="complex"):
        tl.nn.Parameter(z)
    with pytest.raises(TypeError, match="complex"):
        x.to(tl.complex64)
    with pytest.raises(TypeError, match="complex dtypes"):
        z.to(tl.float32)
    with pytest.raises(TypeError):
        tl.arange(3, dtype=tl.cfloat)
    with pytest.raises(tl.ShapeMismatchError):
        tl.view_as_complex(tl.zeros(3, 3))
    with pytest.raises(TypeError):
        tl.view_as_complex(tl.zeros(3, 2, dtype=tl.int64))
    with pytest.raises(TypeError):
        tl.view_as_real(x)
    with pytest.raises(RuntimeError, match="non-complex"):  # PyTorch's error for a real tensor
        tl.imag(x)
    with pytest.raises(TypeError):
        z + "a"
    with pytest.raises(RuntimeError, match="real scalar"):
        z.sum().backward()
    with pytest.raises(IndexError):
        z.transpose(0, 3)
    with pytest.raises(TypeError):
        tl.tensor([1 + 1j], dtype=tl.float16)  # PyTorch: can't convert complex to float
