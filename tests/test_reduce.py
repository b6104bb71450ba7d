"""Reductions against PyTorch (float64 on the same f16 inputs): every op, dims, keepdim, views, empties."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from opinfo import REDUCTIONS
from oracle import assert_close_f16, f16_randn, host, strided, to_tl, torch_of

pytestmark = pytest.mark.filterwarnings("ignore:var\\(\\):UserWarning")

SHAPES_DIMS = [
    ((), None), ((), 0), ((1,), None), ((7,), 0), ((3, 5), None), ((3, 5), 0), ((3, 5), -1), ((3, 5), (0, 1)),
    ((2, 3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (1, 2)), ((4, 1, 6), (0, 2)), ((2, 3, 4, 5), (1, 3)),
    ((5, 300), 1), ((300, 5), 0), ((2, 700, 3), 1),
]


def torch_reduce(op, t, dim, keepdim):
    """The oracle, in float64; dim None means all dims; None where tl raises (arg* over several but not all)."""
    dims = (dim,) if isinstance(dim, int) else tuple(range(t.ndim)) if dim is None else dim
    if op.indices and 1 < len(dims) != t.ndim:
        return None
    return op.ref(t.double(), dims, keepdim)


@pytest.mark.parametrize("op", REDUCTIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduce_matches_torch(device, op, shape, dim, keepdim):
    info, op = op, op.name
    rng = np.random.default_rng(abs(hash((op, shape, str(dim), keepdim))) % 2**32)
    scale = 0.3 if op == "prod" else 1.0
    x = f16_randn(rng, shape, scale)
    if op == "prod" and x.size > 8:
        x = (1.0 + 0.05 * x).astype(np.float16)  # keep long products in range
    expected = torch_reduce(info, torch_of(x), dim, keepdim)
    if expected is None:
        t = to_tl(x, device)
        with pytest.raises(ValueError):
            getattr(tl, op)(t, dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(host(t), x)
        return
    tl_dim = dim
    fn = getattr(tl, info.fn or op)
    kwargs = {"dim": tl_dim if tl_dim is not None else ()} if op in ("max", "min") else {"dim": tl_dim}
    for t in (to_tl(x, device), strided(x, device)):
        before = host(t).copy()
        if op == "logsumexp" and tl_dim is None:
            out = fn(t, dim=tuple(range(x.ndim)), keepdim=keepdim)
        else:
            out = fn(t, keepdim=keepdim, **kwargs)
        np.testing.assert_array_equal(host(t), before)  # inputs unchanged
        got = host(out)
        if op in ("argmax", "argmin"):
            assert out.dtype == tl.int64
            np.testing.assert_array_equal(got, expected.numpy().reshape(got.shape))
        else:
            atol = 2e-3 * float(np.abs(x.astype(np.float64)).sum()) ** 0.5 if op in ("sum", "mean") else 1e-4
            assert_close_f16(got, expected.numpy(), atol=atol)


def test_argmax_first_occurrence_and_flat_index(device):
    x = np.array([[1, 5, 5], [7, 2, 7]], dtype=np.float16)
    t = to_tl(x, device)
    assert host(tl.argmax(t)).item() == 3
    np.testing.assert_array_equal(host(tl.argmax(t, dim=1)), [1, 0])
    np.testing.assert_array_equal(host(tl.argmin(t.T, dim=0)), [0, 1])
    y = np.array([1, np.nan, 3, np.nan], dtype=np.float16)
    assert host(tl.argmax(to_tl(y, device))).item() == 1
    assert np.isnan(host(tl.max(to_tl(y, device))))


def test_max_dim_returns_values_and_indices(device):
    rng = np.random.default_rng(7)
    x = f16_randn(rng, (4, 6))
    values, indices = tl.max(to_tl(x, device), dim=1, keepdim=True)
    ref = torch.max(torch_of(x), dim=1, keepdim=True)
    np.testing.assert_array_equal(host(values), ref.values.numpy().astype(np.float16))
    np.testing.assert_array_equal(host(indices), ref.indices.numpy())
    r = to_tl(x, device).min(0)
    assert r.indices.dtype == tl.int64 and r.values.shape == (6,)
    other = f16_randn(rng, (4, 6))
    np.testing.assert_array_equal(host(tl.max(to_tl(x, device), to_tl(other, device))), np.maximum(x, other))


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction(device, correction):
    rng = np.random.default_rng(correction + 11)
    x = f16_randn(rng, (5, 9))
    t = to_tl(x, device)
    ref = torch.var(torch_of(x).double(), dim=1, correction=correction)
    assert_close_f16(host(tl.var(t, 1, correction=correction)), ref.numpy(), atol=1e-5)
    assert_close_f16(host(t.std(1, correction=correction)), ref.sqrt().numpy(), rtol=3e-3, atol=1e-5)
    assert_close_f16(host(tl.var(t, 1, unbiased=False)), torch.var(torch_of(x).double(), 1, unbiased=False).numpy(), atol=1e-5)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 0, float("inf"), float("-inf")])
def test_norm_p(device, p):
    rng = np.random.default_rng(int(abs(p) * 10) % 97 if np.isfinite(p) else 99)
    x = f16_randn(rng, (4, 8))
    x[0, 0] = 0
    ref = torch.linalg.vector_norm(torch_of(x).double(), p, dim=1)
    assert_close_f16(host(tl.norm(to_tl(x, device), p=p, dim=1)), ref.numpy(), rtol=3e-3, atol=1e-5)
    assert_close_f16(host(to_tl(x, device).norm()), torch.linalg.vector_norm(torch_of(x).double()).numpy(), atol=1e-5)


def test_logsumexp_extremes(device):
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [60000.0, 60000.0], [-30.0, -30.0]], np.float16)
    ref = torch.logsumexp(torch_of(x).double(), dim=1).numpy()
    assert_close_f16(host(tl.logsumexp(to_tl(x, device), 1)), ref, atol=1e-5)


@pytest.mark.parametrize("shape,dim", [((0,), None), ((0, 3), 0), ((3, 0), 1), ((2, 0, 3), 1), ((0, 3), 1)])
def test_empty_reductions_follow_torch(device, shape, dim):
    x = np.zeros(shape, np.float16)
    t = to_tl(x, device)
    tx = torch_of(x)
    kw = {} if dim is None else {"dim": dim}
    for op in ("sum", "mean", "prod"):
        ref = getattr(torch, op)(tx, **kw) if op != "prod" or dim is not None else torch.prod(tx)
        got = host(getattr(tl, op)(t, **kw))
        np.testing.assert_array_equal(got, ref.numpy().astype(np.float16))
    n_reduced = x.size if dim is None else shape[dim]
    if n_reduced == 0:
        with pytest.raises((IndexError, ValueError)):
            tl.amax(t, **kw)
        with pytest.raises((IndexError, ValueError)):
            tl.argmax(t, **kw)
    else:
        assert host(tl.amax(t, **kw)).shape == torch.amax(tx, **kw).shape


def test_large_sum_is_accurate(device):
    rng = np.random.default_rng(3)
    x = ((rng.random(1 << 21) + 0.5) / 128).astype(np.float16)  # 2M positive values: naive f32 summation drifts
    got = float(host(tl.sum(to_tl(x, device))))
    ref = float(x.astype(np.float64).sum())
    assert abs(got - ref) <= 1e-3 * ref
    xs = x.reshape(2, -1)
    assert_close_f16(host(tl.sum(to_tl(xs, device), 1)), xs.astype(np.float64).sum(1), atol=1e-5)
    xc = x.reshape(-1, 2)  # column sums over a million rows
    assert_close_f16(host(tl.mean(to_tl(xc, device), 0)), xc.astype(np.float64).mean(0), atol=1e-5)


def test_int32_input_and_errors(device):
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    t = to_tl(x, device)
    assert tl.sum(t, 1).dtype == tl.int64
    np.testing.assert_array_equal(host(tl.sum(t, 1)), x.sum(1))
    np.testing.assert_array_equal(host(tl.argmax(t, 0)), [2, 2, 2, 2])
    with pytest.raises(IndexError):
        tl.sum(t, 2)
    with pytest.raises(ValueError):
        tl.sum(t, (0, 0))
    with pytest.raises(ValueError):
        tl.argmax(to_tl(np.ones((2, 2, 2), np.float16), device), (0, 1))
    with pytest.raises(ValueError):
        tl.var(to_tl(np.ones(3, np.float16), device), correction=-1)
    np.testing.assert_array_equal(host(t), x)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_nan_propagates_through_every_path(device, dim):
    """NaNs in the vectorised body (not only the tail) of rows and columns reach max/min/argmax/norm."""
    rng = np.random.default_rng(17)
    x = f16_randn(rng, (70, 300))
    x[5, 100] = np.nan
    x[40, 7] = np.nan
    t, tx = to_tl(x, device), torch_of(x).double()
    kw = {} if dim is None else {"dim": dim}
    for op in ("amax", "amin"):
        np.testing.assert_array_equal(host(getattr(tl, op)(t, **kw)), getattr(torch, op)(tx, **kw).numpy().astype(np.float16))
    np.testing.assert_array_equal(host(tl.argmax(t, **kw)), torch.argmax(tx, **kw).numpy())
    np.testing.assert_array_equal(host(tl.argmin(t, **kw)), torch.argmin(tx, **kw).numpy())
    ref = torch.linalg.vector_norm(tx, float("inf"), **kw).numpy()
    np.testing.assert_array_equal(np.isnan(host(tl.norm(t, float("inf"), **kw))), np.isnan(ref))


def test_pytorch_call_forms(device):
    rng = np.random.default_rng(23)
    x = f16_randn(rng, (3, 4, 5))
    t, tx = to_tl(x, device), torch_of(x).double()
    assert_close_f16(host(t.sum((0, 2))), tx.sum((0, 2)).numpy(), atol=5e-3)
    assert_close_f16(host(t.mean()), tx.mean().numpy(), atol=1e-3)
    assert_close_f16(host(t.var(1, True, True)), tx.var(1, unbiased=True, keepdim=True).numpy(), atol=1e-5)
    assert_close_f16(host(tl.std(t, False)), tx.std(unbiased=False).numpy(), atol=1e-5)
    assert_close_f16(host(t.norm("fro")), tx.norm("fro").numpy(), atol=1e-5)
    assert_close_f16(host(t.logsumexp((1, 2))), tx.logsumexp((1, 2)).numpy(), atol=1e-5)
    assert host(t.amax((0, 1), keepdim=True)).shape == (1, 1, 5)
    v, i = t.min(-1)
    np.testing.assert_array_equal(host(i), tx.min(-1).indices.numpy())
    assert host(t.argmax(keepdim=True)).shape == (1, 1, 1)
    with pytest.raises(ValueError):
        t.norm("nuc")


def _every_rule_matches_torch(x, dim, nan_at, device):
    """Every reduction rule over `dim` against PyTorch, then amax/amin with NaNs placed at `nan_at`."""
    t, tx = to_tl(x, device), torch_of(x)
    for op in [op for op in REDUCTIONS if not op.indices]:
        got = getattr(tl, op.fn or op.name)(t, dim=dim)
        assert_close_f16(host(got), torch_reduce(op, tx, dim, False).numpy(), rtol=4e-3, atol=2e-3)
    for p in (1, 0, float("inf"), float("-inf")):
        assert_close_f16(host(tl.norm(t, p, dim=dim)), torch.linalg.vector_norm(tx.double(), p, dim=dim).numpy(), atol=1e-5)
    for index in nan_at:
        x[index] = np.nan
    t, tx = to_tl(x, device), torch_of(x).double()
    for op in ("amax", "amin"):
        np.testing.assert_array_equal(host(getattr(tl, op)(t, dim=dim)),
                                      getattr(torch, op)(tx, dim=dim).numpy().astype(np.float16))


@pytest.mark.parametrize("n", [15, 16, 17, 63, 64, 65, 4097, 9000])
def test_row_kernels_every_op_around_the_vector_width(device, rng, n):
    """Rows reduced by the vector leaves (every rule, lengths around the lane count and over the pairwise
    leaf), with a NaN in the tail for the max/min family."""
    _every_rule_matches_torch(f16_randn(rng, (3, n)), 1, [(1, -1)], device)


@pytest.mark.parametrize("cols", [1, 8, 15, 16, 17, 24, 65, 300])
def test_column_kernels_every_op_around_the_vector_width(device, rng, cols):
    """Columns reduced by the vector column kernels over several row blocks (every rule, widths around the
    lane count), with NaNs in the first block and in the last for the max/min family."""
    _every_rule_matches_torch(f16_randn(rng, (150, cols)), 0, [(3, 0), (-1, cols - 1)], device)


@pytest.mark.parametrize("shape,dim,nan_at", [((3000, 72), 0, [(7, 3), (-1, 71)]),
                                              ((3, 500, 16), 1, [(0, 7, 3), (2, -1, 15)]),
                                              ((2, 130, 8, 24), 1, [(1, 5, 0, 3)])])
def test_column_kernels_over_many_row_splits(device, rng, shape, dim, nan_at):
    """Columns in 8-wide groups (the GPU's 16-byte column loads) over many splits of the reduced axis, with
    outer > 1, then arg reductions over many ties (the first index wins, as in PyTorch)."""
    _every_rule_matches_torch(f16_randn(rng, shape), dim, nan_at, device)
    ties = rng.integers(0, 3, shape).astype(np.float16)
    t, tx = to_tl(ties, device), torch_of(ties)
    np.testing.assert_array_equal(host(tl.argmax(t, dim=dim)), torch.argmax(tx, dim=dim).numpy())
    np.testing.assert_array_equal(host(tl.argmin(t, dim=dim)), torch.argmin(tx, dim=dim).numpy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_gradient_goes_to_the_returned_index(device, name, rng):
    """Ties (here: rows of repeated values, as after a ReLU) give max(dim)/min(dim)'s gradient to the returned
    index alone, as PyTorch does; amax/amin share it."""
    x = rng.integers(-2, 3, size=(5, 7)).astype(np.float16)
    g = rng.standard_normal(7).astype(np.float16)
    ours = tl.tensor(x, device=device, requires_grad=True)
    theirs = torch.tensor(x.astype(np.float32), requires_grad=True)
    values, indices = getattr(ours, name)(0)
    ref_values, ref_indices = getattr(theirs, name)(0)
    (values * tl.tensor(g, device=device)).sum().backward()
    (ref_values * torch.tensor(g.astype(np.float32))).sum().backward()
    np.testing.assert_array_equal(host(indices), ref_indices.numpy())
    np.testing.assert_array_equal(host(ours.grad).astype(np.float32), theirs.grad.numpy())


@pytest.mark.parametrize("p", [-1.5, -0.5, 0.5, 3, 8])
def test_norm_gradient_of_small_and_large_values(device, p, rng):
    """The gradient |x|^(p-1) / y^(p-1) taken as one power of |x| / y where that power is at most 1: the separate
    powers overflow f16 for small |x| at a negative p (inf / inf gave NaN) and for large |x| at a large p."""
    x = (f16_randn(rng, (4, 8)) * np.float16(100.0 if p == 8 else 1.0))
    x[:, 0] = np.float16(1e-3) if p < 0 else x[:, 0]
    ours = tl.tensor(x, device=device, requires_grad=True)
    theirs = torch.tensor(x.astype(np.float64), requires_grad=True)
    tl.norm(ours, p, dim=1).sum().backward()
    torch.linalg.vector_norm(theirs, p, dim=1).sum().backward()
    assert_close_f16(host(ours.grad), theirs.grad.numpy(), rtol=1e-2, atol=1e-3)
