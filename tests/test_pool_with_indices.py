"""nn.functional's *_with_indices max pools (nn/pool_with_indices.py), max_pool3d's and adaptive_max_pool3d's
return_indices (nn/pool3d.py), torch.max_pool1d_with_indices and torch.adaptive_max_pool1d, against PyTorch CPU on
the same f16 inputs (fresh seeds; distinct values, so every window has one maximum): values, indices, gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F


def _distinct(rng, shape):
    """Distinct f16 values in a random order (integers up to 2048 are exact in f16), scaled to about [-4, 4]."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * (8 / n)).astype(np.float16).reshape(shape)


def _check(ours, theirs, x, device, rng):
    a = tl.tensor(x, device=device, requires_grad=True)
    t = torch.tensor(x.astype(np.float32), requires_grad=True)
    (got, got_indices), (want, want_indices) = ours(a), theirs(t)
    np.testing.assert_array_equal(got.detach().cpu().numpy(), want.detach().numpy().astype(np.float16))
    assert got_indices.dtype == tl.int64
    np.testing.assert_array_equal(got_indices.cpu().numpy(), want_indices.numpy())
    w = rng.uniform(0.5, 1.5, tuple(want.shape)).astype(np.float16)
    (got * tl.tensor(w, device=device)).sum().backward()
    (want * torch.tensor(w.astype(np.float32))).sum().backward()
    # an element in several windows sums their weights: one f16 rounding per addition here, one in all in PyTorch's
    np.testing.assert_allclose(a.grad.cpu().numpy(), t.grad.numpy(), rtol=3e-3, atol=1e-3)


@pytest.mark.parametrize("name,shape,args", [
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (2, 3, 7, 6), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True)),
    ("max_pool3d", (2, 3, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0))),
    ("max_pool3d", (3, 6, 5, 4), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool3d", (1, 2, 7, 6, 5), dict(kernel_size=2, dilation=(2, 1, 2))),
    ("adaptive_max_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 7, 5), dict(output_size=(3, 2))),
    ("adaptive_max_pool3d", (2, 3, 5, 6, 7), dict(output_size=(2, 3, 4))),
    ("adaptive_max_pool3d", (3, 5, 4, 6), dict(output_size=(3, None, 2))),
])
def test_with_indices_forms_match_torch(device, rng, name, shape, args):
    x = _distinct(rng, shape)
    with_indices = name + "_with_indices"
    _check(lambda a: getattr(F, with_indices)(a, **args), lambda t: getattr(TF, with_indices)(t, **args), x, device,
           rng)
    # return_indices=False changes nothing in the _with_indices forms (PyTorch's ignore it too)
    _check(lambda a: getattr(F, with_indices)(a, **args, return_indices=False),
           lambda t: getattr(TF, name)(t, **args, return_indices=True), x, device, rng)


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_with_indices_replays_the_given_samples(device, rng, dims):
    shape = (2, 3) + (9,) * dims
    x = _distinct(rng, shape)
    samples = rng.uniform(0, 1, (2, 3, dims)).astype(np.float16)
    name = f"fractional_max_pool{dims}d_with_indices"
    _check(lambda a: getattr(F, name)(a, 2, output_size=4, _random_samples=tl.tensor(samples, device=device)),
           lambda t: getattr(TF, name)(t, 2, output_size=4, _random_samples=torch.tensor(samples.astype(np.float32))),
           x, device, rng)


def test_torch_level_forms_and_3d_modules(device, rng):
    x = _distinct(rng, (2, 3, 12))
    _check(lambda a: tl.max_pool1d_with_indices(a, 3), lambda t: torch.max_pool1d_with_indices(t, 3), x, device, rng)
    _check(lambda a: tl.adaptive_max_pool1d(a, 5), lambda t: torch.adaptive_max_pool1d(t, 5), x, device, rng)
    v = _distinct(rng, (1, 2, 4, 6, 6))
    _check(tl.nn.MaxPool3d(2, return_indices=True), torch.nn.MaxPool3d(2, return_indices=True), v, device, rng)
    _check(tl.nn.AdaptiveMaxPool3d((3, 2, 5), return_indices=True),
           torch.nn.AdaptiveMaxPool3d((3, 2, 5), return_indices=True), v, device, rng)
    values, indices = F.max_pool3d(tl.tensor(v, device=device), 2, return_indices=True)
    back = F.max_unpool3d(values, indices, 2)
    want = TF.max_unpool3d(*TF.max_pool3d(torch.tensor(v.astype(np.float32)), 2, return_indices=True), 2)
    np.testing.assert_array_equal(back.cpu().numpy(), want.numpy().astype(np.float16))
