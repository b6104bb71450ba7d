"""matmul / @ / mm / bmm / linear / tril / triu against numpy (float64) and torch (float32) on the
same f16-rounded inputs."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from opinfo import ACTIVATIONS
from oracle import assert_close_to_scale, f16, f16_tensor, host

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((7,), (7,)),
    ((7,), (7, 3)),
    ((2, 7), (7,)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6)),
    ((1, 3, 8, 9), (2, 1, 9, 2)),
    ((65, 130), (130, 33)),
    ((0, 4), (4, 5)),
    ((3, 0), (0, 5)),
    ((3, 4), (4, 0)),
    ((0, 3, 4), (4, 2)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_matches_numpy(device, rng, sa, sb):
    a, b = f16(rng, *sa), f16(rng, *sb)
    out = tl.matmul(f16_tensor(a, device), f16_tensor(b, device))
    assert_close_to_scale(out, np.matmul(a, b))


def test_matmul_operator_and_methods(device, rng):
    a, b = f16(rng, 5, 6), f16(rng, 6, 4)
    ta, tb = f16_tensor(a, device), f16_tensor(b, device)
    assert_close_to_scale(ta @ tb, a @ b)
    assert_close_to_scale(ta.matmul(tb), a @ b)
    assert_close_to_scale(ta.mm(tb), a @ b)
    assert_close_to_scale(a.astype(np.float16) @ tb, a @ b)  # numpy on the left: __rmatmul__
    x, y = f16(rng, 3, 5, 6), f16(rng, 3, 6, 2)
    assert_close_to_scale(tl.bmm(f16_tensor(x, device), f16_tensor(y, device)), x @ y)


def test_matmul_non_contiguous(device, rng):
    a, b = f16(rng, 12, 10), f16(rng, 9, 12)
    ta, tb = f16_tensor(a, device), f16_tensor(b, device)
    # transposed views (no f16 copy inside the GEMM) and strided slices
    assert_close_to_scale(ta.T @ tb.T, a.T @ b.T)
    sa = ta[::2, 1::3]  # [6, 3]
    sb = tb[:, ::4]     # [9, 3]
    assert_close_to_scale(sa @ sb.T, a[::2, 1::3] @ b[:, ::4].T)
    x = f16(rng, 4, 6, 5)
    tx = f16_tensor(x, device)
    assert_close_to_scale(tx.transpose(1, 2) @ tx, np.swapaxes(x, 1, 2) @ x)
    y = f16(rng, 5, 3)
    assert_close_to_scale(tx.permute(1, 0, 2) @ f16_tensor(y, device), np.transpose(x, (1, 0, 2)) @ y)


def test_matmul_large_accumulates_in_f32(device, rng):
    a, b = f16(rng, 300, 1000), f16(rng, 1000, 200)
    assert_close_to_scale(tl.matmul(f16_tensor(a, device), f16_tensor(b, device)), a @ b)


@pytest.mark.parametrize("sa,sb", [((3, 4), (5, 6)), ((4,), (5,)), ((2, 3, 4), (3, 4, 5)), ((), (3,))])
def test_matmul_shape_errors(device, rng, sa, sb):
    a, b = f16(rng, *sa), f16(rng, *sb)
    ta, tb = f16_tensor(a, device), f16_tensor(b, device)
    with pytest.raises(tl.ShapeMismatchError) as info:
        tl.matmul(ta, tb)
    assert str(list(sa)) in str(info.value) and str(list(sb)) in str(info.value)
    np.testing.assert_array_equal(host(ta), a)
    np.testing.assert_array_equal(host(tb), b)


def test_mm_bmm_reject_other_ranks(device, rng):
    with pytest.raises(tl.ShapeMismatchError):
        tl.mm(f16_tensor(f16(rng, 2, 3, 4), device), f16_tensor(f16(rng, 4, 2), device))
    with pytest.raises(tl.ShapeMismatchError):
        tl.bmm(f16_tensor(f16(rng, 2, 3, 4), device), f16_tensor(f16(rng, 3, 4, 2), device))


@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("xshape", [(5, 8), (2, 3, 8), (8,), (0, 8)])
def test_linear_fused_epilogue(device, rng, act, xshape):
    x, w, b = f16(rng, *xshape), f16(rng, 6, 8), f16(rng, 6)
    r = f16(rng, *xshape[:-1], 6)
    tx, tw, tb, tr = (f16_tensor(v, device) for v in (x, w, b, r))
    t = lambda v: torch.tensor(v, dtype=torch.float32)
    ref = ACTIVATIONS[act](torch.nn.functional.linear(t(x), t(w), t(b)) + t(r)).numpy()
    assert_close_to_scale(tl.linear(tx, tw, tb, activation=act, residual=tr), ref)
    ref_plain = ACTIVATIONS[act](torch.nn.functional.linear(t(x), t(w))).numpy()
    assert_close_to_scale(tl.linear(tx, tw, activation=act), ref_plain)


def test_linear_non_contiguous_and_broadcast_residual(device, rng):
    x, w, b, r = f16(rng, 7, 4, 10), f16(rng, 10, 6), f16(rng, 6), f16(rng, 6)
    tx = f16_tensor(x, device).transpose(0, 1)  # [4, 7, 10], not contiguous
    tw = f16_tensor(w, device).T                 # [6, 10] transposed view
    out = tl.linear(tx, tw, f16_tensor(b, device), residual=f16_tensor(r, device))
    assert_close_to_scale(out, np.swapaxes(x, 0, 1) @ w + b + r)


def test_linear_errors(device, rng):
    x, w = f16_tensor(f16(rng, 3, 5), device), f16_tensor(f16(rng, 4, 6), device)
    with pytest.raises(tl.ShapeMismatchError, match=r"\[3, 5\].*\[4, 6\]"):
        tl.linear(x, w)
    w = f16_tensor(f16(rng, 4, 5), device)
    with pytest.raises(tl.ShapeMismatchError, match="bias"):
        tl.linear(x, w, f16_tensor(f16(rng, 5), device))
    with pytest.raises(tl.ShapeMismatchError, match="residual"):
        tl.linear(x, w, residual=f16_tensor(f16(rng, 2, 4), device))
    with pytest.raises(ValueError, match="activation"):
        tl.linear(x, w, activation="tanh")


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (6, 2), (2, 3, 4), (0, 3), (2, 0, 4), (1, 1)])
@pytest.mark.parametrize("k", [0, 1, -1, 2, -3, 10, -10])
def test_tril_triu(device, rng, shape, k):
    a = f16(rng, *shape)
    t = f16_tensor(a, device)
    np.testing.assert_array_equal(host(tl.tril(t, k)), np.tril(a, k))
    np.testing.assert_array_equal(host(t.triu(k)), np.triu(a, k))


def test_tril_non_contiguous_int_and_errors(device, rng):
    a = f16(rng, 3, 6, 5)
    t = f16_tensor(a, device).transpose(1, 2)[:, ::2]
    np.testing.assert_array_equal(host(tl.triu(t, 1)), np.triu(np.swapaxes(a, 1, 2)[:, ::2], 1))
    ints = tl.tensor(np.arange(12, dtype=np.int32).reshape(3, 4), device=device)
    out = tl.tril(ints)
    assert out.dtype == tl.int32
    np.testing.assert_array_equal(out.cpu().numpy(), np.tril(np.arange(12).reshape(3, 4)))
    with pytest.raises(tl.ShapeMismatchError):
        tl.tril(f16_tensor(f16(rng, 4), device))


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_tril_triu_every_dtype(device, rng, dtype):  # bool and int64 once ran the 2-byte kernel (heap overflow)
    a = rng.integers(-3, 4, (3, 5, 5)).astype(dtype)
    t = tl.tensor(a, dtype=getattr(tl, dtype), device=device).transpose(1, 2)
    for k in (0, 1, -2):
        assert tl.tril(t, k).dtype == getattr(tl, dtype)
        np.testing.assert_array_equal(host(tl.tril(t, k)), np.tril(np.swapaxes(a, 1, 2), k))
        np.testing.assert_array_equal(host(t.triu(k)), np.triu(np.swapaxes(a, 1, 2), k))


def test_matmul_large_batch_runs_in_groups(device, rng):
    # More f32 panel memory than one group holds: the batches are split (with a residual epilogue too).
    a, b, r = f16(rng, 5, 2048, 2048, scale=0.1), f16(rng, 5, 2048, 2), f16(rng, 5, 2048, 2)
    assert_close_to_scale(tl.matmul(f16_tensor(a, device), f16_tensor(b, device)), a @ b)
    ta = f16_tensor(a, device).transpose(1, 2)
    out = tl.linear(ta, f16_tensor(b[0].T, device), residual=f16_tensor(r, device), activation="relu")
    assert_close_to_scale(out, np.maximum(np.swapaxes(a, 1, 2) @ b[0] + r, 0))
