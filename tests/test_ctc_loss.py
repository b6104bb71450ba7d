"""ctc_loss and nn.CTCLoss (nn/ctc_loss.py) against PyTorch CPU on the same f16 inputs (fresh seeds): padded and
concatenated targets (with repeated labels, which forbid a skip), per-sample lengths, empty targets, every
reduction, zero_infinity, a blank other than 0, unbatched input; gradients through log_softmax against
torch.autograd, and the true gradient with respect to log_probs by gradcheck; typed errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_to_largest
from tensorlogic.autograd import gradcheck


def _case(rng, steps=25, n=3, classes=6, blank=0):
    logits = rng.standard_normal((steps, n, classes)).astype(np.float16)
    width = 7
    labels = [c for c in range(classes) if c != blank]
    targets = rng.choice(labels, (n, width))
    targets[0, 1] = targets[0, 0]  # a repeated label
    target_lengths = rng.integers(1, width + 1, n)
    target_lengths[-1] = 0  # an empty target
    input_lengths = rng.integers(2 * width + 1, steps + 1, n)
    input_lengths[0] = steps
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(device, rng, reduction, concatenated):
    blank = 0 if not concatenated else 5
    logits, targets, input_lengths, target_lengths = _case(rng, blank=blank)
    if concatenated:
        targets = np.concatenate([row[:k] for row, k in zip(targets, target_lengths)])
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor(logits, dtype=dtype, requires_grad=True)
        # Our log-probabilities are f16: the oracle rounds its own the same way (the gradient passes through
        # unchanged), else a path's sum over every step of rounding errors moves the posteriors by a few
        # percent and the gradients with them (8 of 450 past the tolerance once, seed 795124249).
        log_probs = x.log_softmax(2)
        log_probs = log_probs + (log_probs.half().to(dtype) - log_probs).detach()
        want = TF.ctc_loss(log_probs, torch.tensor(targets), torch.tensor(input_lengths),
                           torch.tensor(target_lengths), blank, reduction)
        a = tl.tensor(logits, device=device, requires_grad=True)
        got = F.ctc_loss(a.log_softmax(2), tl.tensor(targets, device=device), tl.tensor(input_lengths, device=device),
                         tuple(target_lengths.tolist()), blank, reduction)
        assert tuple(got.shape) == tuple(want.shape)
        assert_close_to_largest(got, want.detach().double().numpy().reshape(tuple(got.shape)))
        w = rng.uniform(0.5, 1.5, tuple(want.shape)).astype(np.float16)
        (got * tl.tensor(w, device=device)).sum().backward()
        (want * torch.tensor(w, dtype=dtype)).sum().backward()
        # The gradient runs back through the forward's f16 recursion (a logsumexp per time step, 25 steps, each
        # backward rounded), then log_softmax's backward sums the classes' rounded values: errors of several
        # ulps of the largest (5.4e-3 at 0.72, seed 795124249; 9.8e-3 at 1.18, seed 768431598).
        assert_close_to_largest(a.grad, x.grad.double().numpy(), ulps=12)


def test_ctc_loss_infinite_and_zero_infinity(device, rng):
    """A target longer than its input has no alignment: inf, or 0 with zero_infinity (with a zero gradient)."""
    logits = rng.standard_normal((4, 2, 4)).astype(np.float16)
    targets = np.array([[1, 2, 3, 1, 2], [1, 2, 0, 0, 0]])
    args = (torch.tensor(targets), torch.tensor([4, 4]), torch.tensor([5, 2]))
    for zero_infinity in (False, True):
        x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
        want = TF.ctc_loss(x.log_softmax(2), *args, reduction="none", zero_infinity=zero_infinity)
        module = tl.nn.CTCLoss(reduction="none", zero_infinity=zero_infinity)
        a = tl.tensor(logits, device=device, requires_grad=True)
        got = module(a.log_softmax(2), tl.tensor(targets, device=device), [4, 4], [5, 2])
        assert np.isinf(got.detach().cpu().numpy()[0]) != zero_infinity
        if zero_infinity:
            assert_close_to_largest(got, want.detach().numpy())
            got.sum().backward()
            want.sum().backward()
            assert_close_to_largest(a.grad, x.grad.numpy())


def test_ctc_loss_unbatched_and_module(device, rng):
    logits = rng.standard_normal((9, 5)).astype(np.float16)
    targets = np.array([1, 3, 3, 2])
    want = torch.nn.CTCLoss()(torch.tensor(logits, dtype=torch.float64).log_softmax(1), torch.tensor(targets),
                              torch.tensor(9), torch.tensor(4))
    got = tl.nn.CTCLoss()(tl.tensor(logits, device=device).log_softmax(1), tl.tensor(targets, device=device), 9, 4)
    assert tuple(got.shape) == ()
    assert_close_to_largest(got, want.numpy())


def test_ctc_loss_gradcheck(device, rng):
    """The true derivative of the loss with respect to log_probs (finite differences of PyTorch's values)."""
    lp = torch.tensor(rng.standard_normal((5, 2, 3)), dtype=torch.float64).log_softmax(2).numpy().astype(np.float16)
    targets, lengths = np.array([[1, 1], [2, 1]]), ([5, 4], [2, 2])
    x = tl.tensor(lp, device=device, requires_grad=True)
    ti = tl.tensor(targets, device=device)
    assert gradcheck(lambda t: F.ctc_loss(t, ti, *lengths, reduction="sum"), (x,),
                     reference=lambda t: TF.ctc_loss(torch.from_numpy(t), torch.tensor(targets), *lengths,
                                                     reduction="sum").numpy())


def test_ctc_loss_errors(device):
    lp = tl.zeros((4, 2, 3), device=device)
    targets = tl.tensor(np.ones((2, 2), np.int64), device=device)
    with pytest.raises(ValueError):
        F.ctc_loss(lp, targets, [5, 4], [2, 2])  # longer than the time steps
    with pytest.raises(tl.ShapeMismatchError):
        F.ctc_loss(lp, targets, [4], [2, 2])
    with pytest.raises(ValueError):
        F.ctc_loss(lp, targets, [4, 4], [2, 2], blank=3)
    with pytest.raises(ValueError):
        F.ctc_loss(lp, targets, [4, 4], [2, 2], reduction="max")
    with pytest.raises(TypeError):
        F.ctc_loss(lp, lp, [4, 4], [2, 2])
    with pytest.raises(IndexError):
        F.ctc_loss(lp, targets * 7, [4, 4], [2, 2])
    with pytest.raises(tl.ShapeMismatchError):
        F.ctc_loss(lp[0], targets, [4, 4], [2, 2])
