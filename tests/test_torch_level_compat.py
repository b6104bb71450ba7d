"""torch's top-level functions that PyTorch programs call, against PyTorch CPU on the same f16-rounded inputs:
asarray (memory sharing, copy=, requires_grad=), range, scalar_tensor, empty_strided, poisson / binomial (their laws),
the scatters of views (slice/select/diagonal_scatter, values and gradients), constant_pad_nd, chain_matmul,
index_put_, detach / fill / is_signed, the losses in torch's form (an int reduction), the recurrent cells, the
start-up switches (warn_always, interop threads, flush_denormal) and nn.Buffer."""
import warnings
from functools import partial

import numpy as np
import pytest
import torch
from scipy import stats

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_f16, assert_close_to_scale, assert_equal, assert_grads_like_torch, f16_randn, host, twin
from stat_checks import assert_mean_within, assert_pmf


_pair = twin
_grads_match = partial(assert_grads_like_torch, rtol=2e-3, atol=1e-3)


# ---- creation ---------------------------------------------------------------------------------------------------
def test_asarray_shares_memory_as_torch(cpu_default):
    t = tl.ones(3)
    assert tl.asarray(t) is t and tl.asarray(t, dtype=tl.float32) is t  # (float32 is float16 here)
    assert tl.asarray(t, copy=True).data_ptr() != t.data_ptr()
    ints = np.arange(4, dtype=np.int64)
    shared = tl.asarray(ints)
    ints[0] = 7
    assert shared.tolist() == [7, 1, 2, 3] == torch.asarray(ints).tolist()
    halves = np.ones((2, 3), np.float16).T  # a strided view is viewed too
    assert tl.asarray(halves).data_ptr() == halves.ctypes.data and tl.asarray(halves).stride() == (1, 3)
    assert tl.asarray(np.ones(3, np.float32)).dtype == tl.float16  # converted (a copy)
    assert tl.asarray([1, 2]).dtype == tl.int64 and tl.asarray(3.5).dtype == tl.float16 and tl.asarray(3).ndim == 0
    assert tl.asarray(torch.arange(3)).tolist() == [0, 1, 2]  # through DLPack
    for lib in (torch, tl):
        with pytest.raises(ValueError):
            lib.asarray([1, 2], copy=False)
        with pytest.raises(ValueError):
            lib.asarray(lib.ones(2), dtype=lib.int64, copy=False)
    with pytest.raises(ValueError):
        tl.asarray(np.ones(3, np.float32), copy=False)
    with pytest.raises(TypeError):
        tl.asarray(bytearray(b"abcd"))


def test_asarray_requires_grad_as_torch(cpu_default):
    leaf = tl.ones(3, requires_grad=True)
    y = leaf * 2
    assert tl.asarray(y) is y and tl.asarray(y, requires_grad=True) is y
    alias = tl.asarray(y, requires_grad=False)
    assert not alias.requires_grad and alias.data_ptr() == y.data_ptr()
    copied = tl.asarray(y, copy=True)
    assert copied.requires_grad and copied.grad_fn is not None  # the copy keeps the history, as PyTorch's
    fresh = tl.asarray(tl.ones(2), requires_grad=True)
    assert fresh.is_leaf and fresh.requires_grad
    with pytest.raises((RuntimeError, TypeError)):
        tl.asarray(tl.ones(2, dtype=tl.int64), requires_grad=True)


def test_range_matches_torch(device):
    for args, kwargs in [((1, 4), {}), ((0, 1, 0.25), {}), ((1, 4), {"dtype": "int64"}), ((5, 1, -2), {}),
                         ((0, 0), {}), ((-1.5, 2.2, 0.7), {})]:
        lib_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
        with pytest.warns(UserWarning, match="deprecated"):
            got = tl.range(*args, device=device, **{k: getattr(tl, v) for k, v in kwargs.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.range(*args, **lib_kwargs)
        assert got.dtype == (tl.int64 if kwargs else tl.float16)
        assert_close_f16(got, want.numpy())
    for lib in (torch, tl):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="nonzero"):
                lib.range(0, 3, 0)
            with pytest.raises(RuntimeError, match="inconsistent"):
                lib.range(3, 0, 1)


def test_scalar_tensor_and_empty_strided_match_torch(device):
    for value, kwargs in [(3, {}), (True, {}), (2.5, {}), (2, {"dtype": "int64"})]:
        got = tl.scalar_tensor(value, device=device, **{k: getattr(tl, v) for k, v in kwargs.items()})
        want = torch.scalar_tensor(value, **{k: getattr(torch, v) for k, v in kwargs.items()})
        assert got.ndim == 0 and got.item() == want.item() and got.is_floating_point() == want.is_floating_point()
    for lib in (torch, tl):
        with pytest.raises(TypeError):
            lib.scalar_tensor([1])
    for size, stride in [((2, 3), (1, 2)), ((2, 3), (10, 1)), ((2, 3, 4, 5), (60, 1, 15, 3)), ((2, 3), (0, 1)),
                         ((3, 1), (1, 1)), ((2, 1), (1, 5)), ((0, 3), (3, 1)), ((), ())]:
        got = tl.empty_strided(size, stride, device=device)
        assert got.shape == size and got.stride() == torch.empty_strided(size, stride).stride()
    assert tl.empty_strided((2, 3), (3, 1), dtype=tl.int64, device=device).dtype == tl.int64
    for lib in (torch, tl):
        with pytest.raises(RuntimeError):
            lib.empty_strided((2, 3), (1,))
        with pytest.raises(RuntimeError):
            lib.empty_strided((2, 3), (-1, 1))
    with pytest.raises(NotImplementedError):
        tl.empty_strided((2, 2), (1, 1), device=device)  # overlapping: PyTorch's own storage layouts only


# ---- sampling -----------------------------------------------------------------------------------------------------
def test_poisson_and_binomial_follow_their_laws(device):
    n = 20000
    draws = host(tl.poisson(tl.full((n,), 3.5, device=device)))
    assert_pmf(draws, stats.poisson.pmf(np.arange(40), 3.5), "poisson")
    big = host(tl.poisson(tl.tensor([1000.0] * 2000, device=device))).astype(np.float64)
    assert_mean_within(big, 1000.0, np.sqrt(1000.0), atol=1.0)
    draws = host(tl.binomial(tl.full((n,), 10.0, device=device), tl.tensor([0.3], device=device)))
    assert_pmf(draws, stats.binom.pmf(np.arange(11), 10, 0.3), "binomial")
    assert host(tl.poisson(tl.zeros(5, device=device))).tolist() == [0.0] * 5
    assert host(tl.binomial(tl.tensor([0.0, 4.0], device=device), tl.tensor([0.5, 1.0], device=device))).tolist() \
        == [0.0, 4.0]
    generator = tl.Generator().manual_seed(5)
    again = tl.Generator().manual_seed(5)
    assert_equal(tl.poisson(tl.ones(6, device=device) * 4, generator=generator),
                 host(tl.poisson(tl.ones(6, device=device) * 4, generator=again)))
    rate = tl.tensor([3.0], device=device, requires_grad=True)
    tl.poisson(rate).sum().backward()  # PyTorch's zero gradient
    assert rate.grad.tolist() == [0.0]


def test_poisson_and_binomial_errors_match_torch(device):
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="rate"):
            lib.poisson(lib.tensor([-1.0]))
        with pytest.raises(RuntimeError, match="rate"):
            lib.poisson(lib.tensor([float("nan")]))
        with pytest.raises(NotImplementedError):
            lib.poisson(lib.tensor([1]))
    with pytest.raises(ValueError):
        torch.binomial(torch.tensor([3]), torch.tensor([1]))
    with pytest.raises(NotImplementedError):
        tl.binomial(tl.tensor([3]), tl.tensor([1]))
    with pytest.raises(RuntimeError):  # PyTorch draws garbage here
        tl.binomial(tl.tensor([3.0], device=device), tl.tensor([1.5], device=device))
    with pytest.raises(RuntimeError):
        tl.binomial(tl.tensor([-1.0], device=device), tl.tensor([0.5], device=device))


# ---- scatters of views ---------------------------------------------------------------------------------------------
_SCATTERS = [("slice_scatter", (3, 4), (3, 2), (1, 0, 4, 2)), ("slice_scatter", (3, 4), (1, 4), (0, -1)),
             ("slice_scatter", (5, 4), (2, 4), (0, 1, None, 3)), ("select_scatter", (3, 4), (4,), (0, -1)),
             ("select_scatter", (2, 3, 4), (2, 4), (1, 2)), ("diagonal_scatter", (3, 4), (3,), (1,)),
             ("diagonal_scatter", (3, 4), (2,), (-1,)), ("diagonal_scatter", (2, 3, 3), (3, 2), (0, 0, 2)),
             ("diagonal_scatter", (4, 3), (3,), (0, 1, 0))]


@pytest.mark.parametrize("method", [False, True], ids=["function", "method"])
@pytest.mark.parametrize("name,shape,src_shape,args", _SCATTERS)
def test_view_scatters_match_torch_with_gradients(device, rng, name, shape, src_shape, args, method):
    (x, tx), (s, ts) = _pair(f16_randn(rng, shape), device, True), _pair(f16_randn(rng, src_shape), device, True)
    if method:  # x.slice_scatter(src, ...)
        got, want = getattr(x, name)(s, *args), getattr(tx, name)(ts, *args)
    else:
        got, want = getattr(tl, name)(x, s, *args), getattr(torch, name)(tx, ts, *args)
    assert_close_f16(got, want.detach().numpy())
    _grads_match(got, want, [(x, tx), (s, ts)], rng, device)


def test_view_scatter_errors(device):
    x = tl.zeros(3, 4, device=device)
    with pytest.raises(tl.ShapeMismatchError):
        tl.slice_scatter(x, tl.ones(3, 3, device=device), 1, 0, 4, 2)
    with pytest.raises(tl.ShapeMismatchError):
        tl.select_scatter(x, tl.ones(3, device=device), 0, 0)
    with pytest.raises(tl.ShapeMismatchError):
        tl.diagonal_scatter(x, tl.ones(2, device=device), 1)
    for lib in (torch, tl):
        y = lib.zeros(3, 4)
        with pytest.raises(RuntimeError, match="positive"):
            lib.slice_scatter(y, lib.ones(3, 2), 1, 0, 4, 0)
        with pytest.raises(IndexError):
            lib.select_scatter(y, lib.ones(4), 0, 3)
        with pytest.raises(RuntimeError, match="identical"):
            lib.diagonal_scatter(y, lib.ones(3), 0, 0, 0)


def test_constant_pad_nd_chain_matmul_index_put_(device, rng):
    (x, tx) = _pair(f16_randn(rng, (3, 4)), device, True)
    for pad, value in [((1, -1), 2.0), ((1, 1, 0, 2), 0.0), ((-2, 1), -1.5)]:
        got, want = tl.constant_pad_nd(x, pad, value), torch.constant_pad_nd(tx, pad, value)
        assert_close_f16(got, want.detach().numpy())
    mats = [f16_randn(rng, s) for s in ((2, 3), (3, 4), (4, 2))]
    with pytest.warns(UserWarning, match="deprecated"):
        got = tl.chain_matmul(*(tl.tensor(m, device=device) for m in mats))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.chain_matmul(*(torch.tensor(m.astype(np.float64)) for m in mats))
        for lib in (torch, tl):
            with pytest.raises(RuntimeError):
                lib.chain_matmul()
            with pytest.raises(RuntimeError):
                lib.chain_matmul(lib.ones(3))
    assert_close_to_scale(got, want.numpy(), atol_scale=4e-3)
    y = tl.zeros(3, device=device)
    assert tl.index_put_(y, (tl.tensor([0, 2], device=device),), tl.tensor([5.0, 6.0], device=device)) is y
    assert y.tolist() == [5.0, 0.0, 6.0]


def test_detach_fill_is_signed_match_torch(device, rng):
    (x, tx) = _pair(f16_randn(rng, (3,)), device, True)
    assert not tl.detach(x).requires_grad and tl.detach(x).data_ptr() == x.data_ptr()
    assert tl.is_signed(x) and tl.is_signed(tl.tensor([True], device=device)) == torch.is_signed(
        torch.tensor([True])) is False
    assert tl.fill(tl.zeros(3, dtype=tl.int64, device=device), -2.7).tolist() == \
        torch.fill(torch.zeros(3, dtype=torch.long), -2.7).tolist()
    v, tv = tl.tensor(2.0, device=device, requires_grad=True), torch.tensor(2.0, dtype=torch.float64,
                                                                            requires_grad=True)
    got, want = tl.fill(x, v), torch.fill(tx, tv)
    assert_close_f16(got, want.detach().numpy())
    _grads_match(got, want, [(x, tx), (v, tv)], rng, device)
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="0-dimension"):
            lib.fill(lib.zeros(2), lib.ones(2))


# ---- losses and cells in torch's form --------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", [None, 0, 1, 2])
def test_losses_in_torchs_form_match_torch(device, rng, reduction):
    kw = {} if reduction is None else {"reduction": reduction}
    a, b = f16_randn(rng, (4, 5)), f16_randn(rng, (4, 5))
    target = np.where(rng.random(4) < 0.5, 1.0, -1.0).astype(np.float16)
    probs = rng.uniform(0.05, 0.95, (4, 5)).astype(np.float16)
    (x, tx), (y, ty) = _pair(a, device, True), _pair(b, device, True)
    t, tt = _pair(target, device)
    p, tp = _pair(probs, device)
    t5, tt5 = _pair(np.repeat(target[:, None], 5, 1), device)
    cases = [
        ("cosine_embedding_loss", (x, y, t, 0.1), (tx, ty, tt, 0.1)),
        ("hinge_embedding_loss", (x, t5, 0.5), (tx, tt5, 0.5)),
        ("margin_ranking_loss", (x, y, t5, 0.2), (tx, ty, tt5, 0.2)),
        ("triplet_margin_loss", (x, y, x * 0.5, 1.0, 2.0, 1e-6, True), (tx, ty, tx * 0.5, 1.0, 2.0, 1e-6, True)),
        ("binary_cross_entropy_with_logits", (x, p), (tx, tp)),
        ("kl_div", (x, p), (tx, tp)),
    ]
    for name, ours, theirs in cases:
        got, want = getattr(tl, name)(*ours, **kw), getattr(torch, name)(*theirs, **kw)
        assert tuple(got.shape) == tuple(want.shape), name
        assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    got = tl.poisson_nll_loss(x, p, True, False, 1e-8, reduction or 0)
    want = torch.poisson_nll_loss(tx, tp, True, False, 1e-8, reduction or 0)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    _grads_match(got, want, [(x, tx)], rng, device, rtol=4e-3, atol=4e-3)


def test_loss_reduction_errors():
    x = tl.zeros(3)
    with pytest.raises(TypeError):
        tl.kl_div(x, x, "mean")
    with pytest.raises(TypeError):
        torch.kl_div(torch.zeros(3), torch.zeros(3), "mean")
    with pytest.raises(ValueError):
        tl.kl_div(x, x, 5)  # (PyTorch reads 5 as 'none')


@pytest.mark.parametrize("name,gates", [("rnn_tanh_cell", 1), ("rnn_relu_cell", 1), ("gru_cell", 3), ("lstm_cell", 4)])
def test_cells_match_torch_with_gradients(device, rng, name, gates):
    shapes = [(2, 4), (2, 3), (gates * 3, 4), (gates * 3, 3), (gates * 3,), (gates * 3,)]
    pairs = [_pair(f16_randn(rng, s, scale=0.5), device, True) for s in shapes]
    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
    if name == "lstm_cell":
        c, tc = _pair(f16_randn(rng, (2, 3), scale=0.5), device, True)
        got, want = tl.lstm_cell(ours[0], (ours[1], c), *ours[2:]), torch.lstm_cell(theirs[0], (theirs[1], tc),
                                                                                     *theirs[2:])
        got, want = got[0] + got[1] * 0.5, want[0] + want[1] * 0.5
    else:
        got, want = getattr(tl, name)(*ours), getattr(torch, name)(*theirs)
    assert_close_to_scale(got, want.detach().numpy(), atol_scale=4e-3)
    _grads_match(got, want, pairs, rng, device, rtol=8e-3, atol=8e-3)
    hx = (ours[1], c) if name == "lstm_cell" else ours[1]
    assert getattr(tl, name)(ours[0], hx, ours[2], ours[3])[0].shape[-1] == 3  # the biases are optional


# ---- start-up switches and nn.Buffer ---------------------------------------------------------------------------------
def test_startup_switches():
    assert not tl.is_warn_always_enabled()
    try:
        tl.set_warn_always(True)
        assert tl.is_warn_always_enabled()
    finally:
        tl.set_warn_always(False)
    assert tl.get_num_interop_threads() == 1
    tl.set_num_interop_threads(4)  # accepted: there is no inter-op pool to size
    assert tl.get_num_interop_threads() == 1
    assert tl.set_flush_denormal(True) is False and tl.set_flush_denormal(False) is False
    for lib in (torch, tl):
        with pytest.raises(RuntimeError):
            lib.set_num_interop_threads(0)
        with pytest.raises(RuntimeError):
            lib.set_num_interop_threads(1.5)
        with pytest.raises(RuntimeError):
            lib.set_flush_denormal("x")
        with pytest.raises(RuntimeError):
            lib.set_warn_always(1)


def test_buffer_registers_as_torchs(device):
    for lib in (torch, tl):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.mean = lib.nn.Buffer(lib.zeros(3))
                self.scratch = lib.nn.Buffer(lib.ones(2), persistent=False)
                self.lin = lib.nn.Linear(3, 2)

        net = Net()
        assert sorted(dict(net.named_buffers())) == ["mean", "scratch"]
        assert sorted(net.state_dict()) == ["lin.bias", "lin.weight", "mean"]
        assert type(net.mean) is lib.Tensor and not net.mean.requires_grad
        net.scratch = lib.nn.Buffer(lib.ones(2))  # persistent now
        assert "scratch" in net.state_dict()
        net.mean = lib.ones(3)  # a plain tensor replaces a buffer
        assert net.mean.tolist() == [1.0, 1.0, 1.0] and "mean" in dict(net.named_buffers())
    data = tl.ones(2, device=device)
    buffer = tl.nn.Buffer(data)
    assert buffer.data_ptr() == data.data_ptr() and isinstance(buffer, tl.Tensor) and buffer.persistent
    assert tl.nn.Buffer().shape == (0,)
