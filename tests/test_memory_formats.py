"""PyTorch's memory formats: programs that ask for channels_last (Tensor.to, contiguous, clone, Module.to) run and
get PyTorch's values; the data stays row-major, and is_contiguous(memory_format=) reads the strides as PyTorch's
rule does (views that are NHWC-dense count as channels_last)."""
import pickle

import numpy as np
import pytest
import torch

import tensorlogic as tl


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 1, 1, 3), (1, 3, 1, 1), (2, 3, 4), (2, 3, 2, 4, 5)])
def test_is_contiguous_reads_the_strides_like_torch(device, rng, shape):
    x = rng.standard_normal(shape).astype(np.float16)
    ours, theirs = tl.tensor(x, device=device), torch.tensor(x)
    views = [lambda t: t]
    if len(shape) == 4:
        views.append(lambda t: t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2))
    if len(shape) == 5:
        views.append(lambda t: t.permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3))
    for view in views:
        a, b = view(ours), view(theirs)
        for ours_fmt, torch_fmt in ((tl.contiguous_format, torch.contiguous_format),
                                    (tl.channels_last, torch.channels_last),
                                    (tl.channels_last_3d, torch.channels_last_3d)):
            assert a.is_contiguous(memory_format=ours_fmt) == b.is_contiguous(memory_format=torch_fmt), \
                (shape, ours_fmt, a.stride(), b.stride())


def test_asking_for_channels_last_keeps_values_and_gradients(device, rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float16)
    conv = tl.nn.Conv2d(3, 4, 3, padding=1).to(device, memory_format=tl.channels_last)
    inp = tl.tensor(x, device=device, requires_grad=True)
    moved = inp.to(device, memory_format=tl.channels_last).contiguous(memory_format=tl.channels_last)
    out = conv(moved.clone(memory_format=tl.preserve_format))
    ref = conv(inp)
    np.testing.assert_array_equal(out.cpu().numpy(), ref.cpu().numpy())
    out.sum().backward()
    assert inp.grad is not None and inp.grad.shape == (2, 3, 6, 6)
    assert moved.is_contiguous()  # one layout: row-major
    assert pickle.loads(pickle.dumps(tl.channels_last)) is tl.channels_last and repr(tl.channels_last) == \
        "tensorlogic.channels_last"


def test_a_memory_format_of_the_wrong_kind_is_a_type_error(device):
    x = tl.ones(1, 2, 3, 3, device=device)
    for call in (lambda: x.contiguous(memory_format="channels_last"), lambda: x.to(memory_format=3),
                 lambda: x.is_contiguous(memory_format=torch.channels_last),
                 lambda: tl.nn.Linear(2, 2).to(memory_format="nhwc")):
        with pytest.raises(TypeError, match="memory_format"):
            call()
