import pytest

import tensorlogic as tl


@pytest.fixture(params=tl.available_devices())
def device(request):
    return request.param
