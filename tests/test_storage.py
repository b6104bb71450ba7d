"""Tensor.untyped_storage() and Tensor.storage() against PyTorch's on the same views: which tensors share
memory, the storage's size in bytes and elements, and its elements."""
import numpy as np
import torch

import tensorlogic as tl


def test_views_share_a_storage_as_in_torch():
    rng = np.random.default_rng()
    data = rng.standard_normal((6, 5)).astype(np.float16)
    ours, theirs = tl.tensor(data), torch.from_numpy(data.copy())
    views = [lambda t: t[2:], lambda t: t.t(), lambda t: t[:, 1], lambda t: t.reshape(30)[7:19]]
    copies = [lambda t: t.clone(), lambda t: t.t().contiguous(), lambda t: t + 1]
    for make in views + copies:
        shared_ours = make(ours).untyped_storage().data_ptr() == ours.untyped_storage().data_ptr()
        shared_theirs = make(theirs).untyped_storage().data_ptr() == theirs.untyped_storage().data_ptr()
        assert shared_ours == shared_theirs
        assert (make(ours).untyped_storage() == ours.untyped_storage()) == shared_theirs


def test_storage_sizes_and_elements_match_torch():
    rng = np.random.default_rng()
    data = rng.standard_normal(int(rng.integers(3, 40))).astype(np.float16)
    start = int(rng.integers(0, len(data) - 1))
    ours, theirs = tl.tensor(data)[start:], torch.from_numpy(data.copy())[start:]
    assert ours.untyped_storage().nbytes() == theirs.untyped_storage().nbytes() == data.nbytes
    assert len(ours.storage()) == len(theirs.untyped_storage()) // 2 == len(data)
    theirs_elements = np.frombuffer(bytes(theirs.untyped_storage().tolist()), np.float16).tolist()
    assert ours.storage().tolist() == theirs_elements
    assert ours.storage()[start] == data[start]
    assert ours.storage().dtype == tl.float16 and ours.storage().element_size() == 2
    assert ours.storage().untyped().nbytes() == data.nbytes


def test_storage_keeps_its_memory_alive():
    x = tl.arange(8, dtype=tl.float32)
    s = x[3:].storage()
    del x
    assert s.tolist() == list(range(8))
