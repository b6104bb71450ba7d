"""Regressions of attack round 6 on data from outside: Python objects and numpy arrays made into tensors. Each hostile
input ends in a typed error that names what is wrong and where (not numpy's "data of dtype object"), and PyTorch
refuses the same input."""
import decimal
import fractions
import io
import json
import operator
import struct

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.tensor_new import rebuild_tensor


class _Index:
    """An integer-like object: PyTorch reads it as a size and an index, but not as tensor data."""

    def __init__(self, value=1):
        self.value = value

    def __index__(self):
        return self.value


@pytest.mark.parametrize("data,error,says", [
    (10**30, OverflowError, "the integer 1000000000000000000000000000000: beyond the int64 range"),
    ([1, 2, -2**63 - 1], OverflowError, r"the integer -9223372036854775809 at index \(2,\): beyond the int64 range"),
    ([[1], [3**200]], OverflowError, r"the integer of 317 bits at index \(1, 0\)"),
    ([[1.5, 2], [None, 3]], TypeError, r"an element of type NoneType at index \(1, 0\)"),
    ([_Index()], TypeError, r"an element of type _Index at index \(0,\)"),
    ([{1: 2}], TypeError, r"an element of type dict at index \(0,\)"),
])
def test_data_numpy_holds_only_as_objects_names_the_element_at_fault(data, error, says):
    with pytest.raises(error, match=says):
        tl.tensor(data)
    with pytest.raises(error, match=says):
        tl.as_tensor(data)
    with pytest.raises((TypeError, ValueError, RuntimeError, OverflowError)):  # PyTorch's kinds vary by case
        torch.tensor(data)



class _Huge(tl.utils.data.Dataset):
    """A dataset that claims 2^62 items (a lazily generated one): each is its index."""

    def __len__(self):
        return 2**62

    def __getitem__(self, i):
        return i


def test_shuffling_a_dataset_too_large_to_permute_is_a_memory_error():
    """numpy's ValueError ("array is too big; `arr.size * arr.dtype.itemsize` ...") came out of the sampler."""
    with pytest.raises(MemoryError, match="RandomSampler: a permutation of 4611686018427387904 indices"):
        next(iter(tl.utils.data.DataLoader(_Huge(), shuffle=True)))
    sampler = tl.utils.data.RandomSampler(_Huge(), replacement=True, num_samples=50)
    assert all(0 <= i < 2**62 for i in sampler) and len(set(sampler)) > 1


def test_int_like_objects_are_sizes_and_indices_as_in_pytorch(rng):
    """zeros(obj) with one such size (or a 0-d integer tensor) was "an invalid combination of arguments" (and "iteration
    over a 0-d tensor"), t[obj] an IndexError; PyTorch reads both through __index__."""
    n, m = (int(v) for v in rng.integers(1, 6, 2))
    for size in (_Index(n), tl.tensor(n)):
        assert tl.zeros(size).shape == torch.zeros(n).shape == (n,)
    assert tl.ones(2, _Index(m)).shape == (2, m)
    data = rng.standard_normal((n, m)).astype(np.float16)
    ours, theirs = tl.tensor(data), torch.tensor(data)
    i, j = int(rng.integers(-n, n)), int(rng.integers(-m, m))
    assert ours[_Index(i), _Index(j)].item() == theirs[_Index(i), _Index(j)].item()
    ours[_Index(i)] = 7.0
    theirs[_Index(i)] = 7.0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(IndexError, match="out of bounds"):
        ours[_Index(2**80)]


def test_bool_data_holding_other_bytes_is_read_as_true(rng):
    """numpy lets a bool hold any byte (a view of raw bytes; a file's BOOL data); the kernels read the byte as the
    number it is, so a 2 compared unequal to True, summed as 2 and became 32768.0 as a float. Each way in now reads
    any nonzero byte as True, as PyTorch does."""
    raw = rng.integers(0, 256, 24).astype(np.uint8)
    raw[:3] = [0, 1, 2]
    flags = np.frombuffer(bytearray(raw.tobytes()), dtype=np.bool_)
    theirs = torch.from_numpy(flags.copy())
    header = json.dumps({"b": {"dtype": "BOOL", "shape": [24], "data_offsets": [0, 24]}}).encode()
    loaded = tl.load(io.BytesIO(struct.pack("<Q", len(header)) + header + raw.tobytes()))["b"]
    rebuilt = rebuild_tensor(tl.Tensor, raw.tobytes(), "bool", (24,), "cpu", False)
    for ours in (tl.from_numpy(flags), tl.tensor(flags), tl.as_tensor(flags), tl.from_dlpack(flags),
                 tl.from_dlpack(torch.from_numpy(flags)), loaded, rebuilt):
        assert ours.eq(True).tolist() == theirs.eq(True).tolist()
        assert ours.sum().item() == theirs.sum().item()
        assert ours.int().tolist() == theirs.int().tolist() and ours.float().tolist() == theirs.float().tolist()
        assert (~ours).tolist() == (~theirs).tolist()
    shared = np.zeros(3, dtype=np.bool_)  # bytes 0 and 1: still the same memory
    view = tl.from_numpy(shared)
    shared[1] = True
    assert view.tolist() == [False, True, False]


@pytest.mark.parametrize("number", [fractions.Fraction(1, 3), decimal.Decimal("1.5")], ids=["Fraction", "Decimal"])
def test_numbers_the_kernels_do_not_take_are_named_in_operators(number):
    """Fraction and Decimal (numbers.Number, as int and float) reached the native scalar op and came back as pybind11's
    'incompatible function arguments' listing tensorlogic._core.BinaryOp and Array. PyTorch refuses them too."""
    for dtype in (tl.float16, tl.int64):
        t = tl.ones(3, dtype=dtype)
        for apply in (operator.add, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.lt,
                      lambda a, b: b - a, lambda a, b: b * a):
            with pytest.raises(TypeError, match=f"an element of type {type(number).__name__}") as caught:
                apply(t, number)
            assert "_core" not in str(caught.value) and "incompatible" not in str(caught.value)
        with pytest.raises(TypeError):
            torch.ones(3) + number


@pytest.mark.parametrize("bounds", [(1.0, 0.0), (0.0, 1e5), (-4e4, 4e4), (float("nan"), 1.0), (0.0, float("inf"))])
def test_uniform_bounds_float16_cannot_hold_are_pytorchs_errors(bounds):
    """uniform_(1, 0) filled values outside [1, 0) and uniform_(0, 1e5) or (-4e4, 4e4) filled infinities; PyTorch's
    float16 refuses each, and so do Tensor.uniform_ and nn.init.uniform_ now (the tensor is left as it was)."""
    for fill in (lambda t: t.uniform_(*bounds), lambda t: tl.nn.init.uniform_(t, *bounds)):
        t = tl.zeros(4)
        with pytest.raises(RuntimeError, match="uniform_"):
            fill(t)
        assert t.tolist() == [0.0] * 4
    with pytest.raises(RuntimeError):
        torch.zeros(4, dtype=torch.float16).uniform_(*bounds)
    low, high = -65504 / 2, 65504 / 2  # the widest range allowed: every draw inside it
    assert all(low <= v <= high for v in tl.empty(1000).uniform_(low, high).tolist())  # (f16 may round up to b)


@pytest.mark.parametrize("low,high", [(0, 2**40), (-2**63, 2**63 - 1), (-2**31 - 1, -2**31 + 1), (2**62, 2**62 + 3)])
def test_randint_takes_int64_ranges_and_refuses_what_its_dtype_cannot_hold(low, high):
    """Ranges beyond int32 were refused ("does not fit int32"), as PyTorch draws them; an int32 or float16 result of
    such a range is PyTorch's RuntimeError (it wrapped, or rounded to inf), as random_ already refused."""
    draws = tl.randint(low, high, (2000,))
    assert draws.dtype == tl.int64 and all(low <= v < high for v in draws.tolist())
    assert len(set(draws.tolist())) > 1
    if high - low > 2**20:  # spread over the range: 2000 draws all in one half has probability 2^-1999
        middle = low + (high - low) // 2
        assert min(draws.tolist()) < middle <= max(draws.tolist())
    for dtype in (tl.int32, tl.float16):
        with pytest.raises(RuntimeError, match="out of bounds for"):
            tl.randint(low, high, (2,), dtype=dtype)


def test_sequences_nested_too_deep_say_so():
    """A list that contains itself, or one nested 100,000 deep, was 'nested sequences of uneven lengths'."""
    itself = []
    itself.append(itself)
    deep = [1.0]
    for _ in range(100_000):
        deep = [deep]
    for data in (itself, deep):
        with pytest.raises(ValueError, match="nested more than 64 deep"):
            tl.tensor(data)
    with pytest.raises(ValueError, match="uneven lengths"):
        tl.tensor([[1.0, 2.0], [3.0]])
