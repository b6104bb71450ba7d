"""Ops and functional names real PyTorch programs call, against PyTorch CPU on the same f16-rounded inputs: the
aliases (row_stack, ger, F.upsample*), combinations, vander, gradient, histogram, dist, renorm, randint_like,
frexp/ldexp/nextafter, get_device, set_default_tensor_type, the bitwise ops and operators, F.pdist,
triplet_margin_with_distance_loss, multilabel_margin_loss and multi_head_attention_forward."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_f16, f16_randn, host


def _t(x, device, grad=False):
    return tl.tensor(x, device=device, requires_grad=grad)


def _ref(x, grad=False):
    return torch.from_numpy(np.asarray(x)).double().requires_grad_(grad)


def test_aliases_and_tensor_queries(device, rng):
    a, b = f16_randn(rng, (3,)), f16_randn(rng, (4,))
    assert_close_f16(tl.ger(_t(a, device), _t(b, device)), torch.ger(_ref(a), _ref(b)).numpy())
    assert_close_f16(_t(a, device).ger(_t(b, device)), torch.ger(_ref(a), _ref(b)).numpy())
    rows = tl.row_stack([_t(a, device), _t(a, device)])
    assert_close_f16(rows, torch.row_stack([_ref(a), _ref(a)]).numpy())
    want = -1 if device == "cpu" else tl.device(device).index
    assert _t(a, device).get_device() == tl.get_device(_t(a, device)) == want
    assert torch.ones(1).get_device() == -1


def test_combinations_and_vander(device, rng):
    x = f16_randn(rng, (5,))
    for r, rep in ((2, False), (3, True), (1, False), (6, False), (0, False)):
        got, want = tl.combinations(_t(x, device), r, rep), torch.combinations(_ref(x), r, rep)
        assert tuple(got.shape) == tuple(want.shape)
        assert_close_f16(got, want.numpy())
    xs = _t(x, device, grad=True)
    tl.combinations(xs, 2, True).square().sum().backward()
    rx = _ref(x, grad=True)
    torch.combinations(rx, 2, True).square().sum().backward()
    assert_close_f16(xs.grad, rx.grad.numpy())
    ints = np.array([2, -3, 1, 4])
    assert tl.vander(_t(ints, device)).tolist() == torch.vander(torch.from_numpy(ints)).tolist()
    assert tl.vander(_t(ints, device), 2, True).tolist() == torch.vander(torch.from_numpy(ints), 2, True).tolist()
    small = f16_randn(rng, (4,), 0.7)
    assert_close_f16(tl.vander(_t(small, device), 5), torch.vander(_ref(small), 5).numpy())
    xs = _t(small, device, grad=True)
    tl.vander(xs, 4).sum().backward()  # d/dx (1 + x + x^2 + x^3); PyTorch's vander backward fails (in-place)
    assert_close_f16(xs.grad, 1 + 2 * small.astype(np.float64) + 3 * small.astype(np.float64) ** 2)
    with pytest.raises(tl.ShapeMismatchError):
        tl.combinations(_t(np.ones((2, 2)), device))
    with pytest.raises(ValueError):
        tl.vander(_t(small, device), -1)


def test_gradient_uniform_coordinates_and_edges(device, rng):
    x = f16_randn(rng, (6, 5))
    # spacings of at least 0.25 (the maximum of sorted draws with their predecessor + 0.25, as before, left some
    # near 0: divided differences then reached 200 and rounded past the bound, seed 536288650)
    coords = np.cumsum(0.25 + rng.uniform(0, 0.75, 6)).astype(np.float16)
    cases = [dict(), dict(spacing=2.0), dict(dim=1), dict(spacing=[0.5, 3.0], dim=(0, 1)), dict(edge_order=2),
             dict(spacing=(coords,), dim=0), dict(spacing=(coords,), dim=0, edge_order=2)]
    for kw in cases:
        ours = {k: tuple(_t(c, device) for c in v) if k == "spacing" and isinstance(v, tuple) else v
                for k, v in kw.items()}
        theirs = {k: tuple(_ref(c) for c in v) if k == "spacing" and isinstance(v, tuple) else v
                  for k, v in kw.items()}
        got, want = tl.gradient(_t(x, device), **ours), torch.gradient(_ref(x), **theirs)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_close_f16(g, w.numpy(), rtol=1e-2, atol=1e-2)  # differences of f16 values, divided
    assert_close_f16(tl.gradient(_t(np.array([1, 3, 7]), device))[0], [2.0, 3.0, 4.0])
    with pytest.raises(tl.ShapeMismatchError):
        tl.gradient(_t(np.ones(2, np.float16), device), edge_order=2)
    with pytest.raises(ValueError):
        tl.gradient(_t(x, device), edge_order=3)
    with pytest.raises(ValueError):
        tl.gradient(_t(x, device), spacing=[1.0, 2.0, 3.0])


def test_histogram(device, rng):
    x = (rng.integers(-16, 16, (40,)) / 4).astype(np.float16)  # on the edges' grid: exact in both
    w = np.abs(f16_randn(rng, (40,)))
    for kw in (dict(bins=16, range=(-4.0, 4.0)), dict(bins=16, range=(-4.0, 4.0), density=True),
               dict(bins=8, range=(-2.0, 2.0), weight=w)):
        ours = {k: _t(v, device) if k == "weight" else v for k, v in kw.items()}
        theirs = {k: _ref(v).float() if k == "weight" else v for k, v in kw.items()}
        got, want = tl.histogram(_t(x, device), **ours), torch.histogram(_ref(x).float(), **theirs)
        assert_close_f16(got.hist, want.hist.double().numpy())
        assert_close_f16(got.bin_edges, want.bin_edges.double().numpy())
    edges = np.array([-4, -1, 0, 0.5, 4], np.float16)
    got = _t(x, device).histogram(_t(edges, device))
    assert host(got.hist).tolist() == torch.histogram(_ref(x).float(), _ref(edges).float()).hist.tolist()
    one = tl.histogram(_t(np.array([1.0, 1.0], np.float16), device), 4)
    assert host(one.bin_edges).tolist() == [0.5, 0.75, 1.0, 1.25, 1.5] and host(one.hist).tolist() == [0, 0, 2, 0]
    with pytest.raises(TypeError):
        tl.histogram(_t(np.array([1, 2]), device), 3)
    with pytest.raises(ValueError):
        tl.histogram(_t(x, device), 3, range=(2.0, 1.0))


def test_dist_and_renorm_with_gradients(device, rng):
    a, b = f16_randn(rng, (3, 4)), f16_randn(rng, (4,))
    for p in (2, 1, 0, 3.5, float("inf")):
        assert_close_f16(tl.dist(_t(a, device), _t(b, device), p), torch.dist(_ref(a), _ref(b), p).numpy())
    for p, dim, maxnorm in ((2, 0, 1.0), (1, 1, 1.5), (3, -1, 0.5)):
        xs, rx = _t(a, device, grad=True), _ref(a, grad=True)
        out, want = tl.renorm(xs, p, dim, maxnorm), torch.renorm(rx, p, dim, maxnorm)
        assert_close_f16(out, want.detach().numpy())
        out.square().sum().backward()
        want.square().sum().backward()
        assert_close_f16(xs.grad, rx.grad.numpy(), rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError):
        tl.renorm(_t(a, device), -1, 0, 1.0)
    with pytest.raises(tl.ShapeMismatchError):
        tl.renorm(_t(b, device), 2, 0, 1.0)


def test_randint_like_keeps_the_input_dtype(device):
    x = tl.ones(200, device=device)
    r = tl.randint_like(x, 3, 10)
    assert r.dtype == tl.float16 and r.device == x.device and set(r.tolist()) <= set(range(3, 10))
    assert tl.randint_like(x, 4, dtype=tl.int64).dtype == tl.int64
    assert tl.randint_like(tl.ones(5, dtype=tl.int32, device=device), high=2).dtype == tl.int32
    with pytest.raises(TypeError):
        tl.randint_like(x)


def test_float_parts_are_exact(device, rng):
    bits = rng.integers(0, 1 << 16, 4000).astype(np.uint16).view(np.float16)
    x = np.concatenate([bits, np.float16([0.0, -0.0, np.inf, -np.inf, 6e-8, 65504.0])])
    m, e = tl.frexp(_t(x, device))
    tm, te = torch.frexp(torch.from_numpy(x))
    assert np.array_equal(host(m), tm.numpy(), equal_nan=True) and host(e).tolist() == te.tolist()
    assert e.dtype == tl.int32
    other = rng.integers(-40, 40, x.shape)
    got = tl.ldexp(_t(x, device), _t(other, device))
    with np.errstate(over="ignore", invalid="ignore"):
        want = np.ldexp(x.astype(np.float64), other).astype(np.float16)  # the exact value rounded once
    assert np.array_equal(host(got), want, equal_nan=True)
    y = rng.integers(0, 1 << 16, x.shape).astype(np.uint16).view(np.float16)
    nxt = tl.nextafter(_t(x, device), _t(y, device))
    assert np.array_equal(host(nxt), torch.nextafter(torch.from_numpy(x), torch.from_numpy(y)).numpy(), equal_nan=True)
    xs = _t(np.float16([1.5, -6.0, 0.01]), device, grad=True)
    tl.frexp(xs).mantissa.sum().backward()
    assert host(xs.grad).tolist() == [0.5, 0.125, 64.0]  # 1 / 2 ** exponent (0.01 = 0.64 * 2 ** -6)
    with pytest.raises(TypeError):
        tl.frexp(_t(np.array([1, 2]), device))
    with pytest.raises(tl.ShapeMismatchError):
        tl.nextafter(_t(np.ones(2, np.float16), device), _t(np.ones(3, np.float16), device))


def test_ldexp_with_float_exponents_overflows_only_where_its_result_does(device, rng):
    """x * 2^k with a float k past 16: exp2(k) alone overflows f16 (0.1049 * 2^19.08 gave inf for 58069, a
    hypothesis example); values and both gradients against PyTorch float64, rounded to f16."""
    x = np.concatenate([rng.uniform(-2, 2, 60), [0.1049, 1.0, 0.0, 3.0, 2.0]]).astype(np.float16)
    k = np.concatenate([rng.uniform(-30, 22, 60), [19.08, -30.5, np.inf, -np.inf, np.nan]]).astype(np.float16)
    ours = [_t(v, device, grad=True) for v in (x, k)]
    theirs = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in (x, k)]
    y, ty = tl.ldexp(*ours), torch.ldexp(*theirs)
    weights = rng.uniform(0.5, 1.5, x.shape).astype(np.float16)
    (y * _t(weights, device)).sum().backward()
    (ty * torch.tensor(weights.astype(np.float64))).sum().backward()
    in_range = np.abs(ty.detach().numpy()) <= 65504  # (beyond, k's finite gradient comes from an inf result)
    with np.errstate(over="ignore"):
        for got, want in [(y, ty), (ours[0].grad, theirs[0].grad), (ours[1].grad[in_range], theirs[1].grad[in_range])]:
            assert_close_f16(got, want.detach().numpy().astype(np.float16))


def test_set_default_tensor_type_moves_the_default_device():
    before = tl.get_default_device()
    try:
        tl.set_default_tensor_type("torch.DoubleTensor")
        assert tl.get_default_device().type == "cpu" and tl.zeros(1).dtype == tl.float16
        if tl.cuda.is_available():
            tl.set_default_tensor_type("torch.cuda.FloatTensor")
            assert tl.zeros(1).is_cuda
        else:
            with pytest.raises(tl.DeviceError, match="available"):
                tl.set_default_tensor_type("torch.cuda.FloatTensor")
        tl.set_default_tensor_type(tl.FloatTensor)
        assert tl.get_default_device().type == "cpu"
        with pytest.raises(TypeError, match="floating-point"):
            tl.set_default_tensor_type(tl.LongTensor)
        with pytest.raises(TypeError):
            tl.set_default_tensor_type("torch.NoSuchTensor")
    finally:
        tl.set_default_device(before)


# ---- bitwise ----------------------------------------------------------------------------------------------------
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"]


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_bitwise_ops_match_pytorch(device, rng, dtype):
    big = {"int64": 1 << 62, "int32": 1 << 30, "bool": 2}[dtype]
    a = rng.integers(-big if dtype != "bool" else 0, big, (4, 5)).astype(dtype)
    b = rng.integers(-big if dtype != "bool" else 0, big, (5,)).astype(dtype)
    shifts = rng.integers(-3, 70, (5,)).astype(dtype if dtype != "bool" else "int64")
    ta, tb, ts = (tl.tensor(v, device=device) for v in (a, b, shifts))
    ra, rb, rs = (torch.from_numpy(v) for v in (a, b, shifts))
    for name in BITWISE:
        other, rother = (ts, rs) if "shift" in name else (tb, rb)
        got, want = getattr(tl, name)(ta, other), getattr(torch, name)(ra, rother)
        assert got.dtype.name == str(want.dtype).replace("torch.", ""), name
        assert host(got).tolist() == want.tolist(), name
        assert host(getattr(ta, name)(other)).tolist() == want.tolist(), name
    assert host(tl.bitwise_not(ta)).tolist() == torch.bitwise_not(ra).tolist()
    for op in ("__and__", "__or__", "__xor__"):
        assert host(getattr(ta, op)(tb)).tolist() == getattr(ra, op)(rb).tolist()
    assert host(~ta).tolist() == (~ra).tolist()
    if dtype != "bool":
        assert host(ta << ts).tolist() == (ra << rs).tolist() and host(ta >> ts).tolist() == (ra >> rs).tolist()
        assert host(5 & ta).tolist() == (5 & ra).tolist() and host(ta ^ 3).tolist() == (ra ^ 3).tolist()
        assert host(1 << ts.clamp(0, 20)).tolist() == (1 << rs.clamp(0, 20)).tolist()


def test_bitwise_promotion_inplace_and_errors(device):
    i32 = tl.tensor([5, 6], dtype=tl.int32, device=device)
    i64, flags = tl.tensor([3, 3], device=device), tl.tensor([True, False], device=device)
    assert (i32 & i64).dtype == tl.int64 and (i32 & 1).dtype == tl.int32 and (flags & 1).dtype == tl.int64
    assert (flags & i32).dtype == tl.int32 and (flags ^ True).tolist() == [False, True]
    alias = i64
    i64 |= 4
    assert alias is i64 and i64.tolist() == [7, 7]
    i64 <<= 1
    assert alias.tolist() == [14, 14]
    floats = tl.tensor([1.0, 0.0], device=device)  # PyTorch refuses floats
    for call in (lambda: floats & flags, lambda: ~floats, lambda: floats | 1, lambda: tl.bitwise_and(floats, floats)):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(TypeError):
        tl.bitwise_xor(i32, 1.5)
    with pytest.raises(tl.ShapeMismatchError):
        tl.bitwise_or(tl.tensor([1, 2], device=device), tl.tensor([1, 2, 3], device=device))


# ---- functional ---------------------------------------------------------------------------------------------------
def test_deprecated_upsample_names_warn_and_interpolate(device, rng):
    x = f16_randn(rng, (1, 2, 3, 4))
    for name, kw in (("upsample", dict(scale_factor=2, mode="bilinear", align_corners=False)),
                     ("upsample_nearest", dict(size=(5, 7))), ("upsample_bilinear", dict(scale_factor=2))):
        with pytest.warns(UserWarning, match="deprecated"):
            got = getattr(F, name)(_t(x, device), **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = getattr(TF, name)(_ref(x), **kw)
        assert_close_f16(got, want.numpy())


def test_pdist_and_its_gradient(device, rng):
    x = f16_randn(rng, (5, 3))
    x[3] = x[1]  # a zero distance: zero gradient, as PyTorch's
    for p in (2, 1, 0, 3, float("inf")):
        xs, rx = _t(x, device, grad=True), _ref(x, grad=True)
        out, want = F.pdist(xs, p), TF.pdist(rx, p)
        assert_close_f16(out, want.detach().numpy())
        if p in (2, 1, 3):
            out.sum().backward()
            want.sum().backward()
            assert_close_f16(xs.grad, rx.grad.numpy(), rtol=1e-2, atol=1e-2)
    assert F.pdist(_t(np.ones((1, 3), np.float16), device)).shape == (0,)
    with pytest.raises(tl.ShapeMismatchError):
        F.pdist(_t(x[0], device))
    with pytest.raises(ValueError):
        F.pdist(_t(x, device), -1)


def test_triplet_margin_with_distance_loss(device, rng):
    a, p, n = (f16_randn(rng, (4, 3)) for _ in range(3))

    def l1(u, v):
        return (u - v).abs().sum(-1)

    for kw in (dict(), dict(margin=0.5, swap=True, reduction="none"), dict(reduction="sum")):
        for ours_fn, theirs_fn in ((None, None), (l1, l1)):
            got = F.triplet_margin_with_distance_loss(_t(a, device), _t(p, device), _t(n, device),
                                                      distance_function=ours_fn, **kw)
            want = TF.triplet_margin_with_distance_loss(_ref(a), _ref(p), _ref(n), distance_function=theirs_fn, **kw)
            assert_close_f16(got, want.numpy(), atol=8e-3)  # a difference of f16 distances up to ~4: 2 ulps each
    module = tl.nn.TripletMarginWithDistanceLoss(distance_function=l1, swap=True)
    want = torch.nn.TripletMarginWithDistanceLoss(distance_function=l1, swap=True)(_ref(a), _ref(p), _ref(n))
    assert_close_f16(module(_t(a, device), _t(p, device), _t(n, device)), want.numpy(), atol=8e-3)
    with pytest.raises(ValueError):
        F.triplet_margin_with_distance_loss(_t(a, device), _t(p, device), _t(n, device), margin=0.0)


def test_multilabel_margin_loss(device, rng):
    x = f16_randn(rng, (4, 5))
    y = np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [-1, 2, 2, 2, 2], [4, 4, -1, 0, 0]])
    for reduction in ("mean", "sum", "none"):
        xs, rx = _t(x, device, grad=True), _ref(x, grad=True)
        got = F.multilabel_margin_loss(xs, _t(y, device), reduction=reduction)
        want = TF.multilabel_margin_loss(rx, torch.from_numpy(y), reduction=reduction)
        assert_close_f16(got, want.detach().numpy())
        got.sum().backward()
        want.sum().backward()
        assert_close_f16(xs.grad, rx.grad.numpy())
    assert_close_f16(tl.nn.MultiLabelMarginLoss()(_t(x[0], device), _t(y[0], device)),
                     TF.multilabel_margin_loss(_ref(x[0]), torch.from_numpy(y[0])).numpy())
    with pytest.raises(IndexError):
        F.multilabel_margin_loss(_t(x, device), _t(np.full((4, 5), 7), device))


def _mha_case(rng, device, E, kdim, vdim):
    L, S, N, H = 3, 4, 2, 2
    q, k, v = f16_randn(rng, (L, N, E)), f16_randn(rng, (S, N, kdim)), f16_randn(rng, (S, N, vdim))
    w = {name: f16_randn(rng, shape, 0.3) for name, shape in (
        ("in_proj_weight", (3 * E, E)), ("in_proj_bias", (3 * E,)), ("bias_k", (1, 1, E)), ("bias_v", (1, 1, E)),
        ("out_proj_weight", (E, E)), ("out_proj_bias", (E,)), ("q_proj_weight", (E, E)), ("k_proj_weight", (E, kdim)),
        ("v_proj_weight", (E, vdim)))}
    return (q, k, v), w, H


@pytest.mark.parametrize("variant", ["packed", "bias_kv_zero_attn", "separate", "static"])
def test_multi_head_attention_forward_matches_pytorch(device, rng, variant):
    E = 4
    kdim, vdim = (3, 5) if variant == "separate" else (E, E)
    (q, k, v), w, H = _mha_case(rng, device, E, kdim, vdim)
    bool_mask = rng.random((3, 4 + (2 if variant == "bias_kv_zero_attn" else 0))) < 0.3
    bool_mask[:, 0] = False
    padding = np.zeros((2, 4), bool)
    padding[1, 3] = True

    def call(fn, wrap, wrap_mask):
        kwargs = dict(training=False, key_padding_mask=wrap_mask(padding), average_attn_weights=False)
        bk = bv = None
        if variant == "bias_kv_zero_attn":
            bk, bv = wrap(w["bias_k"]), wrap(w["bias_v"])
            kwargs["attn_mask"] = wrap_mask(bool_mask[:, :-2])
        else:
            kwargs["attn_mask"] = wrap_mask(bool_mask)
        if variant == "separate":
            kwargs.update(use_separate_proj_weight=True, q_proj_weight=wrap(w["q_proj_weight"]),
                          k_proj_weight=wrap(w["k_proj_weight"]), v_proj_weight=wrap(w["v_proj_weight"]))
        if variant == "static":
            kwargs.update(static_k=wrap(k.reshape(4, 2 * H, 2).transpose(1, 0, 2).copy()),
                          static_v=wrap(v.reshape(4, 2 * H, 2).transpose(1, 0, 2).copy()))
        return fn(wrap(q), wrap(k), wrap(v), E, H, wrap(w["in_proj_weight"]), wrap(w["in_proj_bias"]), bk, bv,
                  variant == "bias_kv_zero_attn", 0.0, wrap(w["out_proj_weight"]), wrap(w["out_proj_bias"]), **kwargs)

    out, weights = call(F.multi_head_attention_forward, lambda a: _t(a, device), lambda m: _t(m, device))
    ref_out, ref_weights = call(TF.multi_head_attention_forward, _ref, torch.from_numpy)
    assert_close_f16(out, ref_out.numpy())
    assert_close_f16(weights, ref_weights.numpy())


def test_multihead_attention_module_options_and_state_dict_keys(device, rng):
    for kw in (dict(add_bias_kv=True, add_zero_attn=True), dict(kdim=3, vdim=5), dict(bias=False)):
        ours, theirs = tl.nn.MultiheadAttention(4, 2, **kw), torch.nn.MultiheadAttention(4, 2, **kw)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        theirs.double().load_state_dict({k: _ref(host(v)) for k, v in ours.state_dict().items()})
        ours.to(device)
        kdim, vdim = kw.get("kdim", 4), kw.get("vdim", 4)
        q, k, v = f16_randn(rng, (3, 2, 4)), f16_randn(rng, (5, 2, kdim)), f16_randn(rng, (5, 2, vdim))
        got, got_w = ours(_t(q, device), _t(k, device), _t(v, device))
        want, want_w = theirs(_ref(q), _ref(k), _ref(v))
        assert_close_f16(got, want.detach().numpy())
        assert_close_f16(got_w, want_w.detach().numpy())
