"""Shared fixtures: the device list (every test body runs on every available backend) and fresh RNGs."""
import secrets

import numpy as np
import pytest

import tensorlogic as tl


@pytest.fixture(params=tl.available_devices())
def device(request):
    return request.param


@pytest.fixture
def rng(request):
    """A numpy Generator with a fresh seed, reported when the test fails."""
    seed = secrets.randbits(32)
    request.node.user_properties.append(("seed", seed))
    print(f"seed={seed}")
    return np.random.default_rng(seed)
