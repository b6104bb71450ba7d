"""Indexing against PyTorch on the same data: getitem/setitem (basic, advanced, masks, combinations),
gather, scatter_add, index_select, embedding, index_put_, cat, stack, pad."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
from oracle import assert_close_f16, assert_equal, f16_randn, host, strided
from tensorlogic.nn import functional as F

GET_KEYS = [
    (1,), (-1,), (slice(1, None),), (slice(None, None, 2),), (slice(-3, -1),), (slice(5, 1),),
    (None,), (Ellipsis, 1), (1, Ellipsis), (None, 1, None), (slice(None), None, 0),
    ([0, 2, 1],), ([[0, 1], [2, 0]],), ([-1, 0],), ([],),
    (slice(None), [0, 2]), ([1, 0], [2, 1]), ([1, 0], slice(None), [2, 1]),
    (slice(None), [0, 1], 0), (0, slice(None), [1, 0]), ([0], [1, 2]), ([[0], [1]], [1, 2]),
    (Ellipsis, [1, 0]), (None, [1, 0]), (slice(1, 3), [0, 0], slice(None, None, 2)),
    ([0, 2], slice(None), 1), (slice(None, None, 2), slice(None), [2, 1]),
]


def _torch_key(key):
    return tuple(torch.tensor(k, dtype=torch.long) if isinstance(k, list) else k for k in key)


def _tl_key(key, device, as_tensor):
    if not as_tensor:
        return key
    return tuple(tl.tensor(np.asarray(k, dtype=np.int32), dtype=tl.int32, device=device) if isinstance(k, list) else k
                 for k in key)


@pytest.mark.parametrize("key", GET_KEYS, ids=repr)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_getitem_matches_torch(device, rng, key, as_tensor):
    x = f16_randn(rng, (3, 4, 5))
    expected = torch.from_numpy(x)[_torch_key(key)].numpy()
    for t in (tl.tensor(x, device=device), strided(x, device)):
        assert_equal(t[_tl_key(key, device, as_tensor)], expected)


def test_getitem_masks(device, rng):
    x = f16_randn(rng, (4, 5))
    t = tl.tensor(x, device=device)
    assert_equal(t[t > 0], x[x > 0])  # a float16 0/1 mask from a comparison
    assert_equal(t[x > 0], x[x > 0])  # a numpy bool mask
    rows = np.array([True, False, True, True])
    assert_equal(t[rows], x[rows])
    assert_equal(t[:, [True, False, True, False, True]], x[:, [True, False, True, False, True]])
    assert_equal(t[rows, 1:3], x[rows, 1:3])
    assert_equal(t[t[:, 0] > 0, 0], x[x[:, 0] > 0, 0])
    assert t[x > 100].shape == (0,)


def test_basic_indexing_is_a_view(device, rng):
    t = tl.tensor(f16_randn(rng, (4, 6)), device=device)
    v = t[1:3, ::2]
    v[0, 0] = 7.0
    assert t[1, 0].item() == 7.0
    before = host(t)
    w = t[[0, 1]]  # advanced indexing copies
    w[0, 0] = 5.0
    assert_equal(t, before)


def test_int32_tensor_and_0d_indices(device, rng):
    x = f16_randn(rng, (5, 3))
    t = tl.tensor(x, device=device)
    i = tl.tensor(2, dtype=tl.int32, device=device)
    assert_equal(t[i], x[2])
    idx = tl.tensor([[4, 0], [1, -2]], dtype=tl.int32, device=device)
    assert_equal(t[idx], x[np.array([[4, 0], [1, -2]])])
    assert_equal(t[np.array([3, 1], dtype=np.int64)], x[[3, 1]])


SET_KEYS = [(1,), (slice(1, 3),), (Ellipsis, 0), ([0, 2],), (slice(None), [1, 3]), ([1, 2], [0, 3]),
            ([0, 1], slice(None), [1, 0]), (0, [2, 2])]


@pytest.mark.parametrize("key", SET_KEYS, ids=repr)
def test_setitem_matches_torch(device, rng, key):
    x = f16_randn(rng, (3, 4, 5))
    expected = torch.from_numpy(x.copy())
    target_shape = expected[_torch_key(key)].shape
    values = f16_randn(rng, target_shape)
    expected[_torch_key(key)] = torch.from_numpy(values)
    t = tl.tensor(x, device=device)
    before = t._version
    t[key] = tl.tensor(values, device=device)
    assert_equal(t, expected.numpy())
    assert t._version == before + 1
    # scalars and broadcasting values
    expected[_torch_key(key)] = 2.5
    t[key] = 2.5
    assert_equal(t, expected.numpy())
    if len(target_shape):
        row = f16_randn(rng, target_shape[-1:])
        expected[_torch_key(key)] = torch.from_numpy(row)
        t[key] = row
        assert_equal(t, expected.numpy())


def test_setitem_mask_and_self_overlap(device, rng):
    x = f16_randn(rng, (6,))
    t = tl.tensor(x, device=device)
    t[t < 0] = 0.0
    assert_equal(t, np.maximum(x, 0))
    y = f16_randn(rng, (6,))
    t = tl.tensor(y, device=device)
    t[1:] = t[:-1]  # overlapping views: every value read before any is written
    expected = y.copy()
    expected[1:] = y[:-1]
    assert_equal(t, expected)
    t = tl.tensor(y, device=device)
    t[[1, 2, 3]] = t[[0, 1, 2]]
    expected = y.copy()
    expected[[1, 2, 3]] = y[[0, 1, 2]]
    assert_equal(t, expected)


def test_setitem_int_tensor(device):
    t = tl.tensor([1, 2, 3, 4], device=device)
    assert t.dtype == tl.int64
    t[[0, 3]] = 9
    t[1] = 7
    assert t.tolist() == [9, 7, 3, 9]


@pytest.mark.parametrize("shape,dim", [((4, 5), 0), ((4, 5), 1), ((3, 4, 5), -1), ((3, 4, 5), 1), ((6,), 0)])
def test_gather_scatter_add_index_select(device, rng, shape, dim):
    x = f16_randn(rng, shape)
    size = shape[dim]
    index_shape = list(shape)
    index_shape[dim] = 7
    index_shape = [max(1, s - (i % 2)) if i != (dim % len(shape)) else s for i, s in enumerate(index_shape)]
    index = rng.integers(0, size, index_shape).astype(np.int32)
    tx, ti = torch.from_numpy(x), torch.from_numpy(index).long()
    t = tl.tensor(x, device=device)
    i = tl.tensor(index, device=device)
    assert_equal(tl.gather(t, dim, i), torch.gather(tx, dim, ti).numpy())
    assert_equal(strided(x, device).gather(dim, i), torch.gather(tx, dim, ti).numpy())

    # scatter_add sums in f32 and rounds once: the f32 oracle rounded to f16 (up to f32 summation order)
    src = f16_randn(rng, index_shape)
    expected = torch.scatter_add(tx.double(), dim, ti, torch.from_numpy(src).double()).numpy()
    out = tl.scatter_add(t, dim, i, tl.tensor(src, device=device))
    assert_close_f16(out, expected, rtol=1e-3, atol=1e-3)
    assert_equal(t, x)  # out of place

    flat = rng.integers(0, size, 9).astype(np.int32)
    assert_equal(tl.index_select(t, dim, tl.tensor(flat, device=device)),
                 torch.index_select(tx, dim, torch.from_numpy(flat).long()).numpy())
    with pytest.raises(IndexError, match="-1"):  # negative indices wrap only in t[...] (as in PyTorch); a GPU's
        tl.index_select(t, dim, tl.tensor([-1], device=device)).numpy()  # check raises at the read


def test_scatter_add_inplace_and_larger_src(device, rng):
    t = tl.zeros(3, 4, device=device)
    index = tl.tensor([[0, 1], [2, 2]], dtype=tl.int32, device=device)
    src = tl.ones(2, 5, device=device)
    t.scatter_add_(0, index, src)
    expected = torch.zeros(3, 4).scatter_add_(0, torch.tensor([[0, 1], [2, 2]]), torch.ones(2, 5))
    assert_equal(t, expected.numpy().astype(np.float16))
    assert t._version == 1


def test_embedding(device, rng):
    w = f16_randn(rng, (10, 4))
    idx = rng.integers(0, 10, (3, 5)).astype(np.int32)
    out = tl.embedding(tl.tensor(w, device=device), tl.tensor(idx, device=device))
    assert_equal(out, w[idx])
    assert_equal(F.embedding(tl.tensor(idx % 10, device=device), strided(w, device)), w[idx % 10])
    assert F.embedding(tl.tensor(np.zeros((0,), np.int32), device=device), tl.tensor(w, device=device)).shape == (0, 4)


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_(device, rng, accumulate):
    x = rng.integers(-5, 5, (5, 4)).astype(np.float16)
    rows = np.array([0, 2, 2, 4], dtype=np.int32)
    cols = np.array([1, 3, 3, 0], dtype=np.int32)
    v = rng.integers(-3, 4, (4,)).astype(np.float16)
    expected = torch.from_numpy(x.copy()).index_put_((torch.from_numpy(rows).long(), torch.from_numpy(cols).long()),
                                                    torch.from_numpy(v), accumulate=accumulate)
    t = tl.tensor(x, device=device)
    t.index_put_((tl.tensor(rows, device=device), tl.tensor(cols, device=device)), tl.tensor(v, device=device),
                 accumulate=accumulate)
    if accumulate:
        assert_equal(t, expected.numpy())
    else:  # a repeated position keeps one of its values
        got = host(t)
        mask = np.ones_like(x, dtype=bool)
        mask[2, 3] = False
        assert_equal(got[mask], expected.numpy()[mask])
        assert got[2, 3] in (v[1], v[2])


def test_index_put_accumulate_rows(device, rng):
    """Whole rows accumulated (an embedding's backward): repeated rows sum in f32 and round once, so the
    result is float64's sum rounded to f16 up to f32's error."""
    w = f16_randn(rng, (int(rng.integers(2, 30)), int(rng.integers(1, 200))))
    idx = rng.integers(0, w.shape[0], int(rng.integers(1, 400)))
    v = f16_randn(rng, (idx.size, w.shape[1]))
    t = tl.tensor(w, device=device)
    t.index_put_((tl.tensor(idx.astype(np.int32), device=device),), tl.tensor(v, device=device), accumulate=True)
    expected = w.astype(np.float64)
    np.add.at(expected, idx, v.astype(np.float64))
    np.testing.assert_allclose(host(t).astype(np.float64), expected.astype(np.float16).astype(np.float64),
                               rtol=1e-3, atol=1e-3)


def test_cat(device, rng):
    a, b = f16_randn(rng, (2, 3)), f16_randn(rng, (4, 3))
    assert_equal(tl.cat([tl.tensor(a, device=device), strided(b, device)]), np.concatenate([a, b]))
    c = f16_randn(rng, (2, 0))
    d = f16_randn(rng, (2, 5))
    assert_equal(tl.cat([tl.tensor(a, device=device), tl.tensor(c, device=device), tl.tensor(d, device=device)], dim=-1),
                 np.concatenate([a, c, d], axis=-1))
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    mixed = tl.cat([tl.tensor(i, device=device), tl.tensor(a, device=device)])
    assert mixed.dtype == tl.float16
    assert_equal(mixed, np.concatenate([i.astype(np.float16), a]))
    ints = tl.cat([tl.tensor(i, device=device)] * 3, 1)
    assert ints.dtype == tl.int32
    assert_equal(ints, np.concatenate([i] * 3, 1))
    legacy_empty = tl.tensor(np.zeros((0,), np.float16), device=device)
    assert_equal(tl.cat([legacy_empty, tl.tensor(a, device=device)]), a)  # PyTorch skips 1-d empties
    many = [f16_randn(rng, (1, 2)) for _ in range(40)]
    assert_equal(tl.cat([tl.tensor(m, device=device) for m in many]), np.concatenate(many))


def test_stack(device, rng):
    xs = [f16_randn(rng, (2, 3)) for _ in range(3)]
    for dim in (0, 1, 2, -1):
        assert_equal(tl.stack([tl.tensor(x, device=device) for x in xs], dim), np.stack(xs, axis=dim))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", [((2, 3, 5), (1, 2)), ((2, 3, 4, 5), (2, 1, 1, 2)), ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 1)),
                                         ((2, 3, 5), (0, 0))])
def test_pad_matches_torch(device, rng, mode, shape, pads):
    x = f16_randn(rng, shape)
    expected = TF.pad(torch.from_numpy(x).float(), pads, mode=mode).half().numpy()
    assert_equal(F.pad(tl.tensor(x, device=device), pads, mode=mode), expected)
    assert_equal(tl.pad(strided(x, device), pads, mode=mode), expected)


def test_replicate_pads_longer_than_the_input(device, rng):
    # Each side is one broadcast copy of its edge (a copy per padded position took minutes for a pad of 2^31).
    x = f16_randn(rng, (1, 2, 3, 4))
    pads = (9, 1, 0, 7)
    assert_equal(F.pad(tl.tensor(x, device=device), pads, mode="replicate"),
                 TF.pad(torch.from_numpy(x).float(), pads, mode="replicate").half().numpy())
    i = np.arange(6, dtype=np.int32).reshape(1, 2, 3)
    assert_equal(F.pad(tl.tensor(i, device=device), (4, 6), mode="replicate"), np.pad(i, ((0, 0), (0, 0), (4, 6)), "edge"))


def test_pad_constant_value_and_negative(device, rng):
    x = f16_randn(rng, (3, 4))
    t = tl.tensor(x, device=device)
    assert_equal(tl.pad(t, (1, 2, 0, 1), value=-1.5), TF.pad(torch.from_numpy(x), (1, 2, 0, 1), value=-1.5).numpy())
    assert_equal(tl.pad(t, (-1, 1, 1, -2)), TF.pad(torch.from_numpy(x), (-1, 1, 1, -2)).numpy())
    i = tl.tensor(np.arange(6, dtype=np.int32).reshape(2, 3), device=device)
    assert_equal(tl.pad(i, (1, 1), value=7), np.pad(np.arange(6).reshape(2, 3), ((0, 0), (1, 1)), constant_values=7))


@pytest.mark.parametrize("n", [0, 1, 100_000])
def test_large_and_empty_gathers(device, rng, n):
    x = f16_randn(rng, (1000,))
    idx = rng.integers(0, 1000, n).astype(np.int32)
    t = tl.tensor(x, device=device)
    assert_equal(t[tl.tensor(idx, device=device)], x[idx])
    w = f16_randn(rng, (50, 64))
    assert_equal(tl.embedding(tl.tensor(w, device=device), tl.tensor(idx % 50, device=device)), w[idx % 50])


def test_nonzero_and_masked_fill(device, rng):
    x = f16_randn(rng, (3, 4))
    t = tl.tensor(x, device=device)
    assert_equal(tl.nonzero(t > 0), np.argwhere(x > 0).astype(np.int32))
    for got, want in zip(tl.nonzero(t > 0, as_tuple=True), np.nonzero(x > 0)):
        assert_equal(got, want.astype(np.int32))
    assert_equal(t.masked_fill(t < 0, 0.0), np.where(x < 0, np.float16(0), x))


def test_slices_over_time_steps_add_their_gradients_where_nobody_else_sees_them(device, rng):
    # Each t[:, i] slice's backward adds into the gradient its source has so far, in place, where only the
    # engine holds it; a gradient also handed to another input (d's, from an add) or kept by a hook must stay.
    data, other = f16_randn(rng, (4, 6, 3)), f16_randn(rng, (4, 6, 3))

    def run(lib, x, d, seen):
        h = x * 2.0
        h.register_hook(lambda g: seen.append(g.clone()))
        s = (h + d) * 1.0  # add's backward gives h and d one gradient tensor
        total = (s[:, 0] * s[:, 5]).sum() + s.sum()
        for i in range(6):
            total = total + (h[:, i] * float(i + 1)).sum() + (x[:, i, 1:] * h[:, i, :2]).sum()
        total.backward()
        return x.grad, d.grad, seen[0]

    x, d = tl.tensor(data, device=device, requires_grad=True), tl.tensor(other, device=device, requires_grad=True)
    xt = torch.tensor(data.astype(np.float32), requires_grad=True)
    dt = torch.tensor(other.astype(np.float32), requires_grad=True)
    for ours, theirs in zip(run(tl, x, d, []), run(torch, xt, dt, [])):
        assert_close_f16(ours, theirs.numpy(), rtol=2e-2, atol=2e-2)


def test_range_indices_as_torch(device, rng):
    """A range is an integer index, as in PyTorch: the Forward-Forward example writes a one-hot label into each
    row with x[range(x.shape[0]), y] = x.max()."""
    x = f16_randn(rng, (5, 7))
    y = rng.integers(0, 7, 5)
    expected = torch.from_numpy(x.copy())
    expected[range(5), torch.from_numpy(y)] = expected.max()
    t = tl.tensor(x, device=device)
    t[range(t.shape[0]), tl.tensor(y, device=device)] = t.max()
    assert_equal(t, expected.numpy())
    assert_equal(t[range(1, 4), range(3)], expected[range(1, 4), range(3)].numpy())
    assert t[range(0)].shape == (0, 7)


def test_hostile_index_items_raise_index_errors(device):
    """Found by tests/fuzz_ops.py: an int beyond int64 reached the native select (pybind11's "incompatible function
    arguments"), a ragged list numpy's "setting an array element with a sequence"."""
    t = tl.arange(10.0, device=device).reshape(2, 5)
    for key in (2**63, -(2**70), (0, 2**63), (slice(None), 10**30), [1, [2]], [[1], [1, 2]]):
        with pytest.raises(IndexError):
            t[key]
        with pytest.raises(IndexError):
            t[key] = 1.0
    with pytest.raises(MemoryError, match="does not fit in memory"):  # numpy's MemoryError had no message
        t[range(-1, 2**62)]
