"""optim.SparseAdam on the gradients of sparse=True lookups (nn/sparse_rows.py) against torch.optim.SparseAdam on
PyTorch's sparse gradients, from the same f16 weights and indices (fresh seeds): Embedding with and without
padding_idx, EmbeddingBag, a looked-up row whose gradient is zero (updated, as PyTorch's), maximize, the state
names; dense gradients still raise PyTorch's error."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import f16_randn


def _run(lib, rng_seed, weights, padding_idx, maximize, device=None):
    rng = np.random.default_rng(rng_seed)  # the same indices for both libraries
    emb = lib.nn.Embedding(12, 4, sparse=True, padding_idx=padding_idx)
    bag = lib.nn.EmbeddingBag(12, 4, sparse=True, mode="sum")
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(weights[0]))
        bag.weight.copy_(lib.tensor(weights[1]))
    if device is not None:
        emb, bag = emb.to(device), bag.to(device)
    opt = lib.optim.SparseAdam([*emb.parameters(), *bag.parameters()], lr=0.05, maximize=maximize)
    for step in range(4):
        idx = lib.tensor(rng.integers(0, 12, (3, 2)), device=device)
        target = lib.tensor(rng.uniform(-1, 1, (3, 2, 4)).astype(np.float16), device=device)
        opt.zero_grad()
        loss = ((emb(idx) - target) ** 2).sum() + (bag(idx) ** 2).sum() * 0.5
        if step == 2:  # a lookup whose gradient is zero: its row is in PyTorch's sparse gradient all the same
            loss = loss + emb(lib.tensor([11], device=device)).sum() * 0
        loss.backward()
        opt.step()
    return ([p.detach().cpu().numpy().astype(np.float32) for p in (emb.weight, bag.weight)],
            sorted(k for k in opt.state_dict()["state"][0] if k != "compensation"))


@pytest.mark.parametrize("padding_idx,maximize", [(None, False), (0, False), (3, True)])
def test_sparse_adam_follows_torch(device, rng, padding_idx, maximize):
    weights = [f16_randn(rng, (12, 4)) for _ in range(2)]
    seed = int(rng.integers(1 << 30))
    (ours, our_keys), (theirs, their_keys) = (_run(tl, seed, weights, padding_idx, maximize, device),
                                              _run(torch, seed, [w.astype(np.float32) for w in weights],
                                                   padding_idx, maximize))
    assert our_keys == their_keys == ["exp_avg", "exp_avg_sq", "step"]
    for a, b, start in zip(ours, theirs, weights):
        # rows never looked up stay exactly as they were, in both
        assert np.array_equal(a == start.astype(np.float32), b.astype(np.float16).astype(np.float32) == start)
        np.testing.assert_allclose(a, b, rtol=4e-3, atol=4e-3)


def test_dense_gradients_still_raise(device):
    emb = tl.nn.Embedding(5, 3, sparse=True).to(device)
    linear = tl.nn.Linear(3, 1).to(device)
    opt = tl.optim.SparseAdam([*emb.parameters(), *linear.parameters()])
    linear(emb(tl.tensor([1, 2], device=device))).sum().backward()
    before = emb.weight.detach().clone()
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        opt.step()
    assert tl.equal(emb.weight, before)  # nothing was updated
    linear.weight.grad = linear.bias.grad = None  # the sparse weight's rows are still there for the next step
    opt.step()
    assert not tl.equal(emb.weight, before) and tl.equal(emb.weight[[0, 3, 4]], before[[0, 3, 4]])
