"""ops/add_products.py, ops/products.py, ops/index_update.py, ops/sampling.py and type_info.py against PyTorch
on random f16 inputs (fresh seeds): values, gradients against torch.autograd, typed errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_largest as _close, host


def _randn(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float16)


def _compare(device, ours, theirs, inputs, grad_of=None, *, rng):
    grad_of = range(len(inputs)) if grad_of is None else grad_of
    tls = [tl.tensor(x, device=device, requires_grad=i in grad_of) for i, x in enumerate(inputs)]
    ths = [torch.tensor(x.astype(np.float64), requires_grad=i in grad_of) for i, x in enumerate(inputs)]
    out, ref = ours(*tls), theirs(*ths)
    assert tuple(out.shape) == tuple(ref.shape)
    _close(out, ref.detach().numpy())
    v = rng.uniform(0.5, 1.5, tuple(ref.shape)).astype(np.float16)
    (out * tl.tensor(v, device=device)).sum().backward()
    (ref * torch.tensor(v.astype(np.float64))).sum().backward()
    for i in grad_of:
        _close(tls[i].grad, ths[i].grad.numpy())


@pytest.mark.parametrize("name,shapes,kwargs", [
    ("addcmul", [(3, 4), (3, 4), (4,)], {"value": 0.5}), ("addcdiv", [(3, 4), (1, 4), (3, 4)], {"value": -2}),
    ("addmv", [(3,), (3, 5), (5,)], {"beta": 0.5, "alpha": 2}), ("addr", [(3, 4), (3,), (4,)], {}),
    ("baddbmm", [(2, 3, 4), (2, 3, 5), (2, 5, 4)], {"beta": 0, "alpha": 0.5}),
    ("addbmm", [(3, 4), (2, 3, 5), (2, 5, 4)], {"beta": 2})])
def test_add_products(device, rng, name, shapes, kwargs):
    inputs = [_randn(rng, *s) for s in shapes]
    if name == "addcdiv":
        inputs[2] = (np.abs(inputs[2]) + np.float16(0.5)).astype(np.float16)
    grad_of = (1, 2) if kwargs.get("beta") == 0 else None  # beta=0: input is ignored (PyTorch's gradient is zeros)
    _compare(device, lambda *t: getattr(tl, name)(*t, **kwargs), lambda *t: getattr(torch, name)(*t, **kwargs), inputs,
             grad_of, rng=rng)
    t = tl.tensor(inputs[0], device=device)
    assert getattr(t, name + "_")(*(tl.tensor(x, device=device) for x in inputs[1:]), **kwargs) is t
    ref = torch.tensor(inputs[0].astype(np.float64))
    getattr(ref, name + "_")(*(torch.tensor(x.astype(np.float64)) for x in inputs[1:]), **kwargs)
    _close(t, ref.numpy())  # as the out-of-place result: sums of products can cancel below their terms' ulps


def test_addmm_inplace_and_errors(device, rng):
    a, b, c = _randn(rng, 3, 4), _randn(rng, 3, 5), _randn(rng, 5, 4)
    t = tl.tensor(a, device=device)
    t.addmm_(tl.tensor(b, device=device), tl.tensor(c, device=device), alpha=0.5)
    assert_close_f16(t, torch.addmm(torch.tensor(a.astype(np.float64)), torch.tensor(b.astype(np.float64)),
                                    torch.tensor(c.astype(np.float64)), alpha=0.5).numpy())
    with pytest.raises(tl.ShapeMismatchError):
        tl.addmv(t, tl.tensor(b, device=device), tl.tensor(c[0], device=device))


@pytest.mark.parametrize("case", ["tensordot2", "tensordot_pairs", "inner", "vdot", "kron", "kron3", "cross", "cdist",
                                  "cdist1"])
def test_products(device, case, rng):
    spec = {"tensordot2": ((2, 3, 4), (3, 4, 5), lambda m, a, b: m.tensordot(a, b, 2)),
            "tensordot_pairs": ((2, 3, 4), (4, 2, 5), lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0]))),
            "inner": ((2, 3, 4), (5, 4), lambda m, a, b: m.inner(a, b)),
            "vdot": ((6,), (6,), lambda m, a, b: m.vdot(a, b)),
            "kron": ((2, 3), (4, 2), lambda m, a, b: m.kron(a, b)),
            "kron3": ((2, 1, 3), (3, 2), lambda m, a, b: m.kron(a, b)),
            "cross": ((4, 3), (1, 3), lambda m, a, b: m.cross(a, b, dim=1)),
            "cdist": ((2, 5, 3), (2, 4, 3), lambda m, a, b: m.cdist(a, b)),
            "cdist1": ((5, 3), (4, 3), lambda m, a, b: m.cdist(a, b, p=1.0))}[case]
    a, b = _randn(rng, *spec[0]), _randn(rng, *spec[1])
    _compare(device, lambda x, y: spec[2](tl, x, y), lambda x, y: spec[2](torch, x, y), [a, b], rng=rng)


def test_product_errors(device):
    a = tl.zeros((2, 3), device=device)
    with pytest.raises(tl.ShapeMismatchError):
        tl.tensordot(a, tl.zeros((3, 2), device=device), 2)
    with pytest.raises(tl.ShapeMismatchError):
        tl.cross(tl.zeros((2, 4), device=device), tl.zeros((2, 4), device=device))
    with pytest.raises(tl.ShapeMismatchError):
        tl.cdist(a, tl.zeros((2, 4), device=device))


@pytest.mark.parametrize("name", ["index_add", "index_copy", "index_fill"])
@pytest.mark.parametrize("dim", [0, 1])
def test_index_updates(device, name, dim, rng):
    x = _randn(rng, 4, 5)
    size = x.shape[dim]
    index = rng.permutation(size)[:3] if name != "index_add" else rng.integers(0, size, 3)
    shape = list(x.shape)
    shape[dim] = 3
    src = _randn(rng, *shape)
    ti, ri = tl.tensor(index, device=device), torch.tensor(index)
    if name == "index_fill":
        _compare(device, lambda t: t.index_fill(dim, ti, -1.5), lambda t: t.index_fill(dim, ri, -1.5), [x], rng=rng)
    elif name == "index_add":
        _compare(device, lambda t, s: tl.index_add(t, dim, ti, s, alpha=2), lambda t, s: torch.index_add(t, dim, ri, s, alpha=2),
                 [x, src], rng=rng)
    else:
        _compare(device, lambda t, s: tl.index_copy(t, dim, ti, s), lambda t, s: torch.index_copy(t, dim, ri, s), [x, src],
                 rng=rng)
    t = tl.tensor(x, device=device)
    args = (-1.5,) if name == "index_fill" else (tl.tensor(src, device=device),)
    targs = (-1.5,) if name == "index_fill" else (torch.tensor(src.astype(np.float64)),)
    assert getattr(t, name + "_")(dim, ti, *args) is t
    assert_close_f16(t, getattr(torch.tensor(x.astype(np.float64)), name + "_")(dim, ri, *targs).numpy())


def test_index_update_errors(device):
    x = tl.zeros((3, 4), device=device)
    with pytest.raises(tl.ShapeMismatchError):
        tl.index_add(x, 0, tl.tensor([0, 1], device=device), tl.ones((3, 4), device=device))
    with pytest.raises(TypeError):
        tl.index_fill(x, 0, tl.tensor([0], device=device), "a")


def test_take_argwhere_isin(device, rng):
    x = rng.integers(-2, 3, (3, 4))
    t, r = tl.tensor(x, device=device), torch.tensor(x)
    idx = rng.integers(0, 12, (2, 3))
    np.testing.assert_array_equal(host(tl.take(t, tl.tensor(idx, device=device))), torch.take(r, torch.tensor(idx)).numpy())
    np.testing.assert_array_equal(host(t.argwhere()), torch.argwhere(r).numpy())
    tests = np.array([0, 2, 7])
    for invert in (False, True):
        np.testing.assert_array_equal(host(tl.isin(t, tl.tensor(tests, device=device), invert=invert)),
                                      torch.isin(r, torch.tensor(tests), invert=invert).numpy())
    np.testing.assert_array_equal(host(tl.isin(t, 1)), torch.isin(r, 1).numpy())
    f = _randn(rng, 6)
    ft = tl.tensor(f, device=device, requires_grad=True)
    tl.take(ft, tl.tensor([5, 0, 5], device=device)).sum().backward()
    assert host(ft.grad).tolist() == [1.0, 0, 0, 0, 0, 2.0]


def test_normal_and_bernoulli(device):
    tl.manual_seed(0)
    mean = tl.tensor(np.array([-3.0, 0.0, 5.0], np.float16), device=device)
    draws = host(tl.stack([tl.normal(mean, 0.5) for _ in range(400)]))
    np.testing.assert_allclose(draws.mean(0), [-3.0, 0.0, 5.0], atol=0.15)
    np.testing.assert_allclose(draws.std(0), 0.5, atol=0.08)
    assert tl.normal(1.0, 2.0, (3, 2), device=device).shape == (3, 2)
    assert tl.normal(0.0, tl.ones((2, 2), device=device)).shape == (2, 2)
    with pytest.raises(TypeError):
        tl.normal(0.0, 1.0)
    with pytest.raises(ValueError):
        tl.normal(mean, -1.0)
    b = host(tl.bernoulli(tl.full((2000,), 0.3, device=device)))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.05


def test_type_info_and_constants():
    for name in ("float16", "float32", "float64", "bfloat16"):
        info, want = tl.finfo(getattr(tl, name)), torch.finfo(torch.float16)
        assert (info.eps, info.max, info.min, info.tiny, info.bits) == (want.eps, want.max, want.min, want.tiny, want.bits)
    assert tl.finfo().eps == torch.finfo(torch.float16).eps
    for name in ("int32", "int64"):
        info, want = tl.iinfo(getattr(tl, name)), torch.iinfo(getattr(torch, name))
        assert (info.min, info.max, info.bits) == (want.min, want.max, want.bits)
    with pytest.raises(TypeError):
        tl.finfo(tl.int64)
    with pytest.raises(TypeError):
        tl.iinfo(tl.float16)
    assert (tl.pi, tl.e, tl.inf) == (torch.pi, torch.e, torch.inf) and np.isnan(tl.nan) and tl.newaxis is None
    assert tl.get_default_dtype() == tl.float32
    tl.set_default_dtype(tl.float64)
    with pytest.raises(TypeError):
        tl.set_default_dtype(tl.int64)
