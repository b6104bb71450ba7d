"""Fixtures of the language's tests."""
import pytest

import tensorlogic as tl


@pytest.fixture
def on_device(device):
    """Makes each device present the default one for a test (programs run there)."""
    previous = tl.get_default_device()
    tl.set_default_device(device)
    yield device
    tl.set_default_device(previous)
