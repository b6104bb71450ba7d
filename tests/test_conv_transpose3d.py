"""conv_transpose3d and nn.ConvTranspose3d against PyTorch CPU on the same f16 inputs (fresh seeds): strides,
padding, output_padding (also past the stride, below the dilation), groups, dilation, bias, unbatched input and
output_size; gradients of input, weight and bias against torch.autograd and by gradcheck; typed errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_to_largest
from tensorlogic.autograd import gradcheck

CASES = [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), ((2, 1, 2), (1, 0, 1), (1, 0, 1), 2, 1), (1, 1, (1, 0, 0), 1, (2, 1, 1)),
         ((1, 2, 3), 0, (0, 1, 2), 1, (1, 2, 1))]


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", CASES)
def test_conv_transpose3d_matches_torch(device, rng, stride, padding, output_padding, groups, dilation):
    x = rng.standard_normal((2, 4, 3, 4, 5)).astype(np.float16)
    w = (rng.standard_normal((4, 3, 2, 3, 2)) * 0.5).astype(np.float16)
    b = rng.standard_normal(3 * groups).astype(np.float16)
    g = rng.uniform(0.5, 1.5, 1).item()
    for dtype in (torch.float32, torch.float64):
        ours = [tl.tensor(v, device=device, requires_grad=True) for v in (x, w, b)]
        theirs = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in (x, w, b)]
        got = F.conv_transpose3d(*ours, stride, padding, output_padding, groups, dilation)
        want = TF.conv_transpose3d(*theirs, stride, padding, output_padding, groups, dilation)
        assert tuple(got.shape) == tuple(want.shape)
        assert_close_to_largest(got, want.detach().double().numpy())
        (got * got.detach() * g).sum().backward()
        (want * want.detach().to(dtype) * g).sum().backward()
        for a, t in zip(ours, theirs):
            assert_close_to_largest(a.grad, t.grad.double().numpy())


def test_conv_transpose3d_module(device, rng):
    torch_module = torch.nn.ConvTranspose3d(4, 6, (3, 2, 2), stride=2, padding=1, groups=2)
    module = tl.nn.ConvTranspose3d(4, 6, (3, 2, 2), stride=2, padding=1, groups=2, device=device)
    assert repr(module) == repr(torch_module)
    assert tuple(module.weight.shape) == tuple(torch_module.weight.shape)
    module.load_state_dict({k: tl.tensor(v.detach().numpy().astype(np.float16)) for k, v in
                            torch_module.state_dict().items()})
    x = rng.standard_normal((4, 3, 3, 4)).astype(np.float16)  # unbatched
    got = module(tl.tensor(x, device=device), output_size=(6, 5, 7))
    want = torch_module.double()(torch.tensor(x, dtype=torch.float64), output_size=(6, 5, 7))
    assert tuple(got.shape) == tuple(want.shape) == (6, 6, 5, 7)
    assert_close_to_largest(got, want.detach().numpy())


def test_conv_transpose3d_gradcheck(device, rng):
    x = tl.tensor(rng.standard_normal((1, 2, 2, 3, 2)).astype(np.float16), device=device, requires_grad=True)
    w = tl.tensor(rng.standard_normal((2, 1, 2, 2, 2)).astype(np.float16), device=device, requires_grad=True)
    assert gradcheck(lambda a, b: F.conv_transpose3d(a, b, stride=2, padding=(1, 0, 0)), (x, w),
                     reference=lambda a, b: TF.conv_transpose3d(torch.from_numpy(a), torch.from_numpy(b), stride=2,
                                                                padding=(1, 0, 0)).numpy())


def test_conv_transpose3d_errors(device):
    x = tl.zeros((1, 2, 2, 2, 2), device=device)
    with pytest.raises(tl.ShapeMismatchError):
        F.conv_transpose3d(x, tl.zeros((2, 1, 2, 2), device=device))
    with pytest.raises(TypeError):
        F.conv_transpose3d(x, np.zeros((2, 1, 2, 2, 2)))
    with pytest.raises(ValueError):
        F.conv_transpose3d(x, tl.zeros((2, 1, 2, 2, 2), device=device), stride=2, output_padding=(2, 0, 0))
    with pytest.raises(ValueError):
        F.conv_transpose3d(x, tl.zeros((3, 1, 2, 2, 2), device=device))
