"""softmax / log_softmax over any dim and layer_norm / rms_norm against PyTorch on the same f16 inputs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorlogic as tl
from opinfo import ROWS
from oracle import assert_close_f16, f16_randn, host, strided, to_tl, torch_of


@pytest.mark.parametrize("op", ROWS, ids=lambda op: op.name)
@pytest.mark.parametrize("shape,dim", [((), 0), ((1,), 0), ((7,), -1), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), 1),
                                       ((2, 300, 3), 1), ((4, 1000), -1), ((0, 4), 1), ((3, 0), 1), ((64, 16), -1),
                                       ((5, 33), -1)])
def test_softmax_family(device, op, shape, dim):
    fn = op.name
    rng = np.random.default_rng(abs(hash((fn, shape, dim))) % 2**32)
    x = f16_randn(rng, shape, 3.0)
    ref = getattr(torch, fn)(torch_of(x).double(), dim=dim).numpy()
    for t in (to_tl(x, device), strided(x, device)):
        out = getattr(tl, fn)(t, dim=dim)
        assert out.dtype == tl.float16
        assert_close_f16(host(out), ref, atol=op.atol)
        assert_close_f16(host(getattr(t, fn)(dim)), ref, atol=op.atol)
        np.testing.assert_array_equal(host(t), x)


@pytest.mark.parametrize("width", [3, 16, 17])
def test_softmax_extremes(device, width):
    x = np.array([[60000, -60000, 0], [-np.inf, 0, 1], [-np.inf, -np.inf, -np.inf], [np.inf, 0, 0], [0, 1, 2]], np.float16)
    x = np.concatenate([x, np.full((5, width - 3), -np.inf, np.float16)], axis=1)
    x[4, -1] = np.nan  # in the vector kernels' last (padded) vector
    for op in ROWS:
        ref = op.ref(torch_of(x), dim=1).numpy()
        assert_close_f16(host(getattr(tl, op.name)(to_tl(x, device), 1)), ref, atol=1e-5)


@pytest.mark.parametrize("shape,norm_shape", [((4, 8), (8,)), ((2, 3, 16), (3, 16)), ((5, 1), (1,)), ((3, 513), 513),
                                              ((0, 4), (4,))])
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm(device, shape, norm_shape, affine):
    rng = np.random.default_rng(abs(hash((shape, affine))) % 2**32)
    x = (f16_randn(rng, shape, 2.0) + np.float16(3.0)).astype(np.float16)
    ns = (norm_shape,) if isinstance(norm_shape, int) else norm_shape
    w = f16_randn(rng, ns) if affine else None
    b = f16_randn(rng, ns) if affine else None
    ref = F.layer_norm(torch_of(x).double(), ns, None if w is None else torch_of(w).double(),
                       None if b is None else torch_of(b).double(), 1e-5).numpy()
    out = tl.layer_norm(to_tl(x, device), norm_shape, None if w is None else to_tl(w, device),
                        None if b is None else to_tl(b, device))
    assert_close_f16(host(out), ref, rtol=3e-3, atol=3e-3)
    out = tl.layer_norm(strided(x, device), norm_shape, None if w is None else to_tl(w, device),
                        None if b is None else to_tl(b, device), eps=1e-3)
    ref = F.layer_norm(torch_of(x).double(), ns, None if w is None else torch_of(w).double(),
                       None if b is None else torch_of(b).double(), 1e-3).numpy()
    assert_close_f16(host(out), ref, rtol=3e-3, atol=3e-3)


@pytest.mark.parametrize("eps", [None, 1e-6])
@pytest.mark.parametrize("affine", [False, True])
def test_rms_norm(device, eps, affine):
    rng = np.random.default_rng(5 + affine)
    x = f16_randn(rng, (6, 40), 0.05)  # small values: eps matters
    w = f16_randn(rng, (40,)) if affine else None
    # PyTorch's default eps is finfo(input.dtype).eps: compute the oracle from float16 input semantics.
    ref_eps = float(torch.finfo(torch.float16).eps) if eps is None else eps
    ref = F.rms_norm(torch_of(x).double(), (40,), None if w is None else torch_of(w).double(), ref_eps).numpy()
    out = tl.rms_norm(to_tl(x, device), (40,), None if w is None else to_tl(w, device), eps=eps)
    assert_close_f16(host(out), ref, rtol=3e-3, atol=3e-3)


def test_norm_errors(device):
    t = to_tl(np.ones((2, 3), np.float16), device)
    with pytest.raises(ValueError):
        tl.layer_norm(t, (2,))
    with pytest.raises(ValueError):
        tl.layer_norm(t, (3,), weight=to_tl(np.ones(2, np.float16), device))
    with pytest.raises(ValueError):
        tl.rms_norm(t, (4, 3))
    with pytest.raises(IndexError):
        tl.softmax(t, 2)
    np.testing.assert_array_equal(host(t), np.ones((2, 3), np.float16))


def test_rows_of_integer_and_bool_inputs_read_their_own_element_size(device):
    """softmax of bool/int64 data converts it first (a 1- or 8-byte element was read as 2 bytes: a heap
    overflow found by the fuzzer under AddressSanitizer)."""
    values = [[1, 0, 1, 1], [0, 0, 1, 0]]
    want = tl.softmax(tl.tensor(values, dtype=tl.float16, device=device), 1).cpu().numpy()
    for dtype in (tl.bool, tl.int32, tl.int64):
        got = tl.softmax(tl.tensor(values, device=device).to(dtype), 1).cpu().numpy()
        np.testing.assert_array_equal(got, want)
