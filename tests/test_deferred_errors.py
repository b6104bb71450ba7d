"""Range checks of indices and targets that a device may make without the host waiting (issue #18): the
embedding's backward as one op (rows summed in f32, rounded once), and the typed error of every indexing op
on every device, naming the op (the CPU raises at the call; a backend that checks on the device raises at
the next read), after which the next program runs."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import f16_randn, host
from tensorlogic import _core
from tensorlogic.tensor import _wrap


def _summed_rows(rows, idx, g):
    """The oracle: g's rows added at their indices in float64, rounded to f16 once."""
    out = np.zeros((rows, g.shape[-1]), np.float64)
    np.add.at(out, idx.reshape(-1), g.reshape(-1, g.shape[-1]).astype(np.float64))
    return out.astype(np.float16).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_embedding_backward_sums_repeated_rows(device, rng, dtype):
    rows, dim = int(rng.integers(1, 40)), int(rng.integers(1, 300))
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 70)))
    idx = rng.integers(0, rows, shape)
    idx.reshape(-1)[rng.random(idx.size) < 0.5] = rng.integers(0, rows)  # one row repeated across many chunks
    w = tl.tensor(f16_randn(rng, (rows, dim)), device=device, requires_grad=True)
    g = f16_randn(rng, shape + (dim,))
    F.embedding(tl.tensor(idx.astype(dtype), device=device), w).backward(tl.tensor(g, device=device))
    # f32 sums rounded once: float64's sum rounded to f16, up to f32's error in the last f16 place
    np.testing.assert_allclose(host(w.grad).astype(np.float64), _summed_rows(rows, idx, g), rtol=1e-3, atol=1e-3)


def test_embedding_backward_is_deterministic(device, rng):
    idx = tl.tensor(rng.integers(0, 5, 3000).astype(np.int32), device=device)
    g = tl.tensor(f16_randn(rng, (3000, 33)), device=device)
    first = host(_wrap(_core.embedding_backward(g._a, idx._a, 5)))
    for _ in range(3):
        np.testing.assert_array_equal(host(_wrap(_core.embedding_backward(g._a, idx._a, 5))), first)


def test_embedding_backward_edges(device, rng):
    g = tl.tensor(f16_randn(rng, (0, 4)), device=device)
    empty = _wrap(_core.embedding_backward(g._a, tl.zeros(0, dtype=tl.int32, device=device)._a, 3))
    np.testing.assert_array_equal(host(empty), np.zeros((3, 4), np.float16))
    one = f16_randn(rng, (6,))
    out = _core.embedding_backward(tl.tensor(one, device=device)._a, tl.tensor(np.int32(2), device=device)._a, 4)
    expected = np.zeros((4, 6), np.float16)
    expected[2] = one
    np.testing.assert_array_equal(host(_wrap(out)), expected)
    with pytest.raises(tl.ShapeMismatchError, match="embedding_backward"):
        _core.embedding_backward(tl.tensor(f16_randn(rng, (3, 4)), device=device)._a,
                                 tl.zeros(2, dtype=tl.int32, device=device)._a, 5)


def test_embedding_double_backward(device, rng):
    # the weight gradient's own gradient with respect to the upstream gradient is an embedding again
    idx = rng.integers(0, 6, (2, 5))
    w0, c0, m0 = f16_randn(rng, (6, 3)), f16_randn(rng, (2, 5, 3)), f16_randn(rng, (6, 3))
    w = tl.tensor(w0, device=device, requires_grad=True)
    c = tl.tensor(c0, device=device, requires_grad=True)
    (gw,) = tl.autograd.grad((F.embedding(tl.tensor(idx.astype(np.int32), device=device), w) * c).sum(), [w],
                             create_graph=True)
    (gw * tl.tensor(m0, device=device)).sum().backward()
    tw = torch.tensor(w0.astype(np.float64), requires_grad=True)
    tc = torch.tensor(c0.astype(np.float64), requires_grad=True)
    (tgw,) = torch.autograd.grad((torch.nn.functional.embedding(torch.tensor(idx), tw) * tc).sum(), [tw],
                                 create_graph=True)
    (tgw * torch.tensor(m0.astype(np.float64))).sum().backward()
    np.testing.assert_allclose(host(c.grad).astype(np.float64), tc.grad.numpy(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("op", ["embedding", "embedding_backward", "cross_entropy", "gather", "scatter_add",
                                "scatter", "nll_loss", "index_select", "index", "index_put_"])
def test_bad_index_raises_the_typed_error_naming_the_op(device, rng, op):
    # The CPU raises at the call; CUDA at the next read from the device. The message is the same, and the
    # next program runs: a raised error is cleared.
    w = tl.tensor(f16_randn(rng, (5, 3)), device=device)
    bad = tl.tensor(np.array([0, 9, 1], np.int32), device=device)
    rows = bad.reshape(1, 3)
    src = tl.tensor(f16_randn(rng, (1, 3)), device=device)
    calls = {
        "gather": (lambda: tl.gather(w, 0, rows), r"gather: index 9 is out of bounds for dimension 0 with size 5"),
        "scatter_add": (lambda: tl.scatter_add(w, 0, rows, src),
                        r"scatter_add: index 9 is out of bounds for dimension 0 with size 5"),
        "scatter": (lambda: tl.scatter(w, 0, rows, src),
                    r"scatter: index 9 is out of bounds for dimension 0 with size 5"),
        "index_select": (lambda: tl.index_select(w, 1, tl.tensor(np.array([2, -1]), device=device)),
                         r"index_select: index -1 is out of bounds for dimension 1 with size 3"),
        "index": (lambda: w[:, tl.tensor(np.array([[1, -4]]), device=device)],  # -3 would wrap to 0
                  r"index: index -4 is out of bounds for dimension 1 with size 3"),
        "index_put_": (lambda: w.clone().index_put_((bad,), tl.ones(3, 3, device=device), accumulate=True),
                       r"index_put_: index 9 is out of bounds for dimension 0 with size 5"),
        # (nll_loss picks each row's target with gather)
        "nll_loss": (lambda: F.nll_loss(tl.tensor(f16_randn(rng, (3, 5)), device=device), bad),
                     r"gather: index 9 is out of bounds for dimension 1 with size 5"),
        "embedding": (lambda: tl.embedding(w, bad), r"embedding: index 9 is out of bounds for dimension 0 with size 5"),
        "embedding_backward": (lambda: _wrap(_core.embedding_backward(
            tl.tensor(f16_randn(rng, (3, 3)), device=device)._a, bad._a, 5)),
            r"embedding_backward: index 9 is out of bounds for dimension 0 with size 5"),
        "cross_entropy": (lambda: F.cross_entropy(tl.tensor(f16_randn(rng, (3, 5)), device=device), bad),
                          r"softmax_cross_entropy: target 9 is out of bounds for 5 classes"),
    }
    run, message = calls[op]
    with pytest.raises(IndexError, match=message):
        run().numpy()
    good = tl.embedding(w, tl.tensor(np.array([4, 0], np.int32), device=device))
    np.testing.assert_array_equal(host(good), host(w)[[4, 0]])
