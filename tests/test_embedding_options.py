"""nn.Embedding / F.embedding's options against PyTorch on random f16 tables (fresh seeds): padding_idx blocks
only the lookups' gradient (a tied decoder still trains the padding row), scale_grad_by_freq, max_norm's in-place
renormalisation, from_pretrained (shared weight, freeze) and _weight."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16


def _table(rng, rows=7, dim=4):
    return (rng.standard_normal((rows, dim)) * 1.5).astype(np.float16)


def _indices(rng, rows=7):
    idx = rng.integers(0, rows, (3, 5))
    idx[0, :2] = 2  # the padding row and a repeated index occur on every seed
    return idx


@pytest.mark.parametrize("padding_idx,scale_grad_by_freq", [(2, False), (-5, True), (None, True)])
def test_tied_embedding_and_decoder_match_torch(device, rng, padding_idx, scale_grad_by_freq):
    """The weight is both the lookup table and a decoder's matrix, as BERT/GPT tie them: only the lookups of the
    padding index are cut off, and each lookup's gradient is divided by its index's count when asked."""
    table, idx = _table(rng), _indices(rng)
    g = rng.uniform(0.5, 1.5, (3, 5, 7)).astype(np.float16)
    grads = []
    for lib, dev in ((tl, device), (torch, "cpu")):
        emb = lib.nn.Embedding(7, 4, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq, device=dev)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(table.astype(np.float32), device=dev))
        logits = emb(lib.tensor(idx, device=dev)) @ emb.weight.t()
        (logits * lib.tensor(g.astype(np.float32), device=dev)).sum().backward()
        grads.append(emb.weight.grad.cpu().numpy())
    assert_close_f16(grads[0], grads[1], atol=2e-2)
    assert np.abs(grads[1][2]).max() > 0  # the padding row still gets the decoder's gradient


def test_functional_padding_idx_blocks_its_lookups(device, rng):
    table, idx = _table(rng), _indices(rng)
    w = tl.tensor(table, device=device, requires_grad=True)
    tw = torch.tensor(table.astype(np.float64), requires_grad=True)
    tl.nn.functional.embedding(tl.tensor(idx, device=device), w, padding_idx=2).sum().backward()
    torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=2).sum().backward()
    np.testing.assert_array_equal(w.grad.cpu().numpy(), tw.grad.numpy())
    assert not w.grad.cpu().numpy()[2].any()


def test_max_norm_renormalises_the_looked_up_rows(device, rng):
    table, idx = _table(rng), _indices(rng)
    ours = tl.nn.Embedding.from_pretrained(tl.tensor(table, device=device), max_norm=1.0, norm_type=1.5)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table.astype(np.float64)), max_norm=1.0, norm_type=1.5)
    out, ref = ours(tl.tensor(idx, device=device)), theirs(torch.tensor(idx))
    assert_close_f16(out.cpu().numpy(), ref.numpy())
    assert_close_f16(ours.weight.cpu().numpy(), theirs.weight.numpy())  # untouched rows stay as they were
    assert "max_norm=1.0, norm_type=1.5" in repr(ours)


def test_from_pretrained_shares_and_freezes(device, rng):
    table = tl.tensor(_table(rng), device=device)
    frozen = tl.nn.Embedding.from_pretrained(table, padding_idx=0)
    assert not frozen.weight.requires_grad and frozen.padding_idx == 0
    assert frozen.weight.data_ptr() == table.data_ptr()  # PyTorch shares the given tensor too
    trained = tl.nn.Embedding.from_pretrained(table, freeze=False)
    trained(tl.tensor([[1, 3]], device=device)).sum().backward()
    assert trained.weight.requires_grad and trained.weight.grad.shape == (7, 4)
    assert tuple(tl.nn.Embedding(7, 4, _weight=table).weight.shape) == (7, 4)
    with pytest.raises(ValueError, match="2-dimensional"):
        tl.nn.Embedding.from_pretrained(tl.ones(3, device=device))
    with pytest.raises(tl.ShapeMismatchError, match="_weight"):
        tl.nn.Embedding(5, 4, _weight=table)
    with pytest.raises(ValueError, match="Padding_idx"):
        tl.nn.functional.embedding(tl.tensor([0], device=device), table, padding_idx=9)
