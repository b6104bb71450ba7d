"""ops/statistics.py, ops/scans.py and ops/counting.py against PyTorch on random f16 inputs (fresh seeds):
values, indices (on distinct values, where PyTorch's tie-breaking is its own), gradients with gradcheck and
against torch.autograd, NaN handling and typed errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, host


def _distinct(rng, shape):
    """f16 values with no ties: a permutation of multiples of 1/8 (exact in f16)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) / 8.0 - n / 16.0).astype(np.float16).reshape(shape)


def _pair(x, device):
    return tl.tensor(x, device=device), torch.tensor(x.astype(np.float64))


def _same(ours, theirs):
    np.testing.assert_array_equal(host(ours).astype(np.float64), theirs.numpy().astype(np.float64))


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("shape,dim,keepdim", [((7,), 0, False), ((4, 6), 1, False), ((3, 5, 4), 0, True),
                                                ((2, 3, 4), -1, True)])
def test_median_with_dim(device, name, shape, dim, keepdim, rng):
    t, ref = _pair(_distinct(rng, shape), device)
    got, want = getattr(tl, name)(t, dim, keepdim), getattr(torch, name)(ref, dim, keepdim)
    _same(got.values, want.values)
    _same(got.indices, want.indices)
    assert got.indices.dtype == tl.int64
    _same(getattr(t, name)(), getattr(ref, name)())


def test_median_nan(device):
    x = np.array([[1.0, np.nan, 2.0, np.nan], [3.0, 1.0, np.nan, 2.0], [np.nan] * 4, [4.0, 1.0, 3.0, 2.0]],
                 np.float16)
    t, ref = _pair(x, device)
    for name in ("median", "nanmedian"):
        got, want = getattr(tl, name)(t, 1), getattr(torch, name)(ref, 1)
        np.testing.assert_array_equal(host(got.values), want.values.numpy().astype(np.float16))
        rows = [0, 1, 3]  # which NaN of an all-NaN row PyTorch names is its selection algorithm's
        np.testing.assert_array_equal(host(got.indices)[rows], want.indices.numpy()[rows])
    assert np.isnan(host(tl.median(t))) and host(tl.nanmedian(t)) == torch.nanmedian(ref).item()


@pytest.mark.parametrize("k", [1, 3, 5])
def test_kthvalue(device, k, rng):
    t, ref = _pair(_distinct(rng, (4, 5)), device)
    got, want = tl.kthvalue(t, k, 1, keepdim=True), torch.kthvalue(ref, k, 1, keepdim=True)
    _same(got.values, want.values)
    _same(got.indices, want.indices)
    with pytest.raises(IndexError):
        tl.kthvalue(t, 6)


def test_mode(device, rng):
    x = rng.integers(-2, 3, (5, 9)).astype(np.float16)
    t, ref = _pair(x, device)
    for dim in (0, 1):
        got, want = tl.mode(t, dim), torch.mode(ref, dim)
        _same(got.values, want.values)
        _same(got.indices, want.indices)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (1, False), (0, True)])
def test_quantile(device, rng, interpolation, dim, keepdim):
    x = (rng.standard_normal((5, 7))).astype(np.float16)
    t, ref = _pair(x, device)
    q = rng.uniform(0, 1, 3)
    # Interpolating neighbours a and b in f16 rounds (b - a) * weight to the ulp of |b - a|: beside a nearly
    # opposite a the result can be off by that much (seed 1340: -0.01758 for -0.01875 between -2.06 and 0.4255)
    atol = 1e-3 + 2.0**-11 * 2 * np.abs(x).max()
    for qt, qr in ((float(q[0]), float(q[0])), (tl.tensor(q.astype(np.float16)), torch.tensor(q.astype(np.float16)).double())):
        got = tl.quantile(t, qt, dim, keepdim, interpolation=interpolation)
        want = torch.quantile(ref, qr, dim, keepdim, interpolation=interpolation)
        assert tuple(got.shape) == tuple(want.shape)
        assert_close_f16(got, want.numpy(), atol=atol)


def test_nanquantile_and_errors(device):
    x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [0.5, 0.25, 1.0, 2.0]], np.float16)
    t, ref = _pair(x, device)
    for q in (0.0, 0.4, 1.0):
        want = torch.nanquantile(ref, q, 1).numpy()
        np.testing.assert_array_equal(np.isnan(host(tl.nanquantile(t, q, 1))), np.isnan(want))
        assert_close_f16(tl.nanquantile(t, q, 1)[[0, 2]], want[[0, 2]])
        assert np.isnan(host(tl.quantile(t, q, 1))[:2]).all()
    with pytest.raises(ValueError):
        tl.quantile(t, 1.5)
    with pytest.raises(ValueError):
        tl.quantile(t, 0.5, interpolation="cubic")


@pytest.mark.parametrize("fn", [lambda x: tl.median(x, 1).values, lambda x: tl.nanmedian(x, 0).values,
                                lambda x: tl.kthvalue(x, 2, 1).values, lambda x: tl.quantile(x, 0.3, 1),
                                lambda x: tl.quantile(x, tl.tensor([0.25, 0.75]), 0), lambda x: tl.cummax(x, 1).values,
                                lambda x: tl.cummin(x, 0).values, lambda x: tl.logcumsumexp(x, 1),
                                lambda x: tl.diff(x, 2, 1), lambda x: tl.std_mean(x, 1)[0] + tl.var_mean(x, 0)[1].sum()])
def test_gradients_pass_gradcheck(device, fn, rng):
    x = tl.tensor(_distinct(rng, (4, 5)) * np.float16(0.5), device=device, requires_grad=True)
    assert tl.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin(device, name, rng):
    x = rng.integers(-3, 4, (4, 8)).astype(np.float16)  # ties: PyTorch moves the index to the latest
    x[1, 3] = np.nan
    t, ref = _pair(x, device)
    for dim in (0, 1):
        got, want = getattr(tl, name)(t, dim), getattr(torch, name)(ref, dim)
        np.testing.assert_array_equal(host(got.values), want.values.numpy().astype(np.float16))
        _same(got.indices, want.indices)


def test_logcumsumexp_matches_torch_with_gradient(device, rng):
    x = (rng.standard_normal((3, 6)) * 4).astype(np.float16)
    x[0, 0] = -30.0  # far below the rest: exp underflows in f16, not in the float64 scan
    x[1, 2] = -np.inf
    t, ref = _pair(x, device)
    t.requires_grad_()
    ref.requires_grad_()
    out, want = tl.logcumsumexp(t, 1), torch.logcumsumexp(ref, 1)
    assert_close_f16(out, want.detach().numpy())
    v = rng.uniform(-1, 1, (3, 6)).astype(np.float16)
    (out * tl.tensor(v, device=device)).sum().backward()
    (want * torch.tensor(v.astype(np.float64))).sum().backward()
    assert_close_f16(t.grad, ref.grad.numpy())


@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (3, 1)])
def test_diff(device, n, dim, rng):
    x = rng.standard_normal((4, 5)).astype(np.float16)
    pre = rng.standard_normal((4, 5)).astype(np.float16)
    t, ref = _pair(x, device)
    # each of the n levels rounds to f16 values up to 2^level times the input's: the error is relative to those
    atol = 1e-3 * 2**n * float(np.abs(np.concatenate([x, pre])).max())
    assert_close_f16(tl.diff(t, n, dim), torch.diff(ref, n, dim).numpy(), atol=atol)
    got = tl.diff(t, n, dim, prepend=tl.tensor(pre, device=device), append=t)
    assert_close_f16(got, torch.diff(ref, n, dim, prepend=torch.tensor(pre.astype(np.float64)), append=ref).numpy(),
                     atol=atol)
    b = tl.tensor(x > 0, device=device)
    _same(tl.diff(b), torch.diff(torch.tensor(x > 0)))
    with pytest.raises(tl.ShapeMismatchError):
        tl.diff(tl.tensor(1.0, device=device))


def test_std_var_mean_aminmax_count_nonzero(device, rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float16)
    x[x < -1] = 0
    t, ref = _pair(x, device)
    for ours, theirs in ((tl.std_mean(t, 1), torch.std_mean(ref, 1)), (tl.var_mean(t, (0, 2), correction=0),
                                                                       torch.var_mean(ref, (0, 2), correction=0)),
                         (tl.std_mean(t), torch.std_mean(ref)), (tl.aminmax(t, dim=2), torch.aminmax(ref, dim=2)),
                         (tl.aminmax(t), torch.aminmax(ref))):
        for a, b in zip(ours, theirs):
            assert_close_f16(a, b.numpy())
    assert tl.aminmax(t).min.item() == torch.aminmax(ref).min.item()
    for dim in (None, 1, (0, 2)):
        got = tl.count_nonzero(t, dim)
        assert got.dtype == tl.int64
        _same(got, torch.count_nonzero(ref, dim))


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique(device, dim, rng):
    x = rng.integers(0, 3, (6, 3)).astype(np.int64)
    t, ref = tl.tensor(x, device=device), torch.tensor(x)
    got = tl.unique(t, return_inverse=True, return_counts=True, dim=dim)
    want = torch.unique(ref, return_inverse=True, return_counts=True, dim=dim)
    for a, b in zip(got, want):
        _same(a, b)
    _same(t.unique(), torch.unique(ref))
    f = np.array([2.5, np.nan, 1.0, 2.5, np.nan], np.float16)
    assert host(tl.unique(tl.tensor(f, device=device))).size == torch.unique(torch.tensor(f)).numel()


@pytest.mark.parametrize("dim", [None, 0])
def test_unique_consecutive(device, dim, rng):
    x = np.repeat(rng.integers(0, 3, (8, 2)), rng.integers(1, 3, 8), axis=0)
    t, ref = tl.tensor(x, device=device), torch.tensor(x)
    got = tl.unique_consecutive(t, return_inverse=True, return_counts=True, dim=dim)
    want = torch.unique_consecutive(ref, return_inverse=True, return_counts=True, dim=dim)
    for a, b in zip(got, want):
        _same(a, b)


def test_bincount_and_histc(device, rng):
    idx = rng.integers(0, 6, 40)
    w = rng.uniform(0, 1, 40).astype(np.float16)
    t, ref = tl.tensor(idx, device=device), torch.tensor(idx)
    _same(tl.bincount(t), torch.bincount(ref))
    _same(tl.bincount(t, minlength=9), torch.bincount(ref, minlength=9))
    assert_close_f16(tl.bincount(t, tl.tensor(w, device=device)),
                     torch.bincount(ref, torch.tensor(w.astype(np.float64))).numpy())
    with pytest.raises(ValueError):
        tl.bincount(tl.tensor([1, -1], device=device))
    with pytest.raises(TypeError):
        tl.bincount(tl.tensor([1.0], device=device))
    x = rng.standard_normal(50).astype(np.float16)
    for bins, lo, hi in ((10, 0, 0), (7, -1, 1), (4, 0.5, 0.5)):
        ours = host(tl.histc(tl.tensor(x, device=device), bins, lo, hi)).astype(np.float64)
        theirs = torch.histc(torch.tensor(x.astype(np.float32)), bins, lo, hi).numpy().astype(np.float64)
        # A value within float32's rounding of an inner bin edge may land on either side of it (the bin is
        # (x - lo) * bins / (hi - lo), rounded in another order): each such value may move one count.
        a, b = (float(x.min()), float(x.max())) if lo == hi == 0 else (lo, hi)
        a, b = (a - 1, b + 1) if a == b else (a, b)
        position = (x.astype(np.float64) - a) * bins / (b - a)
        on_edge = int(np.sum((np.abs(position - np.round(position)) < 1e-4) & (position > 0.5) & (position < bins - 0.5)))
        assert ours.sum() == theirs.sum() and np.abs(ours - theirs).sum() <= 2 * on_edge, (ours, theirs, on_edge)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize(device, right, rng):
    seq = np.sort(rng.integers(-4, 5, (3, 6)), axis=1).astype(np.float16)
    vals = rng.integers(-5, 6, (3, 4)).astype(np.float16)
    vals[0, 0] = np.nan
    ts, tv = tl.tensor(seq, device=device), tl.tensor(vals, device=device)
    rs, rv = torch.tensor(seq.astype(np.float32)), torch.tensor(vals.astype(np.float32))
    _same(tl.searchsorted(ts, tv, right=right), torch.searchsorted(rs, rv, right=right))
    _same(tl.searchsorted(ts[0], tv, side="right" if right else "left"), torch.searchsorted(rs[0], rv, right=right))
    got = tl.bucketize(tv, ts[1], right=right, out_int32=True)
    assert got.dtype == tl.int32
    _same(got, torch.bucketize(rv, rs[1], right=right, out_int32=True))
    _same(tl.bucketize(tl.tensor(1.0, device=device), ts[1]), torch.bucketize(torch.tensor(1.0), rs[1]))
    unsorted = seq[0][::-1].copy()  # with a sorter: the order that sorts it
    _same(tl.searchsorted(tl.tensor(unsorted, device=device), tv, sorter=tl.tensor(np.argsort(unsorted, kind="stable"),
                                                                                     device=device)),
          torch.searchsorted(torch.tensor(unsorted.astype(np.float32)), rv,
                             sorter=torch.tensor(np.argsort(unsorted, kind="stable"))))
    with pytest.raises(tl.ShapeMismatchError):
        tl.searchsorted(ts, tl.tensor(np.zeros((2, 4), np.float16), device=device))
