"""The lazy modules (nn/lazy.py): each becomes the module it stands for at its first forward, with the size read from
the input and the same initialisation as that module's constructor (the same draws from the stream), and computes
what PyTorch's does; load_state_dict sizes them from the checkpoint; hooks and mode survive the change."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn, host

CASES = [
    ("LazyLinear", (5,), {}, (4, 3)),
    ("LazyConv1d", (4, 3), dict(padding=1), (2, 3, 7)),
    ("LazyConv2d", (4, 3), dict(stride=2, groups=2), (2, 6, 7, 7)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), dict(stride=2), (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), dict(output_padding=1, stride=2), (2, 6, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), dict(momentum=0.3), (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), dict(affine=False), (2, 3, 5)),
    ("LazyInstanceNorm2d", (), dict(track_running_stats=False), (3, 4, 4)),  # unbatched: channels are dim 0
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CASES, ids=[c[0] for c in CASES])
def test_lazy_module_becomes_its_base_and_matches_pytorch(device, rng, name, args, kwargs, shape):
    ours = getattr(tl.nn, name)(*args, **kwargs)
    base = ours.cls_to_become
    assert isinstance(ours, tl.nn.modules.lazy.LazyModuleMixin) and ours.has_uninitialized_params()
    assert repr(ours).startswith(name) and not list(ours.parameters())
    calls = []
    ours.register_forward_hook(lambda m, a, out: calls.append(type(m)))
    x = f16_randn(rng, shape)
    seed = int(rng.integers(1 << 31))
    tl.manual_seed(seed)
    out = ours(tl.tensor(x, device=device))
    assert type(ours) is base and calls == [base]
    size = shape[0] if name == "LazyInstanceNorm2d" else shape[-1] if name == "LazyLinear" else shape[1]
    tl.manual_seed(seed)  # the same draws as the base's own constructor at that size
    direct = base(size, *args, **kwargs)
    for (k, p), (_, q) in zip(ours.named_parameters(), direct.named_parameters()):  # (running stats moved)
        assert np.array_equal(host(p), host(q)), k
    if "Norm" in name:  # the lazy norms' defaults (affine and running statistics on) are PyTorch's too
        kwargs = dict(kwargs, affine=ours.affine, track_running_stats=ours.track_running_stats)
    theirs = getattr(torch.nn, name[len("Lazy"):])(size, *args, **kwargs).double()
    theirs.load_state_dict({k: torch.from_numpy(host(v).astype(np.float64)) if v.is_floating_point() else
                            torch.from_numpy(host(v)) for k, v in ours.state_dict().items()})
    want = theirs(torch.from_numpy(x).double())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_close_f16(ours(tl.tensor(x, device=device)), want.detach().numpy(), atol=2e-3)
    assert out.shape == tuple(want.shape)


def test_load_state_dict_sizes_lazy_modules():
    trained = tl.nn.Sequential(tl.nn.Conv2d(3, 4, 3, groups=1), tl.nn.BatchNorm2d(4), tl.nn.Flatten(),
                               tl.nn.Linear(4 * 9, 2))
    lazy = tl.nn.Sequential(tl.nn.LazyConv2d(4, 3), tl.nn.LazyBatchNorm2d(), tl.nn.Flatten(), tl.nn.LazyLinear(2))
    lazy.eval()
    lazy.load_state_dict(trained.state_dict())
    assert [type(m) for m in lazy] == [type(m) for m in trained] and not lazy.training
    assert lazy[0].in_channels == 3 and lazy[3].in_features == 36 and lazy[1].num_features == 4
    for (k, a), (_, b) in zip(lazy.state_dict().items(), trained.state_dict().items()):
        assert np.array_equal(host(a), host(b)), k
    grouped = tl.nn.LazyConv2d(4, 3, groups=2)
    grouped.load_state_dict(tl.nn.Conv2d(6, 4, 3, groups=2).state_dict())
    assert grouped.in_channels == 6


def test_lazy_errors_and_device(device):
    with pytest.raises(tl.ShapeMismatchError, match="4D"):
        tl.nn.LazyConv2d(4, 3)(tl.ones(3, 5, device=device))
    conv = tl.nn.LazyConv2d(4, 3)
    conv.to(device)
    conv(tl.ones(1, 2, 5, 5, device=device))
    assert conv.weight.device == tl.device(device)  # no device given: the input's
    with pytest.raises(ValueError):
        tl.nn.LazyConv2d(4, 3, groups=3)(tl.ones(1, 2, 5, 5, device=device))  # 2 channels in groups of 3
