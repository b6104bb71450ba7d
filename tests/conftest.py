"""Shared fixtures: every test body runs once per available device."""
import pytest

import tensorlogic as tl


@pytest.fixture(params=tl.available_devices())
def device(request):
    return request.param
