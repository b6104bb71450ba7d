"""FractionalMaxPool2d/3d (and their functionals) and AdaptiveLogSoftmaxWithLoss against PyTorch CPU on the same
f16-rounded inputs, weights and random samples: values, indices, gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_f16, f16_randn, f16_uniform, host


@pytest.mark.parametrize("dims,shape,kernel,kw", [
    (2, (2, 3, 9, 11), (3, 2), dict(output_size=(4, 5))),
    (2, (3, 10, 10), 2, dict(output_ratio=(0.5, 0.7))),  # unbatched
    (2, (1, 2, 7, 7), 2, dict(output_size=1)),
    (3, (1, 2, 7, 8, 9), (2, 3, 2), dict(output_size=(3, 4, 5))),
])
def test_fractional_max_pool_matches_pytorch(device, rng, dims, shape, kernel, kw):
    x = f16_randn(rng, shape)
    batch = shape[:2] if len(shape) == dims + 2 else (1, shape[0])
    samples = f16_uniform(rng, batch + (dims,), 0.0, 1.0).clip(0, 0.999)
    ours_fn = F.fractional_max_pool2d if dims == 2 else F.fractional_max_pool3d
    theirs_fn = TF.fractional_max_pool2d if dims == 2 else TF.fractional_max_pool3d
    xs = tl.tensor(x, device=device, requires_grad=True)
    out, idx = ours_fn(xs, kernel, return_indices=True, _random_samples=tl.tensor(samples, device=device), **kw)
    rx = torch.from_numpy(x).float().requires_grad_()
    if "output_ratio" in kw:  # PyTorch's functional takes ratios through the module only
        module = torch.nn.FractionalMaxPool2d(kernel, return_indices=True, output_ratio=kw["output_ratio"],
                                              _random_samples=torch.from_numpy(samples).float())
        want, want_idx = module(rx)
    else:
        want, want_idx = theirs_fn(rx, kernel, return_indices=True, _random_samples=torch.from_numpy(samples).float(),
                                   **kw)
    assert host(idx).tolist() == want_idx.tolist() and idx.dtype == tl.int64
    assert_close_f16(out, want.detach().numpy())
    g = f16_randn(rng, tuple(want.shape))
    out.backward(tl.tensor(g, device=device))
    want.backward(torch.from_numpy(g).float())
    assert_close_f16(xs.grad, rx.grad.numpy())


def test_fractional_max_pool_module_draws_its_windows(device):
    pool = tl.nn.FractionalMaxPool2d(2, output_ratio=0.5)
    x = tl.randn(2, 3, 12, 12, device=device)
    tl.manual_seed(11)
    first = pool(x)
    tl.manual_seed(11)
    assert tl.equal(pool(x), first) and first.shape == (2, 3, 6, 6)  # drawn from the stream: replayable
    fixed = tl.nn.FractionalMaxPool3d(2, output_size=3, return_indices=True,
                                      _random_samples=tl.zeros(1, 1, 3, device=device))
    assert fixed(tl.randn(1, 1, 6, 6, 6, device=device))[1].shape == (1, 1, 3, 3, 3)
    assert "_random_samples" in fixed.state_dict()
    with pytest.raises(ValueError):
        tl.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError):
        tl.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
    with pytest.raises(ValueError):
        tl.nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError):
        F.fractional_max_pool2d(tl.ones(1, 1, 5, 5, device=device), 3, output_size=4)
    with pytest.raises(tl.ShapeMismatchError):
        F.fractional_max_pool2d(tl.ones(5, 5, device=device), 2, output_size=2)


def _adaptive_pair(rng, cutoffs, head_bias):
    ours = tl.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs, div_value=2.0, head_bias=head_bias)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs, div_value=2.0, head_bias=head_bias).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(host(v).astype(np.float64)) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("cutoffs,head_bias", [([3, 7], False), ([5], True), ([2, 4, 9], False)])
def test_adaptive_log_softmax_matches_pytorch(device, rng, cutoffs, head_bias):
    ours, theirs = _adaptive_pair(rng, cutoffs, head_bias)
    ours.to(device)
    x = f16_randn(rng, (9, 8))
    target = rng.integers(0, 12, 9)
    target[:len(cutoffs) + 2] = [0, 11] + cutoffs  # every cluster has a target (else PyTorch's grads there are None)
    xs, rx = tl.tensor(x, device=device, requires_grad=True), torch.from_numpy(x).double().requires_grad_()
    got, want = ours(xs, tl.tensor(target, device=device)), theirs(rx, torch.from_numpy(target))
    assert_close_f16(got.output, want.output.detach().numpy(), atol=4e-3)
    assert_close_f16(got.loss, want.loss.detach().numpy(), atol=4e-3)
    got.loss.backward()
    want.loss.backward()
    assert_close_f16(xs.grad, rx.grad.numpy(), rtol=1e-2, atol=2e-3)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close_f16(p.grad, q.grad.numpy(), rtol=1e-2, atol=2e-3)
    assert_close_f16(ours.log_prob(tl.tensor(x, device=device)), theirs.log_prob(rx).detach().numpy(), atol=4e-3)
    # predictions are compared where the best class leads the next by more than f16's error (seed-free: a near tie
    # is either's argmax; the CI's run with one rounded 1 against 9)
    top2 = np.sort(theirs.log_prob(rx).detach().numpy(), axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-2
    got_classes = np.asarray(host(ours.predict(tl.tensor(x, device=device))).tolist())
    assert (got_classes[clear] == theirs.predict(rx).numpy()[clear]).all()
    one = ours(tl.tensor(x[0], device=device), tl.tensor(target[0], device=device))
    assert one.output.shape == () and ours.log_prob(tl.tensor(x[0], device=device)).shape == (12,)


def test_adaptive_log_softmax_errors():
    for bad in ([], [6, 3], [0, 3], [3, 12], [3, 3]):
        with pytest.raises(ValueError):
            tl.nn.AdaptiveLogSoftmaxWithLoss(8, 12, bad)
    m = tl.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3])
    with pytest.raises(IndexError, match="Target values"):
        m(tl.randn(2, 8), tl.tensor([0, 12]))
    with pytest.raises(tl.ShapeMismatchError):
        m(tl.randn(2, 8), tl.tensor([0, 1, 2]))
