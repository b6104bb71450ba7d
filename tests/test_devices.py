"""Device services on every device present: counts and properties, events in a device's queue of work,
device indices (bad ones raise DeviceError naming what exists) and the default device."""
import numpy as np
import pytest

import tensorlogic as tl
from oracle import f16_randn


def test_device_count_and_properties(device):
    kind = tl.device(device).type
    if kind == "cpu":
        props = tl._core.device_properties("cpu")
        assert props["name"] and props["total_memory"] > 0 and props["multi_processor_count"] >= 1
        return
    backend = getattr(tl, kind)
    assert backend.device_count() >= 1
    props = backend.get_device_properties(device)
    assert props.name == backend.get_device_name(device) and props.total_memory > 0
    if kind == "cuda":
        assert props.major >= 7 and props.multi_processor_count > 0


def test_no_cuda_means_zero_devices():
    if tl.cuda.is_available():
        pytest.skip("a GPU is present")
    assert tl.cuda.device_count() == 0
    with pytest.raises(tl.DeviceError, match="not available"):
        tl.cuda.get_device_properties()


def test_memory_queries_without_cuda_are_torchs():
    """torch.cuda's memory queries give 0 and empty_cache does nothing on a machine without CUDA, so programs call
    them unconditionally."""
    torch = pytest.importorskip("torch")
    if tl.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("a GPU is present")
    for name in ("memory_allocated", "max_memory_allocated", "memory_reserved"):
        assert getattr(tl.cuda, name)() == getattr(torch.cuda, name)() == 0, name
    assert tl.cuda.empty_cache() is None and torch.cuda.empty_cache() is None


def test_a_device_as_context_manager_is_the_default_inside(device):
    torch = pytest.importorskip("torch")
    before = tl.get_default_device()
    outer = tl.device(device)
    with outer as entered:
        assert entered is outer and tl.zeros(1).device == outer and tl.get_default_device() == outer
        with tl.device("cpu"):
            assert tl.zeros(1).device == "cpu"
        with pytest.raises(ValueError), outer:  # re-entered, left by an exception
            assert tl.zeros(1).device == outer
            raise ValueError
        assert tl.get_default_device() == outer
    assert tl.get_default_device() == before
    with torch.device("meta"):
        assert torch.zeros(1).device.type == "meta"  # (the oracle's behaviour: tensors made inside go there)
    assert torch.zeros(1).device.type == "cpu"


def test_event_brackets_queued_work(device, rng):
    if tl.device(device).type in ("metal", "ane"):
        with pytest.raises(tl.DeviceError, match="events"):
            tl.Event(device=device)
        return
    a = tl.tensor(f16_randn(rng, (512, 512)), device=device)
    start, end = tl.Event(enable_timing=True, device=device), tl.Event(enable_timing=True, device=device)
    assert start.query()  # never recorded: complete, as in PyTorch
    start.record()
    for _ in range(4):
        a = (a @ a) * 0.01
    end.record()
    end.synchronize()
    assert end.query() and start.query()
    ms = start.elapsed_time(end)
    assert 0.0 <= ms < 60_000
    assert str(start.device) == str(tl.device(device))


def test_event_misuse_raises_device_error(device):
    if tl.device(device).type in ("metal", "ane"):
        pytest.skip("no events on this device")
    plain, timed = tl.Event(device=device), tl.Event(enable_timing=True, device=device)
    plain.record()
    timed.record()
    with pytest.raises(tl.DeviceError, match="enable_timing"):
        plain.elapsed_time(timed)
    with pytest.raises(tl.DeviceError, match="recorded"):
        tl.Event(enable_timing=True, device=device).elapsed_time(timed)
    if device != "cpu":
        with pytest.raises(tl.DeviceError, match="are on"):
            timed.elapsed_time(tl.Event(enable_timing=True, device="cpu"))


def test_bad_device_index_names_what_exists():
    with pytest.raises(tl.DeviceError):
        tl.zeros(2, device="cpu:1")
    match = "has 1 cuda device|GPU|cuda device" if tl.cuda.is_available() else "not available"
    with pytest.raises(tl.DeviceError, match=match):
        tl.zeros(2, device=f"cuda:{max(tl.cuda.device_count(), 1) + 7}")
    with pytest.raises(tl.DeviceError):
        tl.zeros(2, device="cuda:x")


def test_default_device_keeps_its_index():
    before = tl.get_default_device()
    try:
        tl.set_default_device("cpu")
        assert tl.zeros(3).device == "cpu"
        if tl.cuda.device_count() >= 2:
            tl.set_default_device("cuda:1")
            assert tl.get_default_device() == "cuda:1" and tl.zeros(3).device == "cuda:1"
            assert str(tl.cuda.Event().device) == "cuda:1"
    finally:
        tl.set_default_device(before)
    np.testing.assert_array_equal(tl.zeros(2).cpu().numpy(), np.zeros(2, np.float16))


def test_pytorch_memory_names_follow_the_allocator(device):
    kind = tl.device(device).type
    if kind == "cpu":
        pytest.skip("tl.cuda/tl.metal/tl.ane name GPU devices; the CPU has tl.memory")
    backend = getattr(tl, kind)
    before = backend.memory_allocated(device)
    x = tl.empty((1 << 18,), device=device)
    assert backend.memory_allocated(device) >= before + x.numel() * 2
    assert backend.max_memory_allocated(device) >= backend.memory_allocated(device)
    assert backend.memory_reserved(device) >= backend.memory_allocated(device)
    del x
    assert backend.memory_allocated(device) == before
    backend.empty_cache(device)
    assert tl.memory.stats(device)["cached_bytes"] == 0
    backend.reset_peak_memory_stats(device)
    assert backend.max_memory_allocated(device) == backend.memory_allocated(device)
