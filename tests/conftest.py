"""Shared fixtures: `device` runs a test body once on every device this build and machine have."""
import pytest

import tensorlogic as tl


@pytest.fixture(params=tl.available_devices())
def device(request):
    return request.param
