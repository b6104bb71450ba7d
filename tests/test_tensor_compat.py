"""Tensor methods that PyTorch programs call, against PyTorch CPU on the same f16-rounded inputs: the in-place shape
changes (squeeze_ unsqueeze_ t_ transpose_ swapaxes_ swapdims_, resize_ resize_as_) with their autograd rules,
the legacy Tensor.new, is_cpu / retains_grad / is_inference, layout and PyTorch's flags of special tensors,
the conjugate transposes H / mH / adjoint, new_empty_strided, the complex-number methods on real tensors, prelu /
hardshrink / fix, put / index_reduce (values and gradients), and the random fills random_ log_normal_ cauchy_
geometric_ (their laws and PyTorch's errors)."""
import math
import pickle
import threading
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

import tensorlogic as tl
from oracle import assert_close_f16, assert_equal, assert_grad_close, f16_randn, host
from stat_checks import assert_cdf, assert_chi_square, assert_pmf


def _pair(x, device, grad=False):
    return (tl.tensor(x, device=device, requires_grad=grad),
            torch.tensor(x.astype(np.float64), requires_grad=grad))


# ---- in-place shape changes ------------------------------------------------------------------------------------
_VIEW_CASES = [("t_", ()), ("transpose_", (0, 2)), ("swapaxes_", (-1, 1)), ("swapdims_", (1, 0)),
               ("unsqueeze_", (1,)), ("unsqueeze_", (-1,)), ("squeeze_", ()), ("squeeze_", (1,)), ("squeeze_", ((1, 2),))]


@pytest.mark.parametrize("name,args", _VIEW_CASES)
def test_inplace_shape_changes_match_torch(device, rng, name, args):
    shape = (3, 4) if name == "t_" else (3, 1, 4) if name == "squeeze_" else (2, 3, 4)
    x = f16_randn(rng, shape)
    ours, theirs = _pair(x, device)
    ptr, version = ours.data_ptr(), ours._version
    assert getattr(ours, name)(*args) is ours
    getattr(theirs, name)(*args)
    assert ours.shape == tuple(theirs.shape) and ours.stride() == theirs.stride()
    assert ours.data_ptr() == ptr and ours._version == version + 1  # the same memory, a new version
    assert_equal(ours, theirs.numpy().astype(np.float16))
    # through a non-leaf: the change is recorded, and the gradient reaches the leaf as PyTorch's
    (leaf, tleaf) = _pair(x, device, grad=True)
    y, ty = leaf * 2.0, tleaf * 2.0
    getattr(y, name)(*args)
    getattr(ty, name)(*args)
    g = f16_randn(rng, tuple(ty.shape))
    (y * tl.tensor(g, device=device)).sum().backward()
    (ty * torch.tensor(g.astype(np.float64))).sum().backward()
    assert_grad_close(leaf.grad, tleaf.grad, 2e-3, name)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(leaf, name)(*args)


def test_inplace_shape_change_is_seen_by_saved_tensors_and_retained_grads(device, rng):
    a = tl.tensor(f16_randn(rng, (2, 3)), device=device, requires_grad=True)
    w = tl.tensor(f16_randn(rng, (2, 3)), device=device, requires_grad=True)
    x = a * 1.0
    y = x * w  # saves x
    x.t_()
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
    x = a * 1.0
    x.retain_grad()
    x.unsqueeze_(0)
    assert x.retains_grad and x.shape == (1, 2, 3)
    (x * 3.0).sum().backward()
    assert_equal(x.grad, np.full((1, 2, 3), 3.0, np.float16))
    with tl.no_grad():  # outside autograd a leaf may change shape (PyTorch's rule)
        assert a.t_().shape == (3, 2)


def test_inplace_shape_change_errors(device):
    x = tl.zeros(2, 3, device=device)
    with pytest.raises(IndexError):
        x.transpose_(0, 5)
    with pytest.raises(IndexError):
        x.unsqueeze_(4)
    with pytest.raises(ValueError):
        tl.zeros(2, 2, 2, device=device).t_()
    assert x.shape == (2, 3)  # a refused change leaves the tensor as it was


def test_resize_matches_torch(device):
    for sizes in [(2, 3), (4,), ((2, 2),), (0, 2), (6,)]:
        ours, theirs = tl.arange(6.0, device=device), torch.arange(6.0)
        assert ours.resize_(*sizes) is ours
        theirs.resize_(*sizes)
        assert ours.shape == tuple(theirs.shape) and ours.stride() == theirs.stride()
        assert_equal(ours, theirs.numpy().astype(np.float16))
    grown = tl.arange(6.0, device=device).resize_(3, 4)  # a fresh tensor owns its memory: it grows
    assert grown.shape == (3, 4)
    assert_equal(grown.reshape(-1)[:6], np.arange(6, dtype=np.float16))
    assert tl.zeros(3, device=device).resize_as_(tl.zeros(2, 5, dtype=tl.int64)).shape == (2, 5)
    transposed = tl.zeros(2, 3, device=device).t()
    assert transposed.resize_(3, 2).stride() == torch.zeros(2, 3).t().resize_(3, 2).stride()  # same shape: kept


def test_resize_errors(device):
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="require grad"):
            lib.zeros(2, requires_grad=True).resize_(3)
        with pytest.raises(RuntimeError, match="require grad"):
            (lib.zeros(2, requires_grad=True) * 2).resize_(2, 1)
        with pytest.raises(TypeError):
            lib.zeros(2).resize_(2.5)
    with pytest.raises(RuntimeError, match="non-negative"):
        tl.zeros(2, device=device).resize_(-1)
    with pytest.raises(RuntimeError, match="channels_last"):
        tl.zeros(2, device=device).resize_(2, 3, memory_format=tl.channels_last)
    # what PyTorch does by reinterpreting the storage is refused, and leaves the tensor as it was
    shared = tl.zeros(4, device=device)
    view = shared[:2]
    with pytest.raises(RuntimeError, match="other tensors"):
        shared.resize_(10)
    detached = tl.zeros(4, device=device)
    alias = detached.detach()
    with pytest.raises(RuntimeError, match="other tensors"):
        detached.resize_(10)
    with pytest.raises(RuntimeError, match="non-contiguous"):
        tl.zeros(2, 3, device=device).t().resize_(6)
    assert shared.shape == (4,) and view.shape == (2,) and alias.shape == (4,)


# ---- new, is_cpu, retains_grad, is_inference -----------------------------------------------------------------------
def test_new_matches_torch(device):
    ours, theirs = tl.zeros(2, 3, device=device), torch.zeros(2, 3)
    for args in [(), (2, 3), (0,), ([1, 2],), ([[1.5, 2]],), ((1, 2),), ((4.5, -1, 3),), (((1, 2), (3, 4)),), ((),),
                 ([],)]:
        got, want = ours.new(*args), theirs.new(*args)
        assert got.shape == tuple(want.shape) and got.dtype == tl.float16 and got.device == ours.device, args
        if args and isinstance(args[0], (list, tuple)):
            assert_equal(got, want.numpy().astype(np.float16))
    for sizes in (ours.shape, ours.size(), ours.shape[1:], (1,) + ours.shape, ours.shape + (1,), tl.Size([4])):
        want = theirs.new(torch.Size(sizes)).shape
        assert type(sizes) is tl.Size and ours.new(sizes).shape == tuple(want), sizes  # a Size: sizes, as in torch
    assert ours.new(np.array([1, 2])).tolist() == [1.0, 2.0]
    longs = tl.tensor([1, 2], device=device)
    assert longs.new([3.7]).dtype == tl.int64 and longs.new([3.7]).tolist() == torch.tensor([1]).new([3.7]).tolist()
    alias = ours.new(ours)
    assert alias.data_ptr() == ours.data_ptr() and alias is not ours
    for lib, x in ((torch, theirs), (tl, ours)):
        with pytest.raises(TypeError):
            x.new(2.5)
        with pytest.raises(TypeError):
            x.new(lib.zeros(2, dtype=lib.int64))
        with pytest.raises(TypeError):
            x.new(2, dtype=lib.int64)


def test_is_cpu_retains_grad_is_inference(device):
    x = tl.ones(2, device=device, requires_grad=True)
    assert x.is_cpu == (device == "cpu") and tl.zeros(1, device="cpu").is_cpu
    y = x * 2
    assert not x.retains_grad and not y.retains_grad
    x.retain_grad()
    y.retain_grad()
    assert not x.retains_grad and y.retains_grad  # a leaf keeps its grad anyway, as in PyTorch
    assert not tl.is_inference_mode_enabled()
    with tl.inference_mode():
        made = tl.ones(2, device=device)
        assert tl.is_inference_mode_enabled() and not tl.is_grad_enabled()
        with tl.inference_mode(False):  # PyTorch's: inference off, grad on
            assert not tl.is_inference_mode_enabled() and tl.is_grad_enabled()
        with tl.no_grad():
            assert tl.is_inference_mode_enabled()
    assert not tl.is_inference_mode_enabled()
    assert made.is_inference() and tl.is_inference(made)


FLAGS = ["is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_mkldnn", "is_meta", "is_mps", "is_xpu"]


def test_layout_and_flags_read_as_torchs_for_dense_tensors(device, rng):
    """What programs ask before a special path: a dense tensor's layout is strided, and it is none of the special
    kinds; to_dense() of one is itself. tl.strided pickles as the one instance."""
    x, tx = tl.tensor(f16_randn(rng, (3, 2)), device=device, requires_grad=True), torch.zeros(3, 2)
    assert x.layout is tl.strided and isinstance(tl.strided, tl.layout) and repr(tl.strided) == "tensorlogic.strided"
    assert pickle.loads(pickle.dumps(tl.strided)) is tl.strided
    assert {f: getattr(x, f) for f in FLAGS} == {f: getattr(tx, f) for f in FLAGS}
    assert x.to_dense() is x and x.to_dense(dtype=tl.int64).dtype == tl.int64


@pytest.mark.parametrize("name,shape", [("H", (3, 4)), ("mH", (3, 4)), ("mH", (2, 3, 4)), ("adjoint", (2, 1, 3, 4))])
def test_conjugate_transposes_of_real_tensors_match_torch(device, rng, name, shape):
    """H, mH and adjoint() of real tensors are views with PyTorch's values and gradients, and its errors."""
    x = f16_randn(rng, shape)
    t, tt = tl.tensor(x, device=device, requires_grad=True), torch.tensor(x.astype(np.float64), requires_grad=True)
    got, want = (t.adjoint(), tt.adjoint()) if name == "adjoint" else (getattr(t, name), getattr(tt, name))
    assert got.is_contiguous() == want.is_contiguous() and got.data_ptr() == t.data_ptr()
    assert_equal(got, want.detach().numpy())
    g = f16_randn(rng, tuple(want.shape))
    got.backward(tl.tensor(g, device=device))
    want.backward(torch.from_numpy(g.astype(np.float64)))
    assert_equal(t.grad, tt.grad.numpy())
    assert_equal(tl.adjoint(t), torch.adjoint(tt).detach().numpy())
    for lib in (tl, torch):
        with pytest.raises(RuntimeError, match="only supported on matrices"):
            lib.zeros(3).mH
        with pytest.raises(RuntimeError, match=r"only supported on matrices \(2-D tensors\)"):
            lib.zeros(2, 3, 4).H
        with pytest.raises(RuntimeError, match="only supported on matrices"):
            lib.zeros(3).adjoint()


def test_new_empty_strided_as_torch(device):
    x = tl.ones(2, dtype=tl.int32, device=device)
    for size, stride in [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((4, 1, 3), (3, 3, 1))]:
        got, want = x.new_empty_strided(size, stride), torch.ones(2, dtype=torch.int32).new_empty_strided(size, stride)
        assert (got.shape, got.stride(), got.dtype, got.device) == (tuple(want.shape), want.stride(), tl.int32,
                                                                    x.device)
    assert x.new_empty_strided((2,), (1,), dtype=tl.float16, requires_grad=True).requires_grad


def _inference_marks(lib, device, values):
    """is_inference() of tensors made in and out of inference mode, by allocation, views, copies and threads."""
    kw = {"device": device} if lib is tl else {}
    made = {"before": lib.ones(3, **kw)}
    before = made["before"]
    layer = lib.nn.Linear(3, 2).to(device) if lib is tl else lib.nn.Linear(3, 2)

    @lib.inference_mode()
    def predict(x):
        return layer(x)

    with lib.inference_mode():
        made.update(ones=lib.ones(3, **kw), sum=before + 1, view=before.view(-1), index=before[1:],
                    detached=before.detach(), data=lib.tensor(values, **kw), numpy=lib.from_numpy(values.copy()),
                    layer=layer(before))
        made["view_of_new"] = made["ones"].view(1, 3)
        made["clone"] = before.clone()
        with lib.inference_mode(False):
            made["inside_false"] = lib.ones(2, **kw)
        with lib.no_grad():
            made["no_grad_inside"] = before * 2
        thread_made = []
        worker = threading.Thread(target=lambda: thread_made.append(lib.ones(2, **kw)))
        worker.start()
        worker.join()
        made["other_thread"] = thread_made[0]
    made.update(after_op=made["ones"] + 1, after_view=made["ones"][1:], after_detach=made["ones"].detach(),
                decorated=predict(before), after=lib.ones(2, **kw))
    return {name: t.is_inference() for name, t in made.items()}


def test_is_inference_marks_as_torchs(device, rng):
    values = f16_randn(rng, (3,))
    ours, theirs = _inference_marks(tl, device, values), _inference_marks(torch, device, values)
    assert ours == theirs, {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert ours["ones"] and not ours["view"]  # (both kinds occur)


# ---- complex-number methods on real tensors ------------------------------------------------------------------------
def test_complex_methods_on_real_tensors_match_torch(device, rng):
    x = f16_randn(rng, (3, 4))
    x[0, :2] = [0.0, -0.0]
    ours, theirs = _pair(x, device)
    for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):
        assert getattr(ours, name)() is ours and getattr(tl, name)(ours) is ours
    assert ours.real is ours and tl.real(ours) is ours
    assert not ours.is_conj() and not ours.is_neg() and not tl.is_conj(ours) and not tl.is_neg(ours)
    assert_close_f16(ours.angle(), theirs.angle().numpy())
    ints = torch.tensor([-2, 0, 3])
    assert_close_f16(tl.tensor([-2, 0, 3], device=device).angle(), ints.angle().numpy())
    for lib, t in ((torch, theirs), (tl, ours)):
        with pytest.raises(RuntimeError, match="non-complex"):
            t.imag
        with pytest.raises(RuntimeError, match="non-complex"):
            lib.imag(t)
        with pytest.raises(TypeError):
            lib.is_conj([1.0])


def test_prelu_hardshrink_fix_methods(device, rng):
    x = f16_randn(rng, (2, 3, 4), scale=2.0)
    w = f16_randn(rng, (3,))
    (ours, theirs), (ow, tw) = _pair(x, device, grad=True), _pair(w, device, grad=True)
    got, want = ours.prelu(ow), theirs.prelu(tw)
    assert_close_f16(got, want.detach().numpy())
    g = f16_randn(rng, (2, 3, 4))
    (got * tl.tensor(g, device=device)).sum().backward()
    (want * torch.tensor(g.astype(np.float64))).sum().backward()
    assert_grad_close(ow.grad, tw.grad, 4e-3, "prelu weight", atol=4e-3)
    assert_close_f16(ours.hardshrink(0.7), theirs.hardshrink(0.7).detach().numpy())
    assert_close_f16(ours.fix(), theirs.fix().detach().numpy())
    assert_close_f16(tl.fix(ours), torch.fix(theirs).detach().numpy())


# ---- put, index_reduce --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("accumulate", [False, True])
def test_put_matches_torch_with_gradients(device, rng, accumulate):
    x, src = f16_randn(rng, (3, 4)), f16_randn(rng, (2, 3))
    index = rng.choice(np.arange(-12, 12), (2, 3), replace=accumulate)
    if not accumulate:  # distinct positions (i and i - 12 are the same one)
        index = rng.permutation(12)[:6].reshape(2, 3) - 12 * rng.integers(0, 2, (2, 3))
    (ours, theirs), (os_, ts) = _pair(x, device, grad=True), _pair(src, device, grad=True)
    oi, ti = tl.tensor(index, device=device), torch.tensor(index)
    got, want = ours.put(oi, os_, accumulate), theirs.put(ti, ts, accumulate)
    assert_close_f16(got, want.detach().numpy())
    g = f16_randn(rng, (3, 4))
    (got * tl.tensor(g, device=device)).sum().backward()
    (want * torch.tensor(g.astype(np.float64))).sum().backward()
    assert_grad_close(ours.grad, theirs.grad, 2e-3, "put input")
    assert_grad_close(os_.grad, ts.grad, 2e-3, "put source")
    inplace = ours.detach().clone()
    assert inplace.put_(oi, os_.detach(), accumulate) is inplace
    assert_close_f16(inplace, want.detach().numpy())
    longs = tl.zeros(3, dtype=tl.int64, device=device).put(tl.tensor([0, 0], device=device),
                                                          tl.tensor([3, 4], device=device), accumulate=True)
    assert longs.tolist() == [7, 0, 0]


def test_put_errors_match_torch(device):
    for lib in (torch, tl):
        x = lib.zeros(2, 3) if lib is torch else tl.zeros(2, 3, device=device)
        with pytest.raises(IndexError):
            x.put(lib.tensor([6]), lib.tensor([1.0]))
        with pytest.raises(IndexError):
            x.put(lib.tensor([-7]), lib.tensor([1.0]))
        with pytest.raises(IndexError):
            x.put(lib.tensor([1, 0]), lib.tensor([1.0]))
        with pytest.raises(RuntimeError):
            x.put(lib.tensor([1.0]), lib.tensor([1.0]))
        with pytest.raises(RuntimeError):
            x.put(lib.tensor([1]), lib.tensor([1]))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_matches_torch_with_gradients(device, rng, reduce, include_self):
    x, src = f16_randn(rng, (4, 3)), f16_randn(rng, (5, 3))
    index = rng.integers(0, 4, 5)
    index[:2] = [1, 1]  # a repeat
    (ours, theirs), (os_, ts) = _pair(x, device, grad=True), _pair(src, device, grad=True)
    oi, ti = tl.tensor(index, device=device), torch.tensor(index)
    got = ours.index_reduce(0, oi, os_, reduce, include_self=include_self)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "in beta" warning
        want = theirs.index_reduce(0, ti, ts, reduce, include_self=include_self)
    assert_close_f16(got, want.detach().numpy(), atol=4e-3)
    g = f16_randn(rng, (4, 3))
    (got * tl.tensor(g, device=device)).sum().backward()
    (want * torch.tensor(g.astype(np.float64))).sum().backward()
    assert_grad_close(ours.grad, theirs.grad, 8e-3, f"index_reduce {reduce} input", atol=8e-3)
    assert_grad_close(os_.grad, ts.grad, 8e-3, f"index_reduce {reduce} source", atol=8e-3)
    inplace = ours.detach().clone()
    assert inplace.index_reduce_(0, oi, os_.detach(), reduce, include_self=include_self) is inplace
    assert_close_f16(inplace, want.detach().numpy(), atol=4e-3)


def test_index_reduce_integer_mean_and_errors(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.zeros(3, dtype=torch.long).index_reduce(0, torch.tensor([0, 0]), torch.tensor([-3, -4]), "mean")
    got = tl.zeros(3, dtype=tl.int64, device=device).index_reduce(0, tl.tensor([0, 0], device=device),
                                                                 tl.tensor([-3, -4], device=device), "mean")
    assert got.dtype == tl.int64 and got.tolist() == want.tolist()  # rounded down, as PyTorch's
    x = tl.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="prod, mean, amax or amin"):
        x.index_reduce(0, tl.tensor([0]), tl.ones(1, 3), "sum")
    with pytest.raises(RuntimeError, match="int32/int64"):
        x.index_reduce(0, tl.tensor([0.0]), tl.ones(1, 3), "mean")
    with pytest.raises(tl.ShapeMismatchError):
        x.index_reduce(0, tl.tensor([0, 1]), tl.ones(1, 3), "mean")


# ---- random fills ---------------------------------------------------------------------------------------------------
def test_random_matches_torchs_ranges(device, rng):
    n = 20000
    for dtype, top in (("float16", 2048), ("bool", 1)):
        draws = host(tl.empty(n, dtype=dtype, device=device).random_()).astype(np.int64)
        assert draws.min() == 0 and draws.max() == top
    for dtype, top in (("int32", 2**31 - 1), ("int64", 2**63 - 1)):
        draws = host(tl.empty(n, dtype=dtype, device=device).random_())
        assert draws.min() >= 0 and draws.max() <= top and draws.max() > top // 2
    draws = host(tl.empty(n, dtype=tl.int64, device=device).random_(-3, 4))
    assert_chi_square(np.bincount(draws + 3, minlength=7), np.full(7, 1 / 7), "random_(-3, 4)")
    draws = host(tl.empty(n, device=device).random_(5))
    assert_chi_square(np.bincount(draws.astype(np.int64), minlength=5), np.full(5, 1 / 5), "random_(5)")
    assert host(tl.empty(n, device=device).random_(to=3)).max() == 2
    wide = host(tl.empty(n, dtype=tl.int64, device=device).random_(-(2**62), None))
    assert wide.min() < 0 < wide.max() and wide.min() >= -(2**62)


def test_random_errors_match_torch(device):
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="less than"):
            lib.empty(3).random_(5, 5)
        with pytest.raises(RuntimeError, match="out of bounds"):
            lib.empty(3, dtype=lib.int32).random_(0, 2**40)
        with pytest.raises(TypeError):
            lib.empty(3).random_(1.5, 3)
    with pytest.warns(UserWarning):
        tl.empty(3, device=device).random_(0, 5000)


def test_log_normal_cauchy_geometric_follow_their_laws(device):
    n = 20000
    draws = host(tl.empty(n, device=device).log_normal_(0.5, 0.4))
    assert_cdf(draws, lambda x: stats.lognorm.cdf(x, 0.4, scale=math.exp(0.5)), "log_normal_", atol=4e-3)
    draws = host(tl.empty(n, device=device).cauchy_(1.0, 2.0))
    assert_cdf(draws, lambda x: stats.cauchy.cdf(x, 1.0, 2.0), "cauchy_", atol=4e-3)
    for dtype in ("float16", "int64"):
        draws = host(tl.empty(n, dtype=dtype, device=device).geometric_(0.3))
        assert draws.min() >= 1
        assert_pmf(draws, np.append(0.0, stats.geom.pmf(np.arange(1, 120), 0.3)), f"geometric_ {dtype}")
    assert host(tl.empty(100, dtype=tl.int64, device=device).geometric_(1e-6)).max() > 65504  # exact counts


def test_log_normal_cauchy_geometric_errors_match_torch(device):
    for lib in (torch, tl):
        for bad in (lambda: lib.empty(3).log_normal_(0, 0), lambda: lib.empty(3).cauchy_(0, -1),
                    lambda: lib.empty(3).geometric_(0), lambda: lib.empty(3).geometric_(1.5),
                    lambda: lib.empty(3, dtype=lib.int64).cauchy_()):
            with pytest.raises(RuntimeError):
                bad()
        with pytest.raises(NotImplementedError):
            lib.empty(3, dtype=lib.int64).log_normal_()
        with pytest.raises(NotImplementedError):
            lib.empty(3, dtype=lib.bool).geometric_(0.5)
