"""torch.utils.data's StackDataset and ChainDataset, and torch.nn.utils' unpack_sequence, skip_init,
convert_parameters and nn.init.sparse_, against PyTorch's answers."""
import math

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import tensorlogic as tl
from tensorlogic.utils import data


class _Range(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class _Batched(data.Dataset):
    """A dataset with its own __getitems__ (which StackDataset must use)."""

    def __init__(self):
        self.calls = 0

    def __getitem__(self, i):
        return i * 10

    def __getitems__(self, indices):
        self.calls += 1
        return [i * 10 for i in indices]

    def __len__(self):
        return 3


def test_stack_dataset_tuples_dicts_and_batches():
    a = data.TensorDataset(tl.arange(3))
    s = data.StackDataset(a, list("abc"))
    assert len(s) == 3 and s[1][1] == "b" and s[1][0][0].item() == 1
    named = data.StackDataset(x=list("abc"), y=[1, 2, 3])
    theirs = tdata.StackDataset(x=list("abc"), y=[1, 2, 3])
    assert named[2] == theirs[2] and named.__getitems__([0, 2]) == theirs.__getitems__([0, 2])
    batched = _Batched()
    assert data.StackDataset(batched, list("xyz")).__getitems__([2, 0]) == [(20, "z"), (0, "x")]
    assert batched.calls == 1
    loader = data.DataLoader(data.StackDataset(tl.arange(4), list("wxyz")), batch_size=2)
    first = next(iter(loader))
    assert first[0].tolist() == [0, 1] and list(first[1]) == ["w", "x"]
    for bad in (lambda: data.StackDataset(a, [1]), lambda: data.StackDataset(a, y=[1, 2, 3]),
                lambda: data.StackDataset()):
        with pytest.raises(ValueError):
            bad()


def test_chain_dataset_and_iterable_addition():
    chained = data.ChainDataset([_Range(2), _Range(3)])
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    assert list(_Range(1) + _Range(2)) == [0, 0, 1]
    assert [b.tolist() for b in data.DataLoader(chained, batch_size=2)] == [[0, 1], [0, 1], [2]]
    with pytest.raises(TypeError):
        list(data.ChainDataset([_Range(1), [5]]))


def test_unpack_sequence_restores_the_order(device):
    seqs = [tl.tensor([1.0, 2.0], device=device), tl.tensor([3.0, 4.0, 5.0], device=device), tl.tensor([6.0], device=device)]
    packed = tl.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    assert [s.tolist() for s in tl.nn.utils.rnn.unpack_sequence(packed)] == [s.tolist() for s in seqs]
    tseqs = [torch.tensor(s.tolist()) for s in seqs]
    theirs = torch.nn.utils.rnn.unpack_sequence(torch.nn.utils.rnn.pack_sequence(tseqs, enforce_sorted=False))
    assert [s.tolist() for s in theirs] == [s.tolist() for s in seqs]


def test_skip_init_draws_nothing_and_builds_the_module(device):
    tl.manual_seed(7)
    expected = tl.rand(3).tolist()
    tl.manual_seed(7)
    m = tl.nn.utils.skip_init(tl.nn.Linear, 5, 4, device=device)
    assert isinstance(m, tl.nn.Linear) and m.weight.shape == (4, 5) and m.bias.shape == (4,)
    assert tl.rand(3).tolist() == expected  # the stream is where it was: no initializer drew from it
    tl.nn.init.zeros_(m.weight)  # initializers work again afterwards
    assert m.weight.abs().sum().item() == 0
    with pytest.raises(RuntimeError, match="device"):
        tl.nn.utils.skip_init(tl.nn.ReLU)
    with pytest.raises(RuntimeError):
        tl.nn.utils.skip_init(int)


def test_convert_parameters_is_the_module_pytorch_has():
    conv = tl.nn.utils.convert_parameters
    assert conv.parameters_to_vector is tl.nn.utils.parameters_to_vector
    model = tl.nn.Linear(3, 2)
    vec = conv.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    conv.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert model.weight.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 1.0])
def test_sparse_init_zeroes_that_many_rows_per_column(device, sparsity):
    w = tl.empty(20, 7, device=device)
    assert tl.nn.init.sparse_(w, sparsity, std=0.5) is w
    zeros_per_column = (w == 0).sum(0).tolist()
    assert zeros_per_column == [math.ceil(sparsity * 20)] * 7
    ref = torch.empty(20, 7)
    torch.nn.init.sparse_(ref, sparsity, std=0.5)
    assert (ref == 0).sum(0).tolist() == zeros_per_column
    kept = w.cpu().numpy()[w.cpu().numpy() != 0]
    if kept.size > 50:
        assert 0.3 < np.std(kept.astype(np.float64)) < 0.7
    with pytest.raises(ValueError):
        tl.nn.init.sparse_(tl.empty(3, device=device), 0.5)
