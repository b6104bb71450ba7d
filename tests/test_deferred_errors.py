"""Range checks that do not make the host wait (issue #18): the embedding's backward (rows summed without
reading the indices on the host), gather and scatter, their errors on every device (immediate on the CPU;
on CUDA at the next read, naming the op, and cleared so that later work runs), CUDA graphs that replay such
checks, and the count of the host's waits for a CUDA device in training steps."""
import pathlib
import sys

import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import f16_randn, host
from tensorlogic import _core
from tensorlogic.tensor import _wrap

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
from gpt_step import build_gpt  # noqa: E402  (the benchmark's GPT, written over either library's nn)

needs_cuda = pytest.mark.skipif(not tl.cuda.is_available(), reason="needs CUDA")


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


@needs_cuda
def test_cuda_checks_wait_for_the_next_read(rng):
    w = tl.tensor(f16_randn(rng, (5, 3)), device="cuda", requires_grad=True)
    bad = tl.tensor(np.array([[2, -1], [7, 2]]), device="cuda")  # int64
    before = _core.host_reads("cuda")
    out = F.embedding(bad, w)  # no error yet: raising here would need the host to read the indices
    out.backward(tl.ones(2, 2, 3, device="cuda"))
    assert _core.host_reads("cuda") == before
    with pytest.raises(IndexError, match=r"embedding: index (-1|7) is out of bounds for dimension 0 with size 5"):
        w.grad.numpy()  # the forward's check came first (either bad index may take the record)
    # entries out of range added nothing; the valid ones were summed
    np.testing.assert_array_equal(host(w.grad)[[0, 1, 3, 4]], np.zeros((4, 3), np.float16))
    np.testing.assert_array_equal(host(w.grad)[2], np.full(3, 2.0, np.float16))
    tl.embedding(w.detach(), bad)
    with pytest.raises(IndexError, match="embedding: index (-1|7) is out of bounds"):
        tl.cuda.synchronize()
    tl.cuda.synchronize()


@needs_cuda
def test_cuda_graph_replays_arm_the_check(rng):
    # a check captured in a graph runs again at every launch: its error is read at the next wait after it
    w = tl.tensor(f16_randn(rng, (6, 4)), device="cuda")
    idx = tl.tensor(np.array([1, 2, 3], np.int32), device="cuda")
    graph = _core.Graph("cuda")
    graph.pool_begin()
    out = tl.embedding(w, idx)
    graph.pool_end()
    del out
    graph.capture_begin()
    out = tl.embedding(w, idx)
    assert graph.capture_end() == ""
    graph.launch()  # (capture queued nothing that ran)
    np.testing.assert_array_equal(host(out), host(w)[[1, 2, 3]])
    idx.copy_(tl.tensor(np.array([1, 6, 3], np.int32), device="cuda"))
    graph.launch()
    with pytest.raises(IndexError, match="embedding: index 6 is out of bounds"):
        out.numpy()
    idx.copy_(tl.tensor(np.array([5, 0, 3], np.int32), device="cuda"))
    graph.launch()
    np.testing.assert_array_equal(host(out), host(w)[[5, 0, 3]])


@needs_cuda
def test_cuda_gather_and_scatter_skip_bad_indices_until_the_read(rng):
    x = f16_randn(rng, (4, 6))
    idx = np.array([[1, 7, 0], [3, -2, 2]])
    before = _core.host_reads("cuda")
    picked = tl.gather(tl.tensor(x, device="cuda"), 1, tl.tensor(idx, device="cuda"))
    added = tl.scatter_add(tl.zeros(4, 6, device="cuda"), 1, tl.tensor(idx, device="cuda"),
                           tl.ones(2, 3, device="cuda"))
    assert _core.host_reads("cuda") == before
    with pytest.raises(IndexError, match=r"gather: index (7|-2) is out of bounds for dimension 1 with size 6"):
        picked.numpy()  # the gather came first; the scatter_add's record waits behind it
    np.testing.assert_array_equal(host(picked), [[x[0, 1], 0, x[0, 0]], [x[1, 3], 0, x[1, 2]]])
    expected = np.zeros((4, 6), np.float16)
    expected[0, [1, 0]] = 1
    expected[1, [3, 2]] = 1
    np.testing.assert_array_equal(host(added), expected)


@needs_cuda
def test_cuda_one_index_reads_nothing(rng):
    # t[idx], t[:, idx] = v, index_select and the gradient of t[idx] (index_put_ with accumulate) on the device
    x0 = f16_randn(rng, (5, 4, 3))
    x = tl.tensor(x0, device="cuda", requires_grad=True)
    idx = rng.integers(-4, 4, (2, 3))
    before = _core.host_reads("cuda")
    picked = x[:, tl.tensor(idx, device="cuda")]
    picked.backward(tl.ones(*picked.shape, device="cuda"))
    selected = tl.index_select(x.detach(), 2, tl.tensor(np.array([2, 0, 2], np.int32), device="cuda"))
    written = x.detach().clone()
    written[:, tl.tensor(np.array([1, -1]), device="cuda")] = 7.0
    assert _core.host_reads("cuda") == before
    np.testing.assert_array_equal(host(picked), x0[:, idx])
    counts = np.zeros((5, 4, 3), np.float16)
    np.add.at(counts, (slice(None), idx.reshape(-1)), 1)
    np.testing.assert_array_equal(host(x.grad), counts)
    np.testing.assert_array_equal(host(selected), x0[:, :, [2, 0, 2]])
    expected = x0.copy()
    expected[:, [1, -1]] = 7.0
    np.testing.assert_array_equal(host(written), expected)


@needs_cuda
def test_cuda_nll_loss_step_waits_only_for_the_loss(rng):
    # F.nll_loss(F.log_softmax(...)) as the PyTorch examples train: gather forward, scatter_add backward, AdamW
    model = tl.nn.Linear(12, 7).to("cuda")
    opt = tl.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(2):
        x = tl.tensor(f16_randn(rng, (16, 12)), device="cuda")
        y = tl.tensor(rng.integers(0, 7, 16), device="cuda")
        before = _core.host_reads("cuda")
        opt.zero_grad()
        loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)
        loss.backward()
        opt.step()
        assert _core.host_reads("cuda") == before
        assert np.isfinite(loss.item())
        assert _core.host_reads("cuda") == before + 1


@needs_cuda
def test_cuda_gpt_step_waits_only_for_the_loss(rng):
    # benchmarks/gpt_step.py's step at a small size: forward, backward, the scaler and AdamW never wait for the
    # device (the scaler's inf/NaN flag and scale stay there, as with PyTorch's fused AdamW); the loss is read
    # when asked for
    vocab, block, batch = 97, 16, 4
    model = build_gpt(tl, vocab=vocab, block=block, layers=2, width=32, heads=4).to("cuda")
    opt = tl.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    scaler = tl.amp.GradScaler()
    model.positions = tl.arange(block, dtype=tl.int32, device="cuda")

    def batch_tensors():
        x = rng.integers(0, vocab, (batch, block + 1)).astype(np.int32)
        return tl.tensor(x[:, :-1], device="cuda"), tl.tensor(x[:, 1:], device="cuda")

    counts = []
    for _ in range(3):
        x, y = batch_tensors()
        before = _core.host_reads("cuda")
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        scaler.scale(loss).backward()
        after_backward = _core.host_reads("cuda")
        scaler.step(opt)
        scaler.update()
        after_step = _core.host_reads("cuda")
        value = loss.item()
        counts.append((after_backward - before, after_step - after_backward, _core.host_reads("cuda") - after_step))
        assert np.isfinite(value)
    assert counts == [(0, 0, 1)] * 3
    # a bad target in such a step skips the update on the device (the pending error sets the scaler's flag)
    # and is raised at the loss's read, naming the op; the next step runs
    weights = [p.numpy().copy() for p in model.parameters()]
    scale = scaler.get_scale()
    x, y = batch_tensors()
    y.copy_(tl.tensor(np.full((batch, block), vocab, np.int32), device="cuda"))
    loss = model(x, y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    with pytest.raises(IndexError, match=f"softmax_cross_entropy: target {vocab} is out of bounds"):
        loss.item()
    for p, w in zip(model.parameters(), weights):
        np.testing.assert_array_equal(p.numpy(), w)
    assert scaler.get_scale() == scale / 2
    opt.zero_grad(set_to_none=True)
    x, y = batch_tensors()
    assert np.isfinite(model(x, y).item())


def test_host_reads_on_the_cpu_are_none():
    x = tl.tensor(np.ones(3, np.float16), device="cpu")
    before = _core.host_reads("cpu")
    x.numpy()
    assert _core.host_reads("cpu") == before == 0
