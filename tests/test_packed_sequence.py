"""Packed sequences (torch.nn.utils.rnn's PackedSequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence) and the recurrent layers on them, against PyTorch: data, batch sizes and indices, padding back,
outputs, final states and gradients."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.nn.utils import rnn as R

from _torch_modules import copy_weights
from oracle import f16_randn, host

TR = torch.nn.utils.rnn


def _distinct_lengths(rng, batch, steps):
    """Lengths without ties (where the sort order of equal lengths is PyTorch's own choice), longest = steps."""
    lengths = rng.permutation(np.arange(1, steps + 1))[:batch].tolist()
    lengths[int(rng.integers(batch))] = steps
    return lengths if len(set(lengths)) == batch else _distinct_lengths(rng, batch, steps)


@pytest.mark.parametrize("batch_first,enforce_sorted", [(False, False), (True, False), (False, True)])
def test_pack_and_pad_match_torch(device, rng, batch_first, enforce_sorted):
    lengths = _distinct_lengths(rng, 4, 6)
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    x = f16_randn(rng, (4, 6, 3) if batch_first else (6, 4, 3))
    lx = tl.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    ours = R.pack_padded_sequence(lx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    theirs = TR.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(host(ours.data).astype(np.float32), theirs.data.detach().numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist() and ours.batch_sizes.device.type == "cpu"
    for a, b in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None and b is None) or a.tolist() == b.tolist()
    (l_pad, l_len), (t_pad, t_len) = (R.pad_packed_sequence(ours, batch_first, -1.0, total_length=7),
                                      TR.pad_packed_sequence(theirs, batch_first, -1.0, total_length=7))
    np.testing.assert_array_equal(host(l_pad).astype(np.float32), t_pad.detach().numpy())
    assert l_len.tolist() == t_len.tolist() == lengths
    weights = f16_randn(rng, tuple(t_pad.shape))
    (l_pad * tl.tensor(weights, device=device)).sum().backward()
    (t_pad * torch.tensor(weights.astype(np.float32))).sum().backward()
    np.testing.assert_allclose(host(lx.grad).astype(np.float32), tx.grad.numpy(), rtol=1e-3, atol=1e-3)


def test_pack_sequence_and_errors(device, rng):
    seqs = [f16_randn(rng, (n, 2)) for n in (2, 5, 3)]
    ours = R.pack_sequence([tl.tensor(s, device=device) for s in seqs], enforce_sorted=False)
    theirs = TR.pack_sequence([torch.tensor(s.astype(np.float32)) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(host(ours.data).astype(np.float32), theirs.data.numpy())
    x = tl.zeros(5, 3, 2, device=device)
    with pytest.raises(ValueError, match="decreasing"):
        R.pack_padded_sequence(x, [2, 5, 3])
    with pytest.raises(ValueError, match="greater than 0"):
        R.pack_padded_sequence(x, [5, 0, 3], enforce_sorted=False)
    with pytest.raises(ValueError):
        R.pack_padded_sequence(x, [6, 5, 3])  # longer than the padded steps
    with pytest.raises(ValueError):
        R.pack_padded_sequence(tl.zeros(5, device=device), [5])
    with pytest.raises(ValueError):
        R.pad_packed_sequence(R.pack_padded_sequence(x, [5, 3, 2]), total_length=4)


@pytest.mark.parametrize("name,kwargs", [("LSTM", dict(num_layers=2, bidirectional=True)), ("GRU", {}),
                                         ("RNN", dict(bidirectional=True))])
def test_recurrent_layers_on_packed_input_match_torch(device, rng, name, kwargs):
    """Each sequence runs for its own length: the outputs, h_n (and c_n) of its last step, the reverse direction
    from its end; hx and h_n in the batch's original order; gradients of inputs, states and weights."""
    tmod = getattr(torch.nn, name)(3, 4, batch_first=True, **kwargs)
    lmod = copy_weights(tmod, getattr(tl.nn, name)(3, 4, batch_first=True, **kwargs), device)
    lengths = [3, 6, 1, 4, 6]  # a tie, unsorted
    x = f16_randn(rng, (5, 6, 3))
    layers = tmod.num_layers * (2 if tmod.bidirectional else 1)
    states = [f16_randn(rng, (layers, 5, 4)) for _ in range(2 if name == "LSTM" else 1)]
    t_args = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in [x] + states]
    l_args = [tl.tensor(a, device=device, requires_grad=True) for a in [x] + states]
    outs = []
    for lib, R_, mod, args in ((torch, TR, tmod, t_args), (tl, R, lmod, l_args)):
        packed = R_.pack_padded_sequence(args[0], lengths, batch_first=True, enforce_sorted=False)
        out, hn = mod(packed, tuple(args[1:]) if name == "LSTM" else args[1])
        padded, _ = R_.pad_packed_sequence(out, batch_first=True)
        finals = list(hn) if name == "LSTM" else [hn]
        outs.append([padded] + finals)
    weights = [f16_randn(rng, tuple(o.shape)) for o in outs[0]]
    for lib, results in ((torch, outs[0]), (tl, outs[1])):
        sum(((o * lib.tensor(w.astype(np.float32) if lib is torch else w)).sum() for o, w in zip(results, weights)),
            ).backward()
    for ours, theirs in zip(outs[1], outs[0]):
        np.testing.assert_allclose(host(ours).astype(np.float32), theirs.detach().numpy(), rtol=1e-2, atol=1e-2)
    for ours, theirs in zip(l_args, t_args):
        np.testing.assert_allclose(host(ours.grad).astype(np.float32), theirs.grad.numpy(), rtol=3e-2, atol=3e-2)
    for (n, p), q in zip(lmod.named_parameters(), tmod.parameters()):
        np.testing.assert_allclose(host(p.grad).astype(np.float32), q.grad.numpy(), rtol=3e-2, atol=5e-2, err_msg=n)


_X = tl.zeros(4, 3, 2)


@pytest.mark.parametrize("call, error, match", [
    # lengths of every kind (found by hand and by tests/fuzz_ops.py: raw KeyError-like messages, numpy's, a ragged
    # max() of nothing)
    (lambda: R.pack_padded_sequence(_X, 3), TypeError, "lengths must be a sequence"),
    (lambda: R.pack_padded_sequence(_X, "abc"), TypeError, "lengths must be a sequence"),
    (lambda: R.pack_padded_sequence(_X, tl.tensor(3)), ValueError, "1-d tensor, got 0-d"),
    (lambda: R.pack_padded_sequence(_X, tl.tensor([[3, 2, 1]])), ValueError, "1-d tensor, got 2-d"),
    (lambda: R.pack_padded_sequence(_X, [float("nan"), 1, 1]), ValueError, "cannot be converted"),
    (lambda: R.pack_padded_sequence(_X, [3, None, 1]), TypeError, "must hold numbers"),
    (lambda: R.pack_padded_sequence(tl.zeros(4, 0, 2), []), ValueError, "empty"),
    (lambda: R.pack_padded_sequence([1, 2], [1]), TypeError, "Tensor"),
    # hand-made packings whose parts disagree (an IndexError "list index out of range" before)
    (lambda: R.pad_packed_sequence("x"), TypeError, "expected a PackedSequence"),
    (lambda: R.pad_packed_sequence((tl.zeros(3, 2), tl.tensor([2, 1]))), TypeError, "expected a PackedSequence"),
    (lambda: R.pad_packed_sequence(R.PackedSequence(tl.zeros(3, 2), tl.tensor([1, 2]))), ValueError, "non-increasing"),
    (lambda: R.pad_packed_sequence(R.PackedSequence(tl.zeros(3, 2), tl.tensor([], dtype=tl.int64))), ValueError,
     "non-increasing"),
    (lambda: R.pad_packed_sequence(R.PackedSequence(tl.zeros(3, 2), tl.tensor([2, 2]))), ValueError, "count 4 rows"),
    (lambda: R.pad_packed_sequence(R.PackedSequence(tl.zeros(3, 2), tl.tensor([2.0, 1.0]))), TypeError, "integer"),
    (lambda: R.pad_packed_sequence(R.PackedSequence(tl.zeros(3, 2), tl.tensor([2, 1]), tl.tensor([0, 0]))),
     ValueError, "permutation"),
    (lambda: R.pad_packed_sequence(R.PackedSequence(tl.zeros(3, 2), tl.tensor([2, 1]), tl.tensor([0.0, 1.0]))),
     TypeError, "sorted_indices"),
    (lambda: R.pad_packed_sequence(R.pack_padded_sequence(_X, [3, 2, 1]), total_length=2.5), TypeError,
     "total_length"),
    (lambda: R.pad_packed_sequence(R.pack_padded_sequence(_X, [3, 2, 1]), total_length=2**62), MemoryError,
     "beyond any memory"),  # a pybind11 "incompatible function arguments" of full() before
    (lambda: R.pad_packed_sequence(R.pack_padded_sequence(_X, [3, 2, 1]), padding_value="x"), TypeError,
     "padding_value"),
    (lambda: R.pad_sequence([tl.zeros(3)], padding_value="x"), TypeError, "padding_value"),
    (lambda: R.unpad_sequence(None, [1]), TypeError, "padded_sequences"),
    (lambda: R.unpad_sequence(_X, [5, 1, 1]), ValueError, "lengths"),
    (lambda: R.unpad_sequence(_X, [-1, 1, 1]), ValueError, "lengths"),
    # the recurrent layers' states and packed inputs
    (lambda: tl.nn.LSTM(2, 3)(R.pack_padded_sequence(_X, [3, 2, 1]), (tl.zeros(1, 3, 3),)), TypeError,
     "hx must be a tuple"),
    (lambda: tl.nn.LSTM(2, 3)(_X, tl.zeros(1, 3, 3)), TypeError, "hx must be a tuple"),
    (lambda: tl.nn.GRU(2, 3)(_X, (tl.zeros(1, 3, 3), tl.zeros(1, 3, 3))), TypeError, "hx must be a Tensor"),
    (lambda: tl.nn.GRU(5, 3)(R.pack_padded_sequence(_X, [3, 2, 1])), ValueError, "input_size"),
    (lambda: tl.nn.RNN(2, 3)(R.PackedSequence(tl.zeros(3, 2), tl.tensor([1, 2]))), ValueError, "RNN: batch_sizes"),
    (lambda: tl.nn.RNN(2, 3)(R.PackedSequence(tl.zeros(3), tl.tensor([2, 1]))), ValueError, "2 dimensions"),
    (lambda: tl.nn.RNN(2, 3)([1.0, 2.0]), TypeError, "input must be a Tensor"),
    (lambda: tl.nn.GRU(2.5, 3), TypeError, "input_size should be of type int"),
    (lambda: tl.nn.GRU(np.zeros(2), 3), TypeError, "input_size should be of type int"),  # empty(): pybind11 before
    (lambda: tl.nn.LSTM(2, -1), ValueError, "hidden_size"),
    (lambda: tl.nn.RNN(2, 3, 1, np.zeros(2)), ValueError, "nonlinearity"),  # "truth value ... ambiguous" before
])
def test_hostile_lengths_packings_and_states_raise_typed_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
