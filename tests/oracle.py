"""Comparing TensorLogic with an oracle (PyTorch or numpy in float32/float64 on the same f16 inputs): random
f16 data, host copies, non-contiguous views, and the closeness checks every test file uses.

Tolerances follow from f16 rounding, stated once here: an f16 value carries 11 significant bits, so one
rounding is off by at most half an ulp, 2^-11 relative. An op that rounds once (the oracle's exact result
rounded to f16, against ours computed in f32 and rounded) may land one ulp (2^-10) away; RTOL allows two
ulps, and ATOL the same near zero, where relative error means nothing. Kernels checked on every f16 value
are held to ULPS steps of the f16 grid instead."""
import numpy as np
import torch

import tensorlogic as tl

F16_ULP = 2.0 ** -10  # the spacing of f16 values in [1, 2)
RTOL = 2e-3  # two ulps, relative
ATOL = 1e-3  # about one ulp at 1, for results that cancel to near zero
ULPS = 1  # steps of the f16 grid allowed for a kernel tested on every f16 value


# ---- data ----------------------------------------------------------------------------------------------
def f16_randn(rng, shape, scale=1.0):
    """Normal random values already rounded to float16: the exact inputs both sides see."""
    return np.asarray(rng.standard_normal(shape) * scale).astype(np.float16)


def f16_uniform(rng, shape, low=-1.0, high=1.0):
    return np.asarray(rng.uniform(low, high, shape)).astype(np.float16)


def f16(rng, *shape, scale=1.0):
    """Random f16 values as float64: exactly our inputs, for an oracle that computes in float64."""
    return f16_randn(rng, shape, scale).astype(np.float64)


def to_tl(x, device):
    """A tensor of x's values and dtype (float16 or int32) on `device`."""
    return tl.tensor(x, device=device)


def f16_tensor(values, device):
    """A float16 tensor of `values` (any numbers, e.g. the float64 copies of `f16`) on `device`."""
    return tl.tensor(np.asarray(values, dtype=np.float16), device=device)


def torch_of(x):
    return torch.from_numpy(np.asarray(x, dtype=np.float32))


def t64(x):
    return torch.from_numpy(np.asarray(x, dtype=np.float64))


def host(t):
    """A numpy copy of a tensor's data wherever it lives."""
    return np.array(t.cpu().numpy() if isinstance(t, tl.Tensor) else t)


def strided(x, device):
    """A non-contiguous TensorLogic view equal to `x`: every other element of a wider array's last dim."""
    x = np.asarray(x)
    if x.ndim == 0:
        return tl.tensor(x, device=device)
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
    wide[..., ::2] = x
    view = tl.tensor(wide, device=device)[..., ::2]
    assert not view.is_contiguous() or x.shape[-1] <= 1 or x.size == 0
    return view


def transposed(x, device):
    """A non-contiguous view equal to `x` (2-d or more): the transpose of a contiguous transposed copy."""
    x = np.asarray(x)
    return tl.tensor(np.ascontiguousarray(np.swapaxes(x, -1, -2)), device=device).transpose(-1, -2)


# ---- closeness -----------------------------------------------------------------------------------------
def assert_close_f16(actual, expected, rtol=RTOL, atol=ATOL):
    """actual (a Tensor or array) against an oracle computed in float32/64 and rounded to float16 once:
    |a - e| <= atol + rtol * |e| elementwise, infinities and NaNs in the same places, same shape."""
    a = host(actual).astype(np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = e.astype(np.float16).astype(np.float64)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), f"NaN positions differ: {np.argwhere(nan_a != nan_e)[:5].tolist()}"
    inf_e = np.isinf(e)
    assert np.array_equal(a[inf_e], e[inf_e]), "infinities differ"
    ok = ~(nan_e | inf_e)
    err = np.abs(a[ok] - e[ok])
    bound = atol + rtol * np.abs(e[ok])
    if err.size and not np.all(err <= bound):
        worst = int(np.argmax(err - bound))
        raise AssertionError(f"{int(np.sum(err > bound))} of {err.size} values differ; worst: got {a[ok][worst]!r}, "
                             f"expected {e[ok][worst]!r} (|diff| {err[worst]:.3g} > {bound[worst]:.3g})")


def assert_close_to_scale(got, ref, rtol=RTOL, atol_scale=1e-3):
    """assert_close_f16 with the absolute slack relative to the largest magnitude of the result (sums
    of many terms cancel to values far below the terms' size)."""
    ref = np.asarray(ref, dtype=np.float64)
    scale = max(1.0, float(np.nanmax(np.abs(ref)))) if ref.size else 1.0
    assert_close_f16(got, ref, rtol=rtol, atol=atol_scale * scale)


def assert_grad_close(ours, ref, rtol, what, atol=ATOL):
    """A gradient (a Tensor, or None for zero) against PyTorch's (float64, not rounded): each op of a
    gradient's short chain rounds once, so errors scale with each element and with the largest one (sums
    of products)."""
    a = host(ours).astype(np.float64) if ours is not None else np.zeros(ref.shape)
    e = ref.detach().numpy(force=True)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    bound = rtol * (np.abs(e) + np.abs(e).max(initial=0.0)) + atol
    err = np.abs(a - e)
    if not (err <= bound).all():
        k = np.unravel_index(int(np.argmax(err - bound)), e.shape)
        raise AssertionError(f"{what}: worst element {k}: got {a[k]}, expected {e[k]} (|diff| {err[k]:.3g} > "
                             f"{bound[k]:.3g})")


def assert_matches_torch(got, want, lx, tx, rng, device, tol, grad_tol):
    """An op's TensorLogic result `got` (of input lx) against PyTorch's `want` (of tx) within tol (rtol,
    atol), then the input gradients from one random f16 upstream gradient within grad_tol."""
    np.testing.assert_allclose(host(got).astype(np.float64), want.detach().numpy(), rtol=tol[0], atol=tol[1])
    g = f16_randn(rng, tuple(want.shape))
    (want * torch.tensor(g.astype(np.float32))).sum().backward()
    (got * tl.tensor(g, device=device)).sum().backward()
    np.testing.assert_allclose(host(lx.grad).astype(np.float64), tx.grad.numpy(), rtol=grad_tol[0],
                               atol=grad_tol[1])


def twin(x, device, grad=False):
    """The f16 array x as a TensorLogic tensor on device and as a float64 PyTorch tensor, both leaves (requiring grad
    when grad)."""
    return tl.tensor(x, device=device, requires_grad=grad), torch.tensor(x.astype(np.float64), requires_grad=grad)


def assert_grads_like_torch(got, want, pairs, rng, device, rtol, atol):
    """The gradients of the (ours, theirs) leaf pairs through got and want (each's own library) from one random f16
    upstream gradient, within assert_grad_close's bound."""
    g = f16_randn(rng, tuple(want.shape))
    (got * tl.tensor(g, device=device)).sum().backward()
    (want * torch.tensor(g.astype(np.float64))).sum().backward()
    for k, (ours, theirs) in enumerate(pairs):
        assert_grad_close(ours.grad, theirs.grad, rtol, f"input {k}", atol=atol)


def assert_equal(actual, expected):
    """Exact comparison (indexing moves values without arithmetic), dtype kind included."""
    a, e = host(actual), np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    np.testing.assert_array_equal(a, e)


def assert_same_bits(got, want):
    """Bit-for-bit equality (NaNs only in the same places, whatever their payload)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    if got.dtype == np.float16:
        np.testing.assert_array_equal(got.view(np.uint16)[~np.isnan(want)], want.view(np.uint16)[~np.isnan(want)])
        assert np.array_equal(np.isnan(got), np.isnan(want))
    else:
        np.testing.assert_array_equal(got, want)


def ulp_distance(a, b):
    """Distance in f16 steps (0 between NaNs and between +0 and -0; large when only one is NaN); bool
    results (comparisons, logical ops) count as 0/1."""
    a, b = (x.astype(np.float16) if x.dtype == np.bool_ else x for x in (np.asarray(a), np.asarray(b)))

    def key(x):
        bits = x.view(np.uint16).astype(np.int32)
        return np.where(bits & 0x8000, -(bits & 0x7FFF), bits)
    d = np.abs(key(a) - key(b))
    na, nb = np.isnan(a), np.isnan(b)
    return np.where(na & nb, 0, np.where(na | nb, 1 << 20, d))


def assert_ulp(actual, expected, inputs=None, max_ulp=ULPS, label="", atol=0.0):
    """actual (f16) within max_ulp steps of the f16 grid of expected (any float type, rounded to f16 once),
    or within atol; NaNs in the same places. Non-f16 results (int32) must be equal."""
    actual = np.asarray(actual)
    if actual.dtype != np.float16:
        np.testing.assert_array_equal(actual, expected)
        return
    with np.errstate(over="ignore"):
        expected = np.asarray(expected, dtype=np.float64).astype(np.float16)
    assert actual.shape == expected.shape, f"{label}: shape {actual.shape} != expected {expected.shape}"
    inputs = actual if inputs is None else inputs
    d = ulp_distance(actual, expected)
    if atol:
        with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity
            d = np.where(np.abs(actual.astype(np.float64) - expected) <= atol, 0, d)
    bad = np.flatnonzero(d > max_ulp)
    assert bad.size == 0, (f"{label}: {bad.size} values off by more than {max_ulp} ulp; first inputs "
                           f"{np.asarray(inputs).reshape(-1)[bad[:5]]} -> {actual.reshape(-1)[bad[:5]]}, "
                           f"expected {expected.reshape(-1)[bad[:5]]}")


def assert_close_to_largest(ours, expected, ulps=2):
    """Within `ulps` f16 ulps (2 by default) of the largest expected value: compositions round each step, and
    where terms cancel (a difference of distances, a sum of products) the error is relative to the terms, not
    to the result."""
    expected = np.asarray(expected, np.float64)
    largest = float(np.abs(expected[np.isfinite(expected)]).max(initial=0.0))
    assert_close_f16(ours, expected, atol=1e-3 + 1e-3 * ulps * largest)


def f16_pairs(rng, device, *shapes, scale=1.0):
    """The same f16 values as tl tensors and as float64 torch tensors: ([tl...], [torch...])."""
    arrays = [f16_randn(rng, s, scale) for s in shapes]
    return [tl.tensor(a, device=device) for a in arrays], [torch.tensor(a.astype(np.float64)) for a in arrays]


def assert_tree_close(ours, ref, rtol=1e-2, what="", sequence_type=None):
    """Trees of tensors (dicts, tuples, lists) compared leaf by leaf: each value within rtol of itself and of the
    largest. Where ref has a tuple or list, ours must be a `sequence_type` (None: of ref's own type) of its length."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict) and list(ours) == list(ref), f"{what}: keys {list(ours)} != {list(ref)}"
        for k in ref:
            assert_tree_close(ours[k], ref[k], rtol, f"{what}[{k!r}]", sequence_type)
        return
    if isinstance(ref, (tuple, list)):
        layout = isinstance(ours, sequence_type) if sequence_type else type(ours) is type(ref)
        assert layout and len(ours) == len(ref), f"{what}: layout {type(ours)} vs {type(ref)}"
        for i, (a, b) in enumerate(zip(ours, ref)):
            assert_tree_close(a, b, rtol, f"{what}[{i}]", sequence_type)
        return
    e = ref.detach().double().numpy()
    a = ours.detach().cpu().numpy().astype(np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * max(1.0, np.abs(e).max(initial=0.0)), err_msg=what)
