"""sort argsort topk cumsum cumprod flip roll repeat repeat_interleave scatter multinomial randperm, the
in-place initialisers and attention dropout, against PyTorch on every device, with gradients."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.autograd import gradcheck


def f16(rng, shape, ties=False):
    if ties:
        return rng.integers(-3, 4, shape).astype(np.float16)
    return rng.standard_normal(shape).astype(np.float16)


def same(got, want):
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy() if isinstance(want, torch.Tensor) else want)


@pytest.mark.parametrize("dtype", ["float16", "int32", "int64", "bool"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_stable(device, rng, dtype, descending):
    if dtype == "float16":
        x = f16(rng, (4, 9, 5), ties=True)
        x[0, 3, 1] = np.nan
    elif dtype == "bool":
        x = rng.random((4, 9, 5)) < 0.5
    else:
        x = rng.integers(-5, 5, (4, 9, 5)).astype(dtype)
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    for dim in (0, 1, -1):
        values, indices = tl.sort(t, dim=dim, descending=descending)
        want = torch.sort(ref, dim=dim, descending=descending, stable=True)
        same(values, want.values)
        same(indices, want.indices)
        assert indices.dtype == tl.int64 and values.dtype == t.dtype
        same(t.argsort(dim, descending=descending), want.indices)


def test_topk(device, rng):
    x = f16(rng, (6, 50))
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    for k, largest in ((1, True), (5, True), (7, False), (50, True)):
        got = tl.topk(t, k, largest=largest)
        want = torch.topk(ref.float(), k, largest=largest)
        same(got.values, want.values.half())
        # torch.topk does not order ties by index; the indices must point at the values
        same(torch.gather(ref, 1, torch.from_numpy(got.indices.cpu().numpy())), want.values.half())
    assert t.topk(3, dim=0).values.shape == (3, 50)
    with pytest.raises(ValueError):
        tl.topk(t, 51)


def test_sort_and_topk_gradients(device, rng):
    x = tl.tensor(rng.permutation(24).reshape(4, 6).astype(np.float16) / 8, device=device, requires_grad=True)
    w = np.arange(6)
    assert gradcheck(lambda a: tl.sort(a, dim=1, descending=True).values * tl.arange(6, device=device), (x,),
                     reference=lambda a: torch.sort(torch.from_numpy(a), 1, descending=True).values.numpy() * w)
    assert gradcheck(lambda a: tl.topk(a, 2, dim=0).values.sum(0), (x,),
                     reference=lambda a: torch.topk(torch.from_numpy(a), 2, dim=0).values.sum(0).numpy())


@pytest.mark.parametrize("dtype", ["float16", "int32", "int64", "bool"])
def test_cumsum_and_cumprod(device, rng, dtype):
    if dtype == "float16":
        x = (rng.random((3, 40, 2)) + 0.5).astype(np.float16)
    elif dtype == "bool":
        x = rng.random((3, 40, 2)) < 0.5
    else:
        x = rng.integers(-3, 4, (3, 40, 2)).astype(dtype)
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    for dim in (0, 1, 2):
        got, want = tl.cumsum(t, dim), torch.cumsum(ref.double() if dtype == "float16" else ref, dim)
        assert got.dtype.name == ("float16" if dtype == "float16" else "int64")
        if dtype == "float16":
            np.testing.assert_allclose(got.cpu().numpy().astype(np.float64), want.numpy(), rtol=1e-3)
        else:
            same(got, want)
    small = t[:, :6]
    want = torch.cumprod(torch.from_numpy(np.ascontiguousarray(x[:, :6])).double() if dtype == "float16"
                         else torch.from_numpy(np.ascontiguousarray(x[:, :6])), 1)
    np.testing.assert_allclose(small.cumprod(1).cpu().numpy().astype(np.float64), want.double().numpy(), rtol=1e-3)
    assert (tl.arange(5001, device=device) >= 0).cumsum(0)[-1].item() == 5001


def test_scan_gradients(device, rng):
    x = tl.tensor((rng.random((3, 5)) + 0.5).astype(np.float16), device=device, requires_grad=True)
    w = np.arange(5)
    assert gradcheck(lambda a: tl.cumsum(a, 1) * tl.arange(5, device=device), (x,),
                     reference=lambda a: torch.cumsum(torch.from_numpy(a), 1).numpy() * w)
    assert gradcheck(lambda a: tl.cumprod(a, 0), (x,), reference=lambda a: torch.cumprod(torch.from_numpy(a), 0).numpy())


def test_flip_roll_repeat(device, rng):
    x = f16(rng, (3, 4, 5))
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    same(tl.flip(t, (0, 2)), torch.flip(ref, (0, 2)))
    for shifts, dims in ((1, 0), (-2, 1), ((1, 3), (0, 2)), (7, None)):
        same(tl.roll(t, shifts, dims), torch.roll(ref, shifts, dims))
    for sizes in ((2, 1, 1), (1, 3, 2), (2, 2, 1, 1)):
        same(t.repeat(*sizes), ref.repeat(*sizes))
    for sizes in ((8, 1, 1, 1), (1, 1, 1), (2, 1, 1)):  # new memory, as in PyTorch: in-place ops may follow
        r = t.repeat(*sizes)
        r.div_(2.0)
        same(r, ref.repeat(*sizes).div_(2.0))
        same(t, ref)
    same(t.repeat_interleave(2, dim=1), ref.repeat_interleave(2, dim=1))
    same(tl.tensor([1, 2, 3], device=device).repeat_interleave(tl.tensor([1, 0, 2])),
         torch.tensor([1, 2, 3]).repeat_interleave(torch.tensor([1, 0, 2])))
    a = tl.tensor(x, device=device, requires_grad=True)
    assert gradcheck(lambda v: v.roll(2, 1).repeat(2, 1, 1) * tl.arange(5, device=device), (a,),
                     reference=lambda v: torch.from_numpy(v).roll(2, 1).repeat(2, 1, 1).numpy() * np.arange(5))


def test_scatter(device, rng):
    x = f16(rng, (4, 6))
    index = np.stack([rng.permutation(6)[:3] for _ in range(4)])
    src = f16(rng, (4, 3))
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    same(t.scatter(1, tl.tensor(index, device=device), tl.tensor(src, device=device)),
         ref.scatter(1, torch.from_numpy(index), torch.from_numpy(src)))
    same(t.scatter(1, tl.tensor(index, device=device), 2.5), ref.scatter(1, torch.from_numpy(index), 2.5))
    u = t.clone()
    u.scatter_(1, tl.tensor(index, device=device), tl.tensor(src, device=device))
    same(u, ref.scatter(1, torch.from_numpy(index), torch.from_numpy(src)))
    a = tl.tensor(x, device=device, requires_grad=True)
    b = tl.tensor(src, device=device, requires_grad=True)
    assert gradcheck(lambda p, q: p.scatter(1, tl.tensor(index, device=device), q) * tl.arange(6, device=device), (a, b),
                     reference=lambda p, q: torch.from_numpy(p).scatter(1, torch.from_numpy(index), torch.from_numpy(q)).numpy()
                     * np.arange(6))


def test_multinomial_and_randperm(device):
    tl.manual_seed(11)
    probs = tl.tensor([[0.1, 0.0, 0.6, 0.3], [0.0, 0.0, 1.0, 0.0]], device=device)
    draws = tl.multinomial(probs, 4000, replacement=True)
    assert draws.dtype == tl.int64 and draws.shape == (2, 4000) and draws.device.type == device
    counts = np.bincount(draws[0].cpu().numpy(), minlength=4) / 4000
    assert counts[1] == 0 and abs(counts[2] - 0.6) < 0.04 and abs(counts[0] - 0.1) < 0.03
    assert (draws[1] == 2).all().item()
    picks = tl.multinomial(probs[0], 3)
    assert sorted(picks.tolist()) == [0, 2, 3]
    with pytest.raises(ValueError):
        tl.multinomial(probs[0], 4)
    perm = tl.randperm(1000, device=device)
    assert perm.dtype == tl.int64 and sorted(perm.tolist()) == list(range(1000))
    tl.manual_seed(5)
    first = (tl.randperm(50, device=device).tolist(), tl.multinomial(probs, 8, True).tolist())
    tl.manual_seed(5)
    assert (tl.randperm(50).tolist(), tl.multinomial(probs.cpu(), 8, True).tolist()) == first  # the same on every device


def test_inplace_initialisers(device):
    tl.manual_seed(3)
    x = tl.zeros(20000, device=device)
    assert abs(x.normal_(2.0, 0.5).float().mean().item() - 2.0) < 0.02
    x.uniform_(-1, 3)
    assert x.min().item() >= -1 and x.max().item() < 3 and abs(x.mean().item() - 1) < 0.05
    x.bernoulli_(0.25)
    assert set(np.unique(x.cpu().numpy())) <= {0.0, 1.0} and abs(x.mean().item() - 0.25) < 0.02
    y = tl.tensor([0.0, 1.0], device=device)
    y.exp_()
    assert y.tolist() == [1.0, np.float16(np.e).item()]


def test_attention_dropout(device, rng):
    q = tl.tensor(f16(rng, (2, 3, 6, 8)), device=device, requires_grad=True)
    tl.manual_seed(0)
    out = tl.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.25, is_causal=True)
    assert out.shape == (2, 3, 6, 8)
    out.sum().backward()
    assert q.grad is not None and q.grad.shape == q.shape
    plain = tl.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.0, is_causal=True)
    assert not np.array_equal(out.detach().cpu().numpy(), plain.detach().cpu().numpy())
    none_kept = tl.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    assert (none_kept == 0).all().item()
