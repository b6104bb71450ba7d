"""nn.utils.fusion against torch.nn.utils.fusion: an eval-mode batch norm folded into the convolution (plain and
transposed, 1-3 d) or linear layer before it gives PyTorch's fused float16 weights and bias (the same f16 ops
rounded the same way), its forward is the unfused pair's, and gradients reach the fused parameters as PyTorch's."""
import copy

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_ulp, f16_randn, f16_uniform, host

# The layers' weights are set through state dicts of both libraries, on the CPU.
pytestmark = pytest.mark.usefixtures("cpu_default")


def _twins(rng, make, bn_name, channels, affine=True):
    """(ours, torch's) eval-mode layer and batch norm with the same f16 weights and running statistics (variances
    well above eps, so that the fused scale is not dominated by it)."""
    layer, bn = make(tl.nn), getattr(tl.nn, bn_name)(channels, affine=affine)
    state = {k: f16_randn(rng, tuple(v.shape)) for k, v in layer.state_dict().items()}
    stats = {"running_mean": f16_randn(rng, (channels,)), "running_var": f16_uniform(rng, (channels,), 0.25, 4.0),
             "num_batches_tracked": np.array(5)}
    if affine:
        stats |= {"weight": f16_randn(rng, (channels,)), "bias": f16_randn(rng, (channels,))}
    pair = []
    for lib, of in ((tl.nn, tl.tensor), (torch.nn, torch.from_numpy)):
        a, b = make(lib), getattr(lib, bn_name)(channels, affine=affine)
        a.load_state_dict({k: of(v.copy()) for k, v in state.items()})
        b.load_state_dict({k: of(np.array(v)) for k, v in stats.items()})
        if lib is torch.nn:
            a, b = a.half(), b.half()
        pair.append((a.eval(), b.eval()))
    return pair


def _assert_fused_like(ours, theirs, layer, bn):
    """Our f16 rsqrt and PyTorch's differ by an ulp now and then (2 in 1000 variances), and an ulp of the scale, a
    relative 2^-10 at most, is up to 2 ulps of a product: the weights within 3 ulps (that and their own rounding),
    the biases, a sum that may cancel, within 4 * 2^-10 of the size of its terms."""
    assert ours.weight.shape == tuple(theirs.weight.shape) and ours.bias.shape == tuple(theirs.bias.shape)
    assert_ulp(host(ours.weight), theirs.weight.detach().numpy(), max_ulp=3, label="fused weight")
    stats = {k: v.detach().double().numpy() for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    scale = np.abs(stats.get("weight", 1.0)) / np.sqrt(stats["running_var"] + bn.eps)
    bias = 0.0 if layer.bias is None else np.abs(layer.bias.detach().double().numpy())
    size = (bias + np.abs(stats["running_mean"])) * scale + np.abs(stats.get("bias", 0.0)) + np.abs(host(ours.bias))
    np.testing.assert_array_less(np.abs(host(ours.bias).astype(np.float64) - theirs.bias.detach().double().numpy()),
                                 4 * 2.0 ** -10 * size + 1e-7)


def _assert_grads_like(ours, theirs):
    """The fused parameters require grad as PyTorch's (a bias made for a layer without one does not) and their
    gradients are PyTorch's."""
    for name in ("weight", "bias"):
        got, want = getattr(ours, name), getattr(theirs, name)
        assert got.requires_grad == want.requires_grad and (got.grad is None) == (want.grad is None)
        if want.grad is not None:
            scale = float(np.abs(want.grad.numpy()).max())
            np.testing.assert_allclose(host(got.grad), want.grad.numpy(), rtol=1e-2, atol=1e-2 * scale)


CONVS = [(lambda nn: nn.Conv2d(3, 5, 3), "BatchNorm2d", 5, (2, 3, 7, 6), False),
         (lambda nn: nn.Conv1d(4, 6, 2, bias=False), "BatchNorm1d", 6, (3, 4, 9), False),
         (lambda nn: nn.Conv3d(2, 3, 2), "BatchNorm3d", 3, (1, 2, 4, 5, 3), False),
         (lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2), "BatchNorm2d", 4, (2, 3, 4, 5), True)]


@pytest.mark.parametrize("make,bn_name,channels,shape,transpose", CONVS, ids=["conv2d", "conv1d_nobias", "conv3d",
                                                                             "conv_transpose2d"])
@pytest.mark.parametrize("affine", [True, False])
def test_fused_convolution_is_torchs(rng, make, bn_name, channels, shape, transpose, affine):
    (conv, bn), (tconv, tbn) = _twins(rng, make, bn_name, channels, affine)
    fused = tl.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    want = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn, transpose=transpose)
    assert fused is not conv and isinstance(fused.weight, tl.nn.Parameter) and fused.weight.requires_grad
    _assert_fused_like(fused, want, tconv, tbn)
    x = f16_randn(rng, shape)
    # the fused layer computes the pair's function: against the unfused pair in float64, within the rounding of
    # the fused weights and output (a few 2^-11 of the sum of the products' sizes)
    pair = torch.nn.Sequential(tconv, tbn).double()
    sizes = copy.deepcopy(want).double()
    with torch.no_grad():
        for p in sizes.parameters():
            p.abs_()
        bound = sizes(torch.from_numpy(np.abs(x)).double()).numpy()
    difference = host(fused(tl.tensor(x))) - pair(torch.from_numpy(x).double()).detach().numpy()
    np.testing.assert_array_less(np.abs(difference), 8 * 2.0 ** -11 * bound + 1e-6)
    # gradients reach the fused parameters as PyTorch's reach its fused layer's (float64, from the same weights)
    grad_out = f16_randn(rng, tuple(want(torch.from_numpy(x)).shape))
    fused(tl.tensor(x)).backward(tl.tensor(grad_out))
    want = want.double()
    want(torch.from_numpy(x).double()).backward(torch.from_numpy(grad_out).double())
    _assert_grads_like(fused, want)
    assert conv.weight.grad is None  # the copy's parameters are its own


@pytest.mark.parametrize("features", [6, 1])
def test_fused_linear_is_torchs(rng, features):
    (lin, bn), (tlin, tbn) = _twins(rng, lambda nn: nn.Linear(5, 6), "BatchNorm1d", features)
    fused = tl.nn.utils.fuse_linear_bn_eval(lin, bn)
    want = torch.nn.utils.fuse_linear_bn_eval(tlin, tbn)
    _assert_fused_like(fused, want, tlin, tbn)
    x = f16_randn(rng, (4, 5))
    grad_out = f16_randn(rng, (4, 6))
    fused(tl.tensor(x)).backward(tl.tensor(grad_out))
    want = want.double()
    want(torch.from_numpy(x).double()).backward(torch.from_numpy(grad_out).double())
    _assert_grads_like(fused, want)


def test_fusion_refuses_as_torch():
    for lib in (tl.nn, torch.nn):
        conv, bn = lib.Conv2d(2, 3, 1), lib.BatchNorm2d(3)
        with pytest.raises(AssertionError, match="Fusion only for eval"):
            lib.utils.fuse_conv_bn_eval(conv, bn.eval())
        with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
            lib.utils.fuse_conv_bn_eval(conv.eval(), lib.BatchNorm2d(3, track_running_stats=False).eval())
        with pytest.raises(AssertionError, match="To fuse, linear.out_features"):
            lib.utils.fuse_linear_bn_eval(lib.Linear(2, 3).eval(), lib.BatchNorm1d(2).eval())
