"""Fixtures of the language's tests."""
import pytest

import tensorlogic as tl
from tensorlogic.lang.logic import arrays


@pytest.fixture
def on_device(device):
    """Makes each device present the default one for a test (programs run there)."""
    previous = tl.get_default_device()
    tl.set_default_device(device)
    yield device
    tl.set_default_device(previous)


@pytest.fixture(params=["numpy", "tensors"])
def tuple_arrays(request, monkeypatch):
    """Runs a test with the tuple engine's arrays in numpy, then in engine tensors on the CPU: the
    code that a GPU runs (tensorlogic/lang/logic/arrays.py)."""
    monkeypatch.setattr(arrays, "TENSORS_ON_CPU", request.param == "tensors")
    return request.param
