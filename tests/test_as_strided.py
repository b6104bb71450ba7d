"""Tensor.as_strided / tl.as_strided (ops/as_strided.py) against PyTorch on the same f16 inputs: views of the storage
at any size, stride and offset (overlapping ones too), PyTorch's errors, gradients (AsStridedBackward) against
torch.autograd in float64 and by gradcheck, and in-place writes through such a view under autograd."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_grad_close, f16_randn
from tensorlogic import _core
from tensorlogic.autograd import gradcheck

CASES = [  # (input shape, a slice of it or None, size, stride, storage_offset)
    ((12,), None, (3, 4), (4, 1), 0),
    ((12,), None, (4, 3), (1, 4), None),  # a transposed layout
    ((3, 4), None, (3, 3), (4, 1), 1),
    ((10,), None, (4, 3), (2, 1), 1),  # sliding windows: elements read twice
    ((4, 5), (slice(1, None), slice(None)), (2, 2, 2), (5, 1, 6), 5),
    ((8,), (slice(2, None),), (3,), (1,), 0),  # before the slice's own first element
    ((6,), None, (2, 0, 3), (3, 0, 1), 0),  # a zero stride
    ((6,), None, (0, 3), (1, 1), 100),  # empty: no bound
]


def _make(lib, values, key):
    t = lib.tensor(values) if lib is tl else torch.tensor(values.astype(np.float64))
    return t if key is None else t[key]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_as_strided_views_the_storage_as_pytorch(case, rng):
    shape, key, size, stride, offset = CASES[case]
    values = f16_randn(rng, shape)
    ours, theirs = (_make(lib, values, key).as_strided(size, stride, offset) for lib in (tl, torch))
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy().astype(np.float16))
    base = tl.tensor(values)
    view = tl.as_strided(base if key is None else base[key], size, stride, offset)
    if view.numel():  # a view: writes reach the base
        view.fill_(7.0)
        assert (base.numpy() == 7.0).sum() == len(set(np.asarray(theirs.storage_offset() + sum(
            np.indices(size)[d] * stride[d] for d in range(len(size)))).ravel()))


@pytest.mark.parametrize("size,stride,offset,message", [
    ((2,), (1, 1), 0, "mismatch in length of strides and shape"),
    ((2, 2), (-1, 1), 0, r"as_strided: Negative strides are not supported at the moment, got strides: \[-1, 1\]"),
    ((-1, 2), (1, 1), 0, r"Storage size calculation overflowed with sizes=\[-1, 2\] and strides=\[1, 1\]"),
    ((2,), (1,), -1, "Tensor: invalid storage offset -1"),
    ((2,), (1,), 100, r"setStorage: sizes \[2\], strides \[1\], storage offset 100, and itemsize 2 requiring a "
                      r"storage size of 204 are out of bounds for storage of size"),
])
def test_as_strided_errors_are_pytorchs(size, stride, offset, message):
    for t in (tl.zeros(8), torch.zeros(8, dtype=torch.float16)):
        with pytest.raises(RuntimeError, match=message):
            t.as_strided(size, stride, offset)
    for bad, kind in (((2.0,), "must be tuple of ints, but found element of type float"), (2, "must be tuple")):
        with pytest.raises(TypeError, match=kind):
            tl.zeros(8).as_strided(bad, (1,))


@pytest.mark.parametrize("dtype", ["float16", "int32", "int64", "bool"])
def test_as_strided_bounds_are_the_logical_storage_not_the_allocation(dtype, rng):
    """Storage is allocated in rounded buckets (64 bytes and up): a view one element past the tensor's own storage
    read the bucket's padding. Now it raises PyTorch's error, naming the storage's own size, and the view that ends
    at the last element is allowed; a slice's storage is its base's."""
    n = int(rng.integers(1, 40))
    ours, theirs = tl.zeros(n, dtype=getattr(tl, dtype)), torch.zeros(n, dtype=getattr(torch, dtype))
    start = int(rng.integers(0, n))
    for t in (ours, theirs, ours[start:], theirs[start:]):
        with pytest.raises(RuntimeError, match=rf"requiring a storage size of {(n + 1) * t.element_size()} are out of "
                                               rf"bounds for storage of size {n * t.element_size()}$"):
            t.as_strided((n - start + 1,), (1,), start)
        with pytest.raises(RuntimeError, match="out of bounds for storage"):
            t.as_strided((2,), (n,), 0)
        assert tuple(t.as_strided((n - start,), (1,), start).shape) == (n - start,)
    with pytest.raises(ValueError, match="does not lie inside its storage"):  # the native view, unchecked in Python
        _core.as_strided(ours._a, [n + 1], [1], 0)


@pytest.mark.parametrize("case", [0, 2, 3, 4, 6])
def test_as_strided_gradients_match_pytorch(case, rng, device):
    shape, key, size, stride, offset = CASES[case]
    values = f16_randn(rng, shape)
    upstream = f16_randn(rng, size)
    x, tx = tl.tensor(values, device=device, requires_grad=True), torch.tensor(values.astype(np.float64),
                                                                                requires_grad=True)
    grads = []
    for lib, leaf in ((tl, x), (torch, tx)):
        source = leaf * 1.0  # a contiguous non-leaf, then the slice
        out = (source if key is None else source[key]).as_strided(size, stride, offset)
        u = tl.tensor(upstream, device=device) if lib is tl else torch.tensor(upstream.astype(np.float64))
        (out * out * u).sum().backward()
        grads.append(leaf.grad)
    assert_grad_close(grads[0], grads[1], 4e-3, "as_strided's gradient")
    assert gradcheck(lambda t: t.as_strided(size, stride, offset) * 1.5 if key is None else
                     t[key].as_strided(size, stride, offset) * 1.5, (x.detach().requires_grad_(),))


def test_in_place_writes_through_an_as_strided_view_reach_the_base(rng, device):
    values, weights = f16_randn(rng, (3, 4), 0.5), f16_randn(rng, (2, 2))
    results = []
    for lib in (tl, torch):
        x = tl.tensor(values, device=device, requires_grad=True) if lib is tl else \
            torch.tensor(values.astype(np.float64), requires_grad=True)
        w = tl.tensor(weights, device=device) if lib is tl else torch.tensor(weights.astype(np.float64))
        a = x * 2
        v = a.as_strided((2, 2), (4, 1), 5)
        v.mul_(3.0)
        ((a * a).sum() + (v * w).sum()).backward()
        results.append((a.detach(), x.grad))
    assert_grad_close(results[0][0], results[1][0], 4e-3, "the base after the write")
    assert_grad_close(results[0][1], results[1][1], 4e-3, "the gradient through the write")


def test_an_as_strided_view_beyond_its_root_refuses_under_autograd(device):
    """The view's step is replayed on tensors of its root's shape: a view reaching storage outside the root (here a
    slice made under no_grad, a root of its own) has no such step; without autograd it is PyTorch's view."""
    base = tl.arange(8, device=device).half()
    with tl.no_grad():
        head = base[:4]
    head.requires_grad_()
    with pytest.raises(NotImplementedError, match="as_strided under autograd"):
        head.as_strided((3,), (1,), 4)
    with tl.no_grad():
        assert head.as_strided((3,), (1,), 4).tolist() == [4.0, 5.0, 6.0]
