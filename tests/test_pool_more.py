"""max_pool1d/2d's return_indices, max_unpool1d/2d/3d and lp_pool1d/2d/3d (nn/pool_more.py) and their modules
against PyTorch CPU on the same f16 inputs (fresh seeds): values, indices, gradients against torch.autograd and
by gradcheck, typed errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_to_largest, host
from tensorlogic.autograd import gradcheck


def _pair_grads(ours, theirs, x, device, dtype=torch.float64, *, rng):
    """ours(tl tensor) and theirs(torch tensor) on x: values and the gradient of a random weighting."""
    a = tl.tensor(x, device=device, requires_grad=True)
    t = torch.tensor(x, dtype=dtype, requires_grad=True)
    got, want = ours(a), theirs(t)
    assert tuple(got.shape) == tuple(want.shape)
    assert_close_to_largest(got, want.detach().double().numpy())
    w = rng.uniform(0.5, 1.5, tuple(want.shape)).astype(np.float16)
    (got * tl.tensor(w, device=device)).sum().backward()
    (want * torch.tensor(w, dtype=dtype)).sum().backward()
    assert_close_to_largest(a.grad, t.grad.double().numpy())


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", [
    (2, None, 0, 1, False), (3, 2, 1, 1, True), ((2, 3), (1, 2), (1, 0), (2, 1), False), (3, 3, 1, 1, True)])
def test_max_pool2d_indices_and_unpool(device, rng, kernel, stride, padding, dilation, ceil_mode):
    x = rng.standard_normal((2, 3, 9, 10)).astype(np.float16)
    values, indices = F.max_pool2d(tl.tensor(x, device=device), kernel, stride, padding, dilation, ceil_mode, True)
    ref_values, ref_indices = TF.max_pool2d(torch.tensor(x, dtype=torch.float32), kernel, stride, padding, dilation,
                                            ceil_mode, True)
    np.testing.assert_array_equal(host(values), ref_values.numpy().astype(np.float16))
    np.testing.assert_array_equal(host(indices), ref_indices.numpy())
    assert indices.dtype == tl.int64
    if dilation != 1:
        return  # max_unpool2d has no dilation: PyTorch's inverse only of undilated pools
    size = x.shape[-2:]
    _pair_grads(lambda t: F.max_unpool2d(t, indices, kernel, stride, padding, output_size=size),
                lambda t: TF.max_unpool2d(t, ref_indices, kernel, stride, padding, output_size=size),
                host(values), device, rng=rng)


def test_max_pool1d_indices_and_unpool_modules(device, rng):
    x = rng.standard_normal((2, 3, 11)).astype(np.float16)
    pool, unpool = tl.nn.MaxPool1d(3, 2, 1, return_indices=True), tl.nn.MaxUnpool1d(3, 2, 1)
    values, indices = pool(tl.tensor(x, device=device))
    ref_values, ref_indices = torch.nn.MaxPool1d(3, 2, 1, return_indices=True)(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_array_equal(host(indices), ref_indices.numpy())
    _pair_grads(lambda t: unpool(t, indices), lambda t: torch.nn.MaxUnpool1d(3, 2, 1)(t, ref_indices), host(values),
                device, rng=rng)
    # unbatched input, output_size, and the 2-d module's printing
    _pair_grads(lambda t: unpool(t, indices[0], output_size=[12]),
                lambda t: torch.nn.MaxUnpool1d(3, 2, 1)(t, ref_indices[0], output_size=[12]), host(values)[0], device,
                    rng=rng)
    assert repr(tl.nn.MaxUnpool2d(2)) == repr(torch.nn.MaxUnpool2d(2))


def test_max_unpool3d(device, rng):
    x = rng.standard_normal((2, 2, 4, 6, 6)).astype(np.float16)
    ref_values, ref_indices = TF.max_pool3d(torch.tensor(x, dtype=torch.float32), 2, return_indices=True)
    indices = tl.tensor(ref_indices.numpy(), device=device)
    _pair_grads(lambda t: tl.nn.MaxUnpool3d(2)(t, indices), lambda t: torch.nn.MaxUnpool3d(2)(t, ref_indices),
                ref_values.numpy().astype(np.float16), device, torch.float32, rng=rng)


def test_max_unpool_gradcheck(device, rng):
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float16)
    _, ref_indices = TF.max_pool2d(torch.tensor(x, dtype=torch.float32), 2, return_indices=True)
    indices = tl.tensor(ref_indices.numpy(), device=device)
    v = tl.tensor(rng.standard_normal((1, 2, 3, 3)).astype(np.float16), device=device, requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, indices, 2), (v,),
                     reference=lambda t: TF.max_unpool2d(torch.from_numpy(t), ref_indices, 2).numpy())


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("norm_type", [2, 3.0, 1.5, float("inf")])
def test_lp_pool(device, rng, dims, norm_type):
    shape = (2, 3) + (7, 8, 6)[:dims]
    x = rng.uniform(0.5, 1.5, shape).astype(np.float16)
    if norm_type in (2, float("inf")):
        x = (x * rng.choice([-1, 1], shape)).astype(np.float16)  # even and infinite norms take any sign
    kernel, stride = (3, 2) if dims != 3 else ((2, 3, 2), (2, 2, 1))
    ours = getattr(tl.nn, f"LPPool{dims}d")(norm_type, kernel, stride, ceil_mode=dims == 1)
    theirs = getattr(torch.nn, f"LPPool{dims}d")(norm_type, kernel, stride, ceil_mode=dims == 1)
    assert repr(ours) == repr(theirs)
    if norm_type == float("inf"):  # PyTorch >= 2.12's definition, the max of |x| (older ones gave 1 everywhere)
        max_pool = getattr(TF, f"max_pool{dims}d")
        theirs = lambda t: max_pool(t.abs(), kernel, stride, 0, 1, dims == 1)  # noqa: E731
    for dtype in (torch.float32, torch.float64):
        _pair_grads(ours, theirs, x, device, dtype, rng=rng)


def test_lp_pool_gradcheck(device, rng):
    x = tl.tensor(rng.uniform(0.5, 1.5, (1, 2, 4, 4)).astype(np.float16), device=device, requires_grad=True)
    assert gradcheck(lambda t: F.lp_pool2d(t, 2, 2), (x,),
                     reference=lambda t: TF.lp_pool2d(torch.from_numpy(t), 2, 2).numpy())


def test_unpool_and_lp_pool_errors(device):
    v = tl.zeros((1, 1, 2, 2), device=device)
    with pytest.raises(TypeError):
        F.max_unpool2d(v, v, 2)
    with pytest.raises(tl.ShapeMismatchError):
        F.max_unpool2d(v, tl.zeros((1, 1, 2), dtype=tl.int64, device=device), 2)
    with pytest.raises(IndexError):
        F.max_unpool2d(v, tl.full((1, 1, 2, 2), 16, dtype=tl.int64, device=device), 2)
    with pytest.raises(ValueError):
        F.max_unpool2d(v, tl.zeros((1, 1, 2, 2), dtype=tl.int64, device=device), 2, output_size=(9, 4))
    with pytest.raises(ValueError):
        F.lp_pool2d(v, 0, 2)
    with pytest.raises(ValueError):
        F.lp_pool1d(v[0], 2, (2, 2))
