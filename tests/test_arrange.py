"""ops/arrange.py, nn/lazy.py (LazyLinear), nn/softmax2d.py, channel_shuffle and torch's top-level aliases of functional ops against PyTorch on
random f16 inputs (fresh seeds): values, gradients against torch.autograd, typed errors."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn
from oracle import assert_close_f16, host


def _randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float16)


def _close(ours, expected):
    """Within 2 f16 ulps of the largest expected value: compositions round each step, and where terms cancel
    (a difference of distances, a sum of products) the error is relative to the terms, not to the result."""
    expected = np.asarray(expected, np.float64)
    assert_close_f16(ours, expected, atol=1e-3 + 2e-3 * float(np.abs(expected[np.isfinite(expected)]).max(initial=0.0)))


def _compare(device, ours, theirs, inputs, *, rng):
    tls = [tl.tensor(x, device=device, requires_grad=True) for x in inputs]
    ths = [torch.tensor(x.astype(np.float64), requires_grad=True) for x in inputs]
    out, ref = ours(*tls), theirs(*ths)
    outs, refs = (out, ref) if isinstance(out, tuple) else ((out,), (ref,))
    total, ref_total = 0, 0
    for o, r in zip(outs, refs):
        assert tuple(o.shape) == tuple(r.shape)
        _close(o, r.detach().numpy())
        v = rng.uniform(0.5, 1.5, tuple(r.shape)).astype(np.float16)
        total = total + (o * tl.tensor(v, device=device)).sum()
        ref_total = ref_total + (r * torch.tensor(v.astype(np.float64))).sum()
    total.backward()
    ref_total.backward()
    for a, b in zip(tls, ths):
        _close(a.grad, b.grad.numpy())


@pytest.mark.parametrize("case", ["atleast_1d", "atleast_2d", "atleast_3d", "rot90_1", "rot90_2", "rot90_3",
                                  "diag_embed", "diag_embed_off", "diag_embed_neg", "diagflat", "block_diag",
                                  "cartesian_prod", "hsplit", "vsplit", "dsplit", "sum_to_size"])
def test_arrangements(device, case, rng):
    a, b, c = _randn(rng, 2, 3, 4), _randn(rng, 3), _randn(rng, 2, 2)
    spec = {
        "atleast_1d": ([b[0]], lambda m, x: m.atleast_1d(x)),
        "atleast_2d": ([b], lambda m, x: m.atleast_2d(x)),
        "atleast_3d": ([c], lambda m, x: m.atleast_3d(x)),
        "rot90_1": ([a], lambda m, x: m.rot90(x, 1, (1, 2))),
        "rot90_2": ([c], lambda m, x: m.rot90(x, 2)),
        "rot90_3": ([a], lambda m, x: m.rot90(x, -1, (0, 2))),
        "diag_embed": ([c], lambda m, x: m.diag_embed(x)),
        "diag_embed_off": ([a], lambda m, x: m.diag_embed(x, 1, 0, 2)),
        "diag_embed_neg": ([b], lambda m, x: m.diag_embed(x, -2)),
        "diagflat": ([c], lambda m, x: m.diagflat(x, 1)),
        "block_diag": ([c, b, a[0]], lambda m, x, y, z: m.block_diag(x, y, z)),
        "cartesian_prod": ([b, b[:2].copy()], lambda m, x, y: m.cartesian_prod(x, y)),
        "hsplit": ([a], lambda m, x: m.hsplit(x, 3)),
        "vsplit": ([c], lambda m, x: m.vsplit(x, [1])),
        "dsplit": ([a], lambda m, x: m.dsplit(x, 2)),
        "sum_to_size": ([a], lambda m, x: x.sum_to_size(1, 3, 1)),
    }[case]
    _compare(device, lambda *t: spec[1](tl, *t), lambda *t: spec[1](torch, *t), spec[0], rng=rng)


def test_arrange_errors_and_small_functions(device):
    x = tl.zeros((2, 3), device=device)
    with pytest.raises(ValueError):
        tl.hsplit(x, 2)
    with pytest.raises(tl.ShapeMismatchError):
        tl.dsplit(x, 1)
    with pytest.raises(ValueError):
        tl.rot90(x, 1, (0, 0))
    with pytest.raises(tl.ShapeMismatchError):
        x.sum_to_size(4, 3)
    idx = np.array([0, 5, 7, 11])
    for ours, theirs in zip(tl.unravel_index(tl.tensor(idx, device=device), (3, 4)),
                            torch.unravel_index(torch.tensor(idx), (3, 4))):
        np.testing.assert_array_equal(host(ours), theirs.numpy())
    assert_close_f16(tl.logspace(-1, 2, 7, device=device), torch.logspace(-1, 2, 7, dtype=torch.float64).numpy())
    assert_close_f16(tl.logspace(0, 3, 4, base=2.0, device=device), torch.logspace(0, 3, 4, base=2.0).numpy())
    assert tl.is_complex(x) is False and not x.is_complex()
    assert tl.tensor([2.0]).is_nonzero() and not tl.tensor(0.0).is_nonzero()
    with pytest.raises(RuntimeError):
        x.is_nonzero()


@pytest.mark.parametrize("name,args", [("tril_", (0,)), ("triu_", (1,)), ("cumsum_", (1,)), ("cumprod_", (0,)),
                                       ("fill_diagonal_", (2.5,)), ("fill_diagonal_", (-1.0, True))])
def test_inplace_arrangements(device, name, args, rng):
    x = _randn(rng, 7, 3) if name == "fill_diagonal_" else _randn(rng, 3, 4)
    t, r = tl.tensor(x, device=device), torch.tensor(x.astype(np.float64))
    assert getattr(t, name)(*args) is t
    getattr(r, name)(*args)
    assert_close_f16(t, r.numpy())
    cube = tl.zeros((3, 3, 3), device=device).fill_diagonal_(1.0)
    np.testing.assert_array_equal(host(cube), torch.zeros(3, 3, 3).fill_diagonal_(1.0).numpy())


def test_channel_shuffle_softmax2d_lazy_linear(device, rng):
    x = _randn(rng, 2, 6, 3, 2)
    _compare(device, lambda t: nn.ChannelShuffle(3)(t), lambda t: torch.nn.ChannelShuffle(3)(t), [x], rng=rng)
    _compare(device, lambda t: tl.channel_shuffle(t, 2), lambda t: torch.channel_shuffle(t, 2), [x], rng=rng)
    _compare(device, nn.Softmax2d(), torch.nn.Softmax2d(), [x], rng=rng)
    with pytest.raises(tl.ShapeMismatchError):
        nn.functional.channel_shuffle(tl.tensor(x, device=device), 4)
    lazy = nn.LazyLinear(5).to(device)
    assert lazy.weight is None
    out = lazy(tl.tensor(_randn(rng, 4, 3), device=device))
    assert type(lazy) is nn.Linear and lazy.in_features == 3 and tuple(lazy.weight.shape) == (5, 3)
    assert tuple(out.shape) == (4, 5) and set(lazy.state_dict()) == {"weight", "bias"}
    bound = 1 / np.sqrt(3)
    assert np.abs(host(lazy.bias)).max() <= bound + 1e-3


@pytest.mark.parametrize("name,args", [("celu", (0.7,)), ("selu", ()), ("hardshrink", (0.3,)), ("threshold", (0.1, -2.0)),
                                       ("pixel_shuffle", (2,)), ("pixel_unshuffle", (2,)), ("max_pool1d", (2,)),
                                       ("avg_pool1d", (3, 1, 1)), ("rrelu", (0.1, 0.3)),
                                       ("cosine_similarity", None), ("pairwise_distance", None),
                                       ("max_pool3d", (2,))])
def test_torch_level_aliases(device, name, args, rng):
    if args is None:
        a, b = _randn(rng, 4, 5), _randn(rng, 4, 5)
        _compare(device, getattr(tl, name), getattr(torch, name), [a, b], rng=rng)
        return
    shape = {"pixel_shuffle": (1, 8, 2, 3), "pixel_unshuffle": (1, 2, 4, 6), "max_pool3d": (1, 2, 4, 4, 4)}.get(name, (2, 4, 6))
    _compare(device, lambda t: getattr(tl, name)(t, *args), lambda t: getattr(torch, name)(t, *args), [_randn(rng, *shape)],
             rng=rng)
