"""Shared fixtures: every test body runs once per available device; inputs are random and freshly seeded
(the seed is printed, so a failure can be replayed). The helpers that make f16 data and compare results
with an oracle live in oracle.py, the op database in opinfo.py (tests/ is on sys.path under pytest)."""
import os
import secrets
import sys

import numpy as np
import pytest

import tensorlogic as tl


@pytest.fixture(params=tl.available_devices())
def device(request):
    return request.param


if "cuda" in tl.available_devices():
    @pytest.fixture(autouse=True)
    def _deferred_errors_raised_in_their_test():
        """A GPU's range checks raise at the next read: a test that leaves one pending fails at its own teardown
        instead of in whichever test reads next."""
        yield
        tl.cuda.synchronize()


@pytest.fixture(autouse=True)
def _default_device_restored():
    """A test that changes the default device restores it. One that leaves it changed fails here (and the default is
    put back), not the later tests of its worker that build modules there (a GPU run of 2026-12-07: a DataParallel
    test on the CPU found its module's weights on the GPU)."""
    before = tl.get_default_device()
    yield
    after = tl.get_default_device()
    if after != before:
        tl.set_default_device(before)
        pytest.fail(f"the test left the default device at {after} (it was {before})")


@pytest.fixture
def rng(request):
    """A numpy Generator with a fresh seed (TL_TEST_SEED replays one), reported when the test fails. The same
    seed also seeds TensorLogic's and (when the test uses it) PyTorch's generators, so weights that either
    library initialises replay too. A test that reads its output with capsys requests rng before capsys, so that
    the seed line is printed before capsys captures."""
    seed = int(os.environ.get("TL_TEST_SEED", secrets.randbits(32)))
    request.node.user_properties.append(("seed", seed))
    print(f"seed={seed}")
    tl.manual_seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    return np.random.default_rng(seed)


@pytest.fixture
def cpu_default():
    """Makes the CPU the default device for one test (host-memory semantics: zero-copy numpy views,
    writes through .numpy()); restores the previous default after it."""
    previous = tl.get_default_device()
    tl.set_default_device("cpu")
    yield
    tl.set_default_device(previous)
