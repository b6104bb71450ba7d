"""Regressions of attack round 6 on data from outside: Python objects and numpy arrays made into tensors. Each hostile
input ends in a typed error that names what is wrong and where (not numpy's "data of dtype object"), and PyTorch
refuses the same input."""
import numpy as np
import pytest
import torch

import tensorlogic as tl


class _Index:
    """An integer-like object: PyTorch reads it as an index, but not as tensor data."""

    def __index__(self):
        return 1


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

