"""Scenarios of tests/fuzz_surfaces.py checked against PyTorch on the same float16 data: sequences of in-place shape
changes (t_ squeeze_ unsqueeze_ transpose_ swapdims_ resize_ resize_as_) on a tensor while a view of it is alive,
and the index updates and exact ops added last (scatter_reduce and index_reduce over every dtype, masked_scatter,
put, index_put_, the view scatters, gcd/lcm, linalg.vander, the window functions), numbers at the edges of float64
and int64 (arange, clamp, unravel_index, combinations, neg), and grid_sample's pixel coordinates (wide inputs, grid
points on boundaries, far outside and not finite). Where PyTorch returns, ours must
return the same values (or refuse with a typed error: a difference of strictness, not a failure); any error of ours
must be typed, and no other tensor may change."""
import numpy as np
import torch

import tensorlogic as tl

TORCH_DTYPES = {"float16": torch.float16, "int32": torch.int32, "int64": torch.int64, "bool": torch.bool}
TYPED = (ValueError, TypeError, RuntimeError, IndexError, NotImplementedError, OverflowError)


def _pair(maker, shape, dtype=None):
    """The same data as a tensor of ours and one of PyTorch's (float16 rounded; small integers; bools)."""
    dtype = dtype or maker.pick(list(TORCH_DTYPES))
    if dtype == "float16":
        data = (maker.rng.standard_normal(shape) * 3).astype(np.float16)
    elif dtype == "bool":
        data = maker.rng.random(shape) < 0.5
    else:
        data = maker.rng.integers(-6, 7, shape).astype(np.int64 if dtype == "int64" else np.int32)
    return tl.tensor(data, dtype=getattr(tl, dtype)), torch.from_numpy(np.array(data))


def _same(ours, theirs, what, tolerance=4e-3):
    """Ours equals PyTorch's result (float16 to within `tolerance` of the larger values: an f32 accumulation, by
    default)."""
    if isinstance(theirs, (tuple, list)):
        for o, t in zip(ours, theirs):
            _same(o, t, what, tolerance)
        return
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    want = theirs.detach().numpy()
    got = ours.detach().numpy()
    if want.dtype.kind == "f" or got.dtype.kind == "f":
        want64, got64 = want.astype(np.float64), got.astype(np.float64)
        scale = np.nanmax(np.abs(want64[np.isfinite(want64)]), initial=1.0)
        np.testing.assert_allclose(got64, want64, rtol=tolerance, atol=tolerance * scale, equal_nan=True, err_msg=what)
    else:
        assert got.dtype.kind == want.dtype.kind or want.dtype == bool, f"{what}: dtype {got.dtype} vs {want.dtype}"
        np.testing.assert_array_equal(got, want, err_msg=what)


def _both(ours, theirs, what, tolerance=4e-3):
    """Runs PyTorch's call, then ours: the same values where PyTorch returns. Where PyTorch raises, ours may raise
    (tally() sees whether its error is typed) or return: PyTorch's CPU kernels refuse dtypes ours take (float16
    vander, bool index_reduce)."""
    try:
        want = theirs()
    except Exception:  # noqa: BLE001 (PyTorch's error, any kind)
        ours()
        return None
    got = ours()  # a typed error here is a stricter refusal; tally() counts it
    _same(got, want, what, tolerance)
    return got


INPLACE = ["t_", "squeeze_", "unsqueeze_", "transpose_", "swapdims_", "resize_", "resize_as_"]


def inplace_view_scenario(maker):
    """In-place shape changes on a tensor (or on a view of it) while the other is alive: both stay equal to
    PyTorch's after each step, and a refusal changes nothing."""
    shape = tuple(maker.pick([1, 2, 3]) for _ in range(int(maker.rng.integers(1, 4))))
    x, tx = _pair(maker, shape, "float16")
    view_of = maker.pick(["flat", "first", "same"])
    if view_of == "flat":
        v, tv = x.view(-1), tx.view(-1)
    elif view_of == "first":
        v, tv = x[0], tx[0]
    else:
        v, tv = x.view(shape), tx.view(shape)
    for _ in range(int(maker.rng.integers(1, 5))):
        target, ttarget = maker.pick([(x, tx), (v, tv)])
        op = maker.pick(INPLACE)
        nd = max(ttarget.ndim, 1)
        args = {"t_": (), "squeeze_": maker.pick([(), (int(maker.rng.integers(-nd, nd)),)]),
                "unsqueeze_": (int(maker.rng.integers(-nd - 1, nd + 1)),),
                "transpose_": (int(maker.rng.integers(-nd, nd)), int(maker.rng.integers(-nd, nd))),
                "swapdims_": (int(maker.rng.integers(-nd, nd)), int(maker.rng.integers(-nd, nd))),
                # (shrinking or keeping the count: a grown tensor's new elements are uninitialised in both)
                "resize_": (tuple(maker.pick([1, 2, 3]) for _ in range(int(maker.rng.integers(0, 3)))),),
                "resize_as_": None}[op]
        if op == "resize_as_":
            template, ttemplate = _pair(maker, tuple(maker.pick([1, 2]) for _ in range(int(maker.rng.integers(0, 3)))))
            args, targs = (template,), (ttemplate,)
        else:
            targs = args
        if op.startswith("resize") and int(np.prod(args[0].shape if op == "resize_as_" else args[0])) > ttarget.numel():
            continue
        before = [(t.numpy().copy(), tuple(t.shape)) for t in (x, v)]
        try:
            getattr(ttarget, op)(*targs)
        except Exception:  # noqa: BLE001
            try:
                getattr(target, op)(*args)
            except TYPED:
                assert _unchanged((x, v), before), f"{op}{args} changed a tensor and raised"
                continue
            raise AssertionError(f"{op}{args}: PyTorch raises, ours returns")
        try:
            getattr(target, op)(*args)
        except TYPED:  # a documented refusal (resize_ of a non-contiguous tensor): nothing changed, stop here
            assert _unchanged((x, v), before), f"{op}{args} changed a tensor and raised"
            return
        _same(x, tx, f"the tensor after {op}{args}")
        _same(v, tv, f"its view after {op}{args}")


def _unchanged(tensors, before):
    return all(np.array_equal(t.numpy(), b) and tuple(t.shape) == s for t, (b, s) in zip(tensors, before))


def _reduce_case(maker):
    dtype = maker.pick(list(TORCH_DTYPES))
    n = int(maker.rng.integers(1, 5))
    x, tx = _pair(maker, (n, 2), dtype)
    k = int(maker.rng.integers(0, 6))
    src, tsrc = _pair(maker, (k, 2), dtype if maker.chance(0.9) else maker.pick(list(TORCH_DTYPES)))
    index = maker.rng.integers(-1 if maker.chance(0.1) else 0, n + (1 if maker.chance(0.1) else 0), k)
    reduce = maker.pick(["sum", "prod", "mean", "amax", "amin", "x"])
    include_self = maker.chance(0.5)
    if maker.chance(0.5):
        spread = np.repeat(index[:, None], 2, 1)
        return (lambda: x.scatter_reduce(0, tl.tensor(spread), src, reduce, include_self=include_self),
                lambda: tx.scatter_reduce(0, torch.from_numpy(spread), tsrc, reduce, include_self=include_self),
                f"scatter_reduce {reduce} {dtype}")
    return (lambda: x.index_reduce(0, tl.tensor(index), src, reduce, include_self=include_self),
            lambda: tx.index_reduce(0, torch.from_numpy(index), tsrc, reduce, include_self=include_self),
            f"index_reduce {reduce} {dtype}")


def _masked_scatter_case(maker):
    dtype = maker.pick(list(TORCH_DTYPES))
    shape = tuple(maker.pick([1, 2, 3]) for _ in range(int(maker.rng.integers(0, 3))))
    x, tx = _pair(maker, shape, dtype)
    mask_shape = shape[int(maker.rng.integers(0, len(shape) + 1)):] if maker.chance(0.8) else (2, 1, 3)
    mask, tmask = _pair(maker, mask_shape, "bool" if maker.chance(0.9) else "int64")
    src, tsrc = _pair(maker, (int(maker.rng.integers(0, 8)),), dtype)
    return (lambda: x.masked_scatter(mask, src), lambda: tx.masked_scatter(tmask, tsrc), f"masked_scatter {dtype}")


def _put_case(maker):
    dtype = maker.pick(list(TORCH_DTYPES))
    x, tx = _pair(maker, (2, 3), dtype)
    accumulate = maker.chance(0.5) and dtype != "bool"
    if maker.chance(0.5):  # put: flat positions (out of range ones now and then)
        k = int(maker.rng.integers(0, 5))
        index = maker.rng.integers(-7, 7, k)
        if not accumulate and len(set((index % 6).tolist())) != k:
            index = np.arange(k) - 3  # repeated positions: which write wins is unspecified (as in PyTorch)
        src, tsrc = _pair(maker, (k if maker.chance(0.9) else k + 1,), dtype)
        return (lambda: x.put(tl.tensor(index), src, accumulate),
                lambda: tx.put(torch.from_numpy(index), tsrc, accumulate), f"put {dtype}")
    rows = maker.rng.integers(-2, 2, int(maker.rng.integers(0, 4))) if accumulate else maker.rng.permutation(2)[:2]
    src, tsrc = _pair(maker, (len(rows), 3) if maker.chance(0.9) else (1, 2), dtype)
    return (lambda: x.clone().index_put_((tl.tensor(rows),), src, accumulate),
            lambda: tx.clone().index_put_((torch.from_numpy(rows),), tsrc, accumulate), f"index_put_ {dtype}")


def _view_scatter_case(maker):
    dtype = maker.pick(list(TORCH_DTYPES))
    x, tx = _pair(maker, (3, 4), dtype)
    kind = maker.pick(["slice", "select", "diagonal"])
    dim = int(maker.rng.integers(-2, 2))
    if kind == "slice":
        start, end, step = maker.pick([None, 0, 1, -2, 5]), maker.pick([None, 2, -1, 9]), maker.pick([1, 2, 3])
        want_shape = list(tx.shape)
        want_shape[dim] = len(range(tx.shape[dim])[slice(start, end, step)])
        src, tsrc = _pair(maker, tuple(want_shape) if maker.chance(0.9) else (1, 1), dtype)
        return (lambda: tl.slice_scatter(x, src, dim, start, end, step),
                lambda: torch.slice_scatter(tx, tsrc, dim, start, end, step), f"slice_scatter {dtype}")
    if kind == "select":
        index = int(maker.rng.integers(-5, 5))
        src, tsrc = _pair(maker, (tx.shape[1 - dim % 2],) if maker.chance(0.9) else (7,), dtype)
        return (lambda: tl.select_scatter(x, src, dim, index), lambda: torch.select_scatter(tx, tsrc, dim, index),
                f"select_scatter {dtype}")
    offset = int(maker.rng.integers(-4, 5))
    n = len(torch.diagonal(tx, offset))
    src, tsrc = _pair(maker, (n if maker.chance(0.9) else n + 1,), dtype)
    return (lambda: tl.diagonal_scatter(x, src, offset), lambda: torch.diagonal_scatter(tx, tsrc, offset),
            f"diagonal_scatter {dtype}")


def _exact_case(maker):
    kind = maker.pick(["gcd", "lcm", "vander", "window"])
    if kind in ("gcd", "lcm"):
        dtype = maker.pick(["int32", "int64", "int64", "float16", "bool"])
        a, ta = _pair(maker, (maker.pick([1, 3]), 3), dtype)
        b, tb = _pair(maker, (3,), dtype)
        return lambda: getattr(tl, kind)(a, b), lambda: getattr(torch, kind)(ta, tb), f"{kind} {dtype}"
    if kind == "vander":
        x, tx = _pair(maker, (int(maker.rng.integers(0, 4)),), maker.pick(["int64", "float16"]))
        n = maker.pick([None, 0, 1, 3, -1])
        return (lambda: tl.linalg.vander(x, N=n), lambda: torch.linalg.vander(tx, N=n), "linalg.vander")
    name = maker.pick(["hann_window", "hamming_window", "bartlett_window", "blackman_window", "kaiser_window"])
    length, periodic = maker.pick([0, 1, 2, 7, 16, -1]), maker.chance(0.5)
    return (lambda: getattr(tl, name)(length, periodic),
            lambda: getattr(torch, name)(length, periodic).half(), name)


# Integers where float64 stops being exact (2^53) and int64 ends, and bounds that are not numbers at all: arange went
# through float64 (arange(2**62, 2**62 + 3) was empty), clamp's kernels ignored a NaN bound, unravel_index's shape
# product wrapped in numpy (attack round 4).
_EDGE_INTS = [0, 3, -7, 2**53 - 1, 2**53 + 1, -(2**53) - 3, 2**62, 2**62 + 5, -(2**62), 2**63 - 9, -(2**63) + 2]
_EDGE_BOUNDS = [float("nan"), float("inf"), float("-inf"), 0.5, -2, 3, 2**40, None]


def _edge_case(maker):
    kind = maker.pick(["arange", "clamp", "unravel_index", "combinations", "neg"])
    if kind == "arange":
        start = maker.pick(_EDGE_INTS)
        step = maker.pick([1, 2, -1, -3, 2**40, -(2**61)])
        end = start + step * int(maker.rng.integers(-1, 4)) + maker.pick([0, 1, -1])  # |end - start| < 2^63
        return lambda: tl.arange(start, end, step), lambda: torch.arange(start, end, step), f"arange{start, end, step}"
    if kind == "clamp":
        x, tx = _pair(maker, (maker.pick([3, 40]),), maker.pick(["float16", "int64", "int32"]))
        low, high = maker.pick(_EDGE_BOUNDS), maker.pick(_EDGE_BOUNDS)
        if low is None and high is None:
            low = float("nan")
        def theirs():  # a float bound on integers gives PyTorch's float32, ours float16 (where 2^40 is inf)
            out = tx.clamp(low, high)
            return out.half() if out.is_floating_point() else out
        return lambda: x.clamp(low, high), theirs, f"clamp({low}, {high}) {x.dtype}"
    if kind == "unravel_index":
        shape = maker.pick([(3, 4), (2**32, 2**32), (2**62, 2**62), (5, 2**61), (2**31, 3, 7)])
        flat = [int(v) for v in maker.rng.integers(-12, 12, 4)]
        return (lambda: tl.unravel_index(tl.tensor(flat), shape),
                lambda: torch.unravel_index(torch.tensor(flat), shape), f"unravel_index({flat}, {shape})")
    if kind == "combinations":
        x, tx = _pair(maker, (int(maker.rng.integers(0, 6)),), maker.pick(["float16", "int64"]))
        r, rep = int(maker.rng.integers(0, 5)), maker.chance(0.5)
        return (lambda: tl.combinations(x, r, rep), lambda: torch.combinations(tx, r, rep),
                f"combinations(n={x.shape[0]}, r={r}, with_replacement={rep})")
    x, tx = _pair(maker, (3,))
    return lambda: -x, lambda: -tx, f"neg {x.dtype}"


# grid_sample's pixel coordinates: inputs hundreds of pixels wide, grid points on pixel and half-pixel boundaries, at
# the edges, far outside and not finite (an f16 pixel coordinate picked wrong pixels there: attack round 5).
_GRID_SPECIALS = [-1.0, 1.0, 0.0, 40.0, -3000.0, 65504.0, float("nan"), float("inf"), float("-inf")]


def _sampling_case(maker):
    mode, padding = maker.pick(["bilinear", "nearest", "bicubic"]), maker.pick(["zeros", "border", "reflection"])
    align = maker.chance(0.5)
    sizes = [int(maker.rng.integers(1, 40)), int(maker.pick([1, 5, 64, 300]))]
    x, tx = _pair(maker, (1, 2, *sizes), "float16")
    points = []
    for size in reversed(sizes):
        pixel = maker.rng.integers(-2, size + 2, 12) + maker.rng.choice([0.0, 0.5, 0.25, 0.9], 12)
        on_grid = pixel / max(size - 1, 1) * 2 - 1 if align else (2 * pixel + 1) / size - 1
        points.append(np.concatenate([on_grid, maker.rng.choice(_GRID_SPECIALS, 4)]))
    g = np.stack(points, -1).astype(np.float16).reshape(1, 4, 4, 2)
    return (lambda: tl.nn.functional.grid_sample(x, tl.tensor(g), mode, padding, align),
            lambda: torch.nn.functional.grid_sample(tx.double(), torch.from_numpy(g.astype(np.float64)), mode,
                                                    padding, align),
            f"grid_sample {mode} {padding} align_corners={align} input {sizes}")


def oracle_scenario(maker):
    """One call of an index update, exact op, edge-number op or grid_sample on random data, against PyTorch."""
    ours, theirs, what = maker.pick([_reduce_case, _masked_scatter_case, _put_case, _view_scatter_case,
                                     _exact_case, _edge_case, _sampling_case])(maker)
    # (bicubic sums 16 products of f16 weights and values, each rounded: tests/test_grid_sample.py's 6 ulps)
    _both(ours, theirs, what, 6e-3 if what.startswith("grid_sample bicubic") else 4e-3)


SCENARIOS = (inplace_view_scenario, oracle_scenario)
