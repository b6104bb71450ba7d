"""tl.nn's modules given arguments of the wrong kind (nn/argument_checks.py; found by tests/fuzz_modules.py): a typed
error naming the module and the argument, where the constructor or forward() used to fail deep inside with an
AttributeError, a ZeroDivisionError, "truth value ... ambiguous" or a pybind11 cast message."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn as nn


@pytest.mark.parametrize("build, error, message", [
    (lambda: nn.Linear(2, 3, bias=tl.ones(2)), TypeError, r"Linear\(\): bias should be a bool, got: Tensor"),
    (lambda: nn.BatchNorm2d(4, affine=np.zeros((2, 3))), TypeError, "affine should be a bool, got: ndarray"),
    (lambda: nn.L1Loss(reduce=np.array([False, True])), TypeError, "reduce should be a bool"),
    (lambda: nn.BatchNorm1d(2**63), MemoryError, "'num_features' 9223372036854775808 asks for more memory"),
    (lambda: nn.Bilinear(4, 4, 2**64, bias=False), MemoryError, "'out_features'"),
    (lambda: nn.InstanceNorm1d(-(2**63) - 1), OverflowError, "does not fit in a 64-bit integer"),
    (lambda: nn.LPPool1d(1, kernel_size=10**30), OverflowError, "'kernel_size'"),
    (lambda: nn.EmbeddingBag(3, 2, padding_idx=0.1), TypeError, "'padding_idx' must be int, not float"),
    (lambda: nn.Softmax(dim="x"), TypeError, r"Softmax\(\): argument 'dim' must be int, not str"),
    (lambda: nn.UpsamplingBilinear2d(scale_factor=tl.ones(2)), TypeError, "'scale_factor' must be Number"),
    (lambda: nn.AdaptiveMaxPool2d((tl.ones(2, 2), 1)), TypeError,
     r"'output_size' \(element 0\) must be int, not Tensor"),
    (lambda: nn.GroupNorm(0, 2), ValueError, "num_groups must be positive"),
    (lambda: nn.LazyConvTranspose2d(2, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda: nn.AdaptiveLogSoftmaxWithLoss(3, 3, [1], div_value=0), ValueError, "div_value must be positive"),
    (lambda: nn.AdaptiveLogSoftmaxWithLoss(4, 5, [tl.ones(3, dtype=tl.int64), 1]), ValueError, "cutoffs"),
])
def test_constructor_refuses_an_argument_of_the_wrong_kind(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize("module, args, message", [
    (nn.Sigmoid(), ("x",), r"sigmoid\(\): argument 'input' \(position 1\) must be Tensor, not str"),
    (nn.Hardtanh(), (1.5,), "must be Tensor, not float"),
    (nn.BatchNorm2d(2), (None,), r"BatchNorm.forward\(\): argument 'input' \(position 1\) must be Tensor"),
    (nn.LazyLinear(3), ([1.0, 2.0],), r"LazyLinear.forward\(\): argument 'input' \(position 1\) must be Tensor"),
    (nn.GaussianNLLLoss(), (tl.ones(2), tl.ones(2), "v"), "argument 'var' .* must be Tensor, not str"),
    (nn.TripletMarginWithDistanceLoss(), (tl.ones(2, 3), b"p", tl.ones(2, 3)), "'positive' .* must be Tensor"),
    (nn.MultiheadAttention(4, 2), (tl.ones(2, 4), tl.ones(2, 4), 3), "'value' .* must be Tensor, not int"),
])
def test_forward_refuses_an_input_that_is_not_a_tensor(module, args, message):
    with pytest.raises(TypeError, match=message):
        module(*args)


def test_flags_and_none_that_pytorch_takes_still_build():
    rng = np.random.default_rng()
    x = rng.standard_normal((3, 4)).astype(np.float16)
    ours, theirs = nn.Linear(4, 2, bias=1), torch.nn.Linear(4, 2, bias=1)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.numpy().astype(np.float32)))
        theirs.bias.copy_(torch.from_numpy(ours.bias.numpy().astype(np.float32)))
    np.testing.assert_allclose(ours(tl.tensor(x)).numpy().astype(np.float32),
                               theirs(torch.from_numpy(x.astype(np.float32))).detach().numpy(), rtol=1e-2, atol=1e-2)
    norm = nn.BatchNorm1d(4, momentum=None)  # a cumulative average, as PyTorch's
    assert norm.momentum is None and nn.MaxPool2d(2, stride=None).stride == 2


def test_a_module_without_input_features_builds_and_gives_its_bias():
    module = nn.Bilinear(0, 2, 3)  # 1 / sqrt(0) was a ZeroDivisionError
    out = module(tl.ones(4, 0), tl.tensor(np.random.default_rng().standard_normal((4, 2)).astype(np.float16)))
    np.testing.assert_array_equal(out.detach().numpy(), np.broadcast_to(module.bias.detach().numpy(), (4, 3)))


def test_a_users_error_inside_a_guarded_forward_reaches_the_user_as_it_is():
    def distance(a, b):
        raise KeyError("the user's own")
    with pytest.raises(KeyError, match="the user's own"):
        nn.TripletMarginWithDistanceLoss(distance_function=distance)(tl.ones(2, 3), tl.ones(2, 3), tl.ones(2, 3))


@pytest.mark.parametrize("build", [
    lambda: nn.Transformer(d_model=4, nhead=2, num_decoder_layers=2**63 - 1, dim_feedforward=3),
    lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 2**45),
    lambda: nn.TransformerDecoder(nn.Identity(), 2**40),  # copies of a layer without parameters too
])
def test_a_layer_stack_beyond_memory_is_refused_before_it_is_copied(build):
    """num_layers=2**63 - 1 deep-copied layers one by one until the machine ran out of memory."""
    with pytest.raises(MemoryError, match="need .* bytes; cpu has"):
        build()


def _with_grad(parameter):
    parameter.grad = tl.ones(parameter.shape)
    return parameter


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.init.orthogonal_([tl.ones(2, 2)]), TypeError, r"orthogonal_\(\): argument 'tensor' .* must be Tensor"),
    (lambda: nn.init.orthogonal_(tl.ones(2, 2), tl.tensor(2)), TypeError, "gain must be a number, got Tensor"),
    (lambda: nn.utils.parametrizations.weight_norm(nn.LSTM(3, 2), "bias"), AttributeError,
     "'LSTM' has no parameter 'bias'"),  # (a flag: bool had no .ndim)
    (lambda: nn.init.calculate_gain(np.array(["relu", "tanh"])), TypeError, "nonlinearity must be a str"),
    (lambda: nn.utils.prune.is_pruned([nn.Linear(2, 2)]), TypeError, "argument 'module' .* must be Module, not list"),
    (lambda: nn.utils.parametrize.register_parametrization(nn.Linear(2, 2), "weight", "x"), TypeError,
     "parametrization must be an nn.Module, got str"),
    (lambda: nn.utils.prune.random_unstructured(nn.LSTM(3, 2), "bias", 0.5), AttributeError,
     "'LSTM' has no parameter 'bias' to prune"),  # (its `bias` is a flag: bool had no .detach)
    (lambda: nn.utils.spectral_norm(nn.LSTM(3, 2)), KeyError, "'LSTM' has no parameter 'weight'"),
    (lambda: nn.utils.fuse_conv_bn_eval(nn.Conv2d(2, 4, 3).eval(), nn.Linear(4, 4).eval()), TypeError,
     "bn must be a batch norm module, got Linear"),
    (lambda: nn.utils.fuse_linear_bn_eval(nn.Conv2d(2, 4, 3).eval(), nn.BatchNorm1d(4).eval()), TypeError,
     "linear must be a Linear module, got Conv2d"),
    (lambda: nn.utils.fuse_linear_bn_weights(tl.ones(2, 3), -1e30, tl.zeros(2), tl.ones(2), 1e-5, None, None),
     TypeError, "'linear_b' must be Tensor or None, not float"),
    (lambda: nn.utils.clip_grads_with_norm_([_with_grad(nn.Parameter(tl.ones(2)))], 1.0, 3.0), TypeError,
     "'total_norm' .* must be Tensor, not float"),
    (lambda: nn.utils.parametrizations.spectral_norm(nn.Linear(3, 2), n_power_iterations=2**62), ValueError,
     "more than the 65536 one forward"),  # every forward() made 2**62 power iterations
    (lambda: nn.utils.parametrizations.orthogonal(nn.LSTM(3, 2), "weight_ih_l0", np.array([False, True])),
     ValueError, "orthogonal_map has to be one of"),  # (an array's truth value; fuzz_modules seed 1373030290)
])
def test_module_utilities_refuse_arguments_of_the_wrong_kind(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_spectral_norm_keeps_its_estimate_with_the_iterations_allowed():
    rng = np.random.default_rng()
    weight = rng.standard_normal((5, 4)).astype(np.float16)
    layer = nn.Linear(4, 5)
    with tl.no_grad():
        layer.weight.copy_(tl.tensor(weight))
    layer = nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=200)
    sigma = np.linalg.svd(weight.astype(np.float64), compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.detach().float().numpy(), weight / sigma, rtol=0.02, atol=2e-3)
