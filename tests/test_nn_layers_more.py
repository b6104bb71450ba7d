"""The modules of issue 11 against torch.nn on copied weights: outputs, input and parameter gradients."""
import copy
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import nn
from tensorlogic.nn import functional as F

from _torch_modules import compare, copy_weights
from oracle import f16_randn, host

CASES = {
    "MaxPool2d": (lambda m: m.MaxPool2d(2), [(2, 3, 6, 6)]),
    "MaxPool2d_pad": (lambda m: m.MaxPool2d(3, stride=2, padding=1), [(2, 3, 7, 7)]),
    "AvgPool2d": (lambda m: m.AvgPool2d(2, stride=1), [(2, 3, 5, 5)]),
    "AdaptiveAvgPool2d_even": (lambda m: m.AdaptiveAvgPool2d((2, 3)), [(2, 3, 4, 6)]),
    "AdaptiveAvgPool2d_uneven": (lambda m: m.AdaptiveAvgPool2d(3), [(2, 3, 7, 5)]),
    "BatchNorm1d": (lambda m: m.BatchNorm1d(5), [(8, 5)]),
    "BatchNorm1d_3d": (lambda m: m.BatchNorm1d(4), [(3, 4, 6)]),
    "BatchNorm2d": (lambda m: m.BatchNorm2d(3), [(4, 3, 5, 5)]),
    "GroupNorm": (lambda m: m.GroupNorm(2, 6), [(3, 6, 4, 4)]),
    "ConvTranspose2d": (lambda m: m.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), [(2, 3, 5, 5)]),
    "ConvTranspose2d_groups": (lambda m: m.ConvTranspose2d(4, 6, (2, 3), stride=(1, 2), groups=2, dilation=2),
                               [(2, 4, 4, 5)]),
    "Flatten": (lambda m: m.Flatten(), [(2, 3, 4)]),
    "Unflatten": (lambda m: m.Unflatten(1, (3, 4)), [(2, 12)]),
    "Identity": (lambda m: m.Identity(), [(2, 3)]),
    "Softmax": (lambda m: m.Softmax(dim=1), [(3, 7)]),
    "LogSoftmax": (lambda m: m.LogSoftmax(dim=-1), [(3, 7)]),
    "LeakyReLU": (lambda m: m.LeakyReLU(0.2), [(4, 9)]),
    "Sigmoid": (lambda m: m.Sigmoid(), [(4, 9)]),
    "Tanh": (lambda m: m.Tanh(), [(4, 9)]),
    "ELU": (lambda m: m.ELU(0.7), [(4, 9)]),
    "Softplus": (lambda m: m.Softplus(), [(4, 9)]),
    "LogSigmoid": (lambda m: m.LogSigmoid(), [(4, 9)]),
    "Softmin": (lambda m: m.Softmin(dim=0), [(5, 3)]),
    "Hardtanh": (lambda m: m.Hardtanh(-0.5, 2.0), [(4, 9)]),
    "ReLU6": (lambda m: m.ReLU6(), [(4, 9)]),
    "Hardsigmoid": (lambda m: m.Hardsigmoid(), [(4, 9)]),
    "Hardswish": (lambda m: m.Hardswish(), [(4, 9)]),
    "Mish": (lambda m: m.Mish(), [(4, 9)]),
    "SELU": (lambda m: m.SELU(), [(4, 9)]),
    "CELU": (lambda m: m.CELU(0.5), [(4, 9)]),
    "Softsign": (lambda m: m.Softsign(), [(4, 9)]),
    "Tanhshrink": (lambda m: m.Tanhshrink(), [(4, 9)]),
    "Softshrink": (lambda m: m.Softshrink(0.3), [(4, 9)]),
    "Hardshrink": (lambda m: m.Hardshrink(), [(4, 9)]),
    "Threshold": (lambda m: m.Threshold(0.1, 20.0), [(4, 9)]),
    "GLU": (lambda m: m.GLU(1), [(3, 8, 2)]),
    "PReLU": (lambda m: m.PReLU(), [(4, 9)]),
    "PReLU_channels": (lambda m: m.PReLU(3, init=0.1), [(2, 3, 4, 5)]),
    "BatchNorm3d": (lambda m: m.BatchNorm3d(3), [(2, 3, 3, 4, 2)]),
    "ZeroPad2d": (lambda m: m.ZeroPad2d((1, 0, 2, 1)), [(2, 3, 4, 5)]),
    "ConstantPad1d": (lambda m: m.ConstantPad1d(2, 1.5), [(2, 3, 4)]),
    "ReflectionPad1d": (lambda m: m.ReflectionPad1d((2, 1)), [(2, 3, 5)]),
    "ReflectionPad2d": (lambda m: m.ReflectionPad2d(2), [(2, 3, 4, 5)]),
    "ReplicationPad3d": (lambda m: m.ReplicationPad3d(1), [(1, 2, 3, 4, 3)]),
    "CircularPad2d": (lambda m: m.CircularPad2d((1, 2, 0, 1)), [(2, 2, 3, 4)]),
    "Upsample_nearest": (lambda m: m.Upsample(scale_factor=2), [(2, 3, 4, 5)]),
    "Upsample_bilinear": (lambda m: m.Upsample(size=(6, 7), mode="bilinear"), [(2, 3, 4, 5)]),
    "UpsamplingBilinear2d": (lambda m: m.UpsamplingBilinear2d(scale_factor=2), [(1, 2, 3, 4)]),
    "UpsamplingNearest2d": (lambda m: m.UpsamplingNearest2d(size=5), [(1, 2, 3, 4)]),
    "CosineSimilarity": (lambda m: m.CosineSimilarity(dim=1), [(4, 6), (4, 6)]),
    "CosineSimilarity_broadcast": (lambda m: m.CosineSimilarity(dim=-1, eps=1e-6), [(3, 1, 5), (4, 5)]),
    "PairwiseDistance": (lambda m: m.PairwiseDistance(), [(4, 6), (4, 6)]),
    "PairwiseDistance_p1": (lambda m: m.PairwiseDistance(p=1.0, keepdim=True), [(4, 6), (1, 6)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_module_matches_torch(device, rng, name):
    make, shapes = CASES[name]
    tmod, tlmod = make(torch.nn), make(nn)
    copy_weights(tmod, tlmod, device)
    compare(tmod, tlmod, [f16_randn(rng, s) for s in shapes], device, rng)


def test_batchnorm_running_stats_and_eval(device, rng):
    for momentum in (0.1, None):
        tmod, tlmod = torch.nn.BatchNorm2d(3, momentum=momentum), nn.BatchNorm2d(3, momentum=momentum)
        copy_weights(tmod, tlmod, device)
        for _ in range(3):
            x = f16_randn(rng, (4, 3, 2, 2), 2.0) + 1
            tmod(torch.tensor(x.astype(np.float32)))
            tlmod(tl.tensor(x, device=device))
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(host(getattr(tlmod, key)), getattr(tmod, key).numpy(), rtol=1e-2, atol=1e-2)
        assert int(tlmod.num_batches_tracked.item()) == 3
        tmod.eval(), tlmod.eval()
        compare(tmod, tlmod, [f16_randn(rng, (2, 3, 2, 2))], device, rng)
    state = {k: v.numpy() for k, v in torch.nn.BatchNorm1d(4).state_dict().items()}
    nn.BatchNorm1d(4).load_state_dict(state)


@pytest.mark.parametrize("module,spatial", [(nn.Dropout2d, (3, 3)), (nn.Dropout3d, (2, 2, 3))])
def test_channel_dropout_zeroes_whole_channels(device, module, spatial):
    tl.manual_seed(0)
    x = tl.ones(8, 16, *spatial, device=device)
    y = host(module(0.5)(x))
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    assert module(0.5).eval()(x) is x


def _dropped_along(y):
    """The dims along which a dropout's output of ones varies (its mask's non-broadcast dims)."""
    return tuple(d for d in range(y.ndim) if not np.all(y == y.take([0], axis=d)))


@pytest.mark.parametrize("name,shape", [
    ("dropout2d", (16, 12)), ("dropout2d", (16, 12, 5)), ("dropout2d", (16, 12, 3, 3)),
    ("dropout2d", (16, 12, 2, 2, 2)),
    ("dropout3d", (16,)), ("dropout3d", (16, 12)), ("dropout3d", (16, 3, 2, 2)), ("dropout3d", (16, 12, 2, 2, 2)),
    ("dropout1d", (16, 12)), ("dropout1d", (16, 12, 5))])
def test_channel_dropout_masks_the_dims_torch_does(device, rng, name, shape):
    """PyTorch's rules: dropout2d reads any input of 2 dims or more as (N, C, ...) (a 3-d input as (N, C, L),
    a 2-d one as (N, C): single elements), dropout3d reads all but 5-d inputs as unbatched (C, ...); inputs of
    other ranks than the documented ones warn. The mask's dims (with 16 rows and 12 channels a mask that varies
    looks constant with odds below 1e-3) and the warnings match PyTorch's."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = getattr(torch.nn.functional, name)(torch.ones(shape), 0.5).numpy()
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = host(getattr(F, name)(tl.ones(shape, device=device), 0.5))
    assert _dropped_along(got) == _dropped_along(want), (_dropped_along(got), _dropped_along(want))
    assert set(np.unique(got)) <= {0.0, 2.0}
    assert len(ours) == len(theirs) and all(issubclass(w.category, UserWarning) for w in ours)


def test_channel_dropout_rank_errors(device):
    for fn, shape in ((F.dropout2d, (5,)), (F.dropout2d, ()), (F.dropout3d, ()), (F.dropout1d, (2, 3, 4, 5))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError):
                fn(tl.ones(shape, device=device), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = tl.ones(5, device=device)
        assert F.dropout2d(x, 0.5, training=False) is x  # PyTorch checks the rank only when it drops


def test_parameter_containers_and_module_dicts(device):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = nn.ParameterList([nn.Parameter(tl.ones(2)), tl.zeros(3)])
            self.pdict = nn.ParameterDict({"a": nn.Parameter(tl.ones(1))})
            self.mdict = nn.ModuleDict({"lin": nn.Linear(2, 2)})

    net = Net()
    net.plist.append(tl.ones(4))
    net.pdict["b"] = tl.zeros(2)
    keys = set(net.state_dict())
    assert keys == {"plist.0", "plist.1", "plist.2", "pdict.a", "pdict.b", "mdict.lin.weight", "mdict.lin.bias"}
    assert all(isinstance(p, nn.Parameter) for p in net.plist) and len(list(net.parameters())) == 7
    assert net.half() is net and net.float() is net and net.to(tl.float16) is net
    with pytest.raises(TypeError):
        net.to(tl.int32)


def test_deepcopy_and_data(device):
    lin = nn.Linear(3, 2).to(device)
    twin = copy.deepcopy(lin)
    assert isinstance(twin.weight, nn.Parameter) and twin.weight.requires_grad
    np.testing.assert_array_equal(host(twin.weight), host(lin.weight))
    twin.weight.data.mul_(0)
    assert np.any(host(lin.weight) != 0)
    lin.weight.data = tl.zeros(5, 3, device=device)
    assert lin.weight.shape == (5, 3) and isinstance(lin.weight, nn.Parameter)
    t = tl.ones(2, device=device)
    assert t.pin_memory() is t and not t.is_pinned()
    assert t.new_zeros(2, 3).shape == (2, 3) and t.new_full((2,), 7.0).tolist() == [7.0, 7.0]
    assert t.new_ones((1, 2)).device == t.device and t.new_empty(4).shape == (4,)
    assert t.new_tensor([1, 2]).dtype == tl.float16 and t.new_tensor([1, 2]).tolist() == [1.0, 2.0]
    assert format(tl.tensor(1.5), "+.2f") == "+1.50" and f"{tl.tensor(3)}" == "3"
    assert tl.tensor(-0.25).__format__(".1e") == "-2.5e-01"
    with pytest.raises(TypeError):
        format(tl.ones(2), ".2f")


def test_trunc_normal_and_orthogonal_init(device):
    tl.manual_seed(3)
    w = tl.empty(200, 50, device=device)
    nn.init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=1.0)
    values = host(w).astype(np.float64)
    assert values.min() >= -0.5 and values.max() <= 1.0 and values.std() > 0.2
    want = torch.nn.init.trunc_normal_(torch.empty(200, 50), mean=0.5, std=1.0, a=-0.5, b=1.0)
    assert abs(values.mean() - want.mean().item()) < 0.05
    # A window in the tail (2.3% of the mass: redrawing alone would take hundreds of rounds) still ends, inside it,
    # with the truncated normal's mean (phi(2) - phi(4)) / (Phi(4) - Phi(2)) = 2.371
    tail = nn.init.trunc_normal_(tl.empty(20000, device=device), a=2.0, b=4.0)
    values = host(tail).astype(np.float64)
    assert values.min() >= 2.0 and values.max() <= 4.0 and abs(values.mean() - 2.373) < 0.03
    far = host(nn.init.trunc_normal_(tl.empty(100, device=device), a=10.0, b=11.0))  # beyond f64's CDF: clamped
    assert far.min() >= 10.0 and far.max() <= 11.0
    for shape in ((6, 4), (4, 6), (3, 2, 2)):
        q = nn.init.orthogonal_(tl.empty(*shape, device=device), gain=2.0)
        m = host(q).astype(np.float64).reshape(shape[0], -1)
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=2e-2)


def test_parameters_to_vector_and_back(device, rng):
    tmod, tlmod = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    copy_weights(tmod, tlmod, device)
    want = torch.nn.utils.parameters_to_vector(tmod.parameters())
    got = nn.utils.parameters_to_vector(tlmod.parameters())
    np.testing.assert_array_equal(host(got).astype(np.float32), want.detach().numpy())
    fresh = f16_randn(rng, (8,))
    nn.utils.vector_to_parameters(tl.tensor(fresh, device=device), tlmod.parameters())
    np.testing.assert_array_equal(host(tlmod.weight).reshape(-1), fresh[:6])
    np.testing.assert_array_equal(host(tlmod.bias), fresh[6:])
    with pytest.raises(ValueError):
        nn.utils.vector_to_parameters(tl.zeros(9, device=device), tlmod.parameters())


@pytest.mark.parametrize("shape,groups", [((0, 4, 3), 2), ((2, 0, 3), 2), ((2, 4, 0), 2)])
def test_group_norm_of_empty_input_is_empty(device, shape, groups):  # found by the op fuzzer
    got = tl.nn.functional.group_norm(tl.zeros(*shape, device=device), groups)
    assert got.shape == torch.nn.functional.group_norm(torch.zeros(shape), groups).shape


@pytest.mark.parametrize("shape,size", [((0, 3, 4, 4), 2), ((0, 3, 7, 5), 3), ((2, 3, 4, 4), 0), ((3, 4, 4), (0, 2))])
def test_adaptive_avg_pool2d_of_empty_batch_or_size_is_empty(device, shape, size):  # found by the op fuzzer
    got = tl.nn.functional.adaptive_avg_pool2d(tl.zeros(*shape, device=device), size)
    assert got.shape == torch.nn.functional.adaptive_avg_pool2d(torch.zeros(shape), size).shape


def test_activation_argument_errors(device, rng):
    x = tl.tensor(f16_randn(rng, (2, 3, 5)), device=device)
    F = tl.nn.functional
    with pytest.raises(tl.ShapeMismatchError, match="even"):
        F.glu(x, 1)
    with pytest.raises(tl.ShapeMismatchError, match="parameter count"):
        F.prelu(x, tl.tensor(np.full(4, 0.25, np.float16), device=device))
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match="lambda"):
        F.softshrink(x, -0.5)
    with pytest.raises(ValueError, match="alpha"):
        F.celu(x, 0.0)
    y = tl.tensor(f16_randn(rng, (4,)), device=device)
    want = torch.nn.functional.relu6(torch.tensor(host(y).astype(np.float32)))
    assert F.relu6(y, inplace=True) is y
    np.testing.assert_array_equal(host(y), want.numpy())


def test_padding_module_errors():
    with pytest.raises(ValueError, match="tuple of 4 ints"):
        nn.ZeroPad2d((1, 2, 3))
    with pytest.raises(ValueError, match="tuple of 2 ints"):
        nn.ReflectionPad1d((1.5, 2))


def test_eye_and_dirac_init(device):
    for shape in ((3, 5), (4, 2)):
        got = host(nn.init.eye_(tl.empty(*shape, device=device)))
        np.testing.assert_array_equal(got, torch.nn.init.eye_(torch.empty(*shape)).numpy())
    for shape, groups in (((4, 2, 3), 2), ((6, 3, 3, 3), 1), ((4, 2, 3, 3), 2), ((2, 2, 1, 3, 3), 1), ((3, 5, 3, 3), 1)):
        got = host(nn.init.dirac_(tl.empty(*shape, device=device), groups))
        np.testing.assert_array_equal(got, torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())
    with pytest.raises(ValueError):
        nn.init.eye_(tl.empty(2, 2, 2))
    with pytest.raises(ValueError):
        nn.init.dirac_(tl.empty(3, 3))
