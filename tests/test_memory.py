"""The caching allocator seen from Python: many small ops leave active bytes flat, a limit raises
tl.OutOfMemoryError (torch's name; a MemoryError and a RuntimeError, and nothing leaks from the failed op),
clear_cache returns cached buffers."""
import gc

import pytest
import torch

import tensorlogic as tl


def test_many_small_ops_leave_active_bytes_flat(device):
    a = tl.ones(16, device=device)
    b = tl.full((16,), 0.5, device=device)
    idx = tl.tensor([3, 1], device=device)
    for _ in range(100):  # warm up the buckets
        (a + b).relu()
    gc.collect()
    before = tl.memory.stats(device)["active_bytes"]
    for i in range(100_000):
        c = a * b + 1
        if i % 10 == 0:
            c = c[idx]
            c[0] = 2.0
            c = tl.cat([c, c])
    del c
    gc.collect()
    after = tl.memory.stats(device)
    assert after["active_bytes"] == before
    assert after["reuses"] > 100_000  # buffers come back from the cache, not from the system


def test_limit_raises_memory_error_and_recovers(device):
    tl.memory.clear_cache(device)
    keep = tl.zeros(1024, device=device)
    used = tl.memory.stats(device)["active_bytes"]
    tl.memory.set_limit(used + 64 * 1024, device)
    try:
        with pytest.raises(tl.cuda.OutOfMemoryError, match="out of memory"):  # as `except torch.cuda.OutOf...`
            tl.zeros(1 << 20, device=device)
        with pytest.raises(MemoryError):
            keep.reshape(32, 32).T.contiguous().expand(1000, 32, 32).contiguous()
        assert tl.memory.stats(device)["active_bytes"] == used  # the failed ops left nothing behind
        small = tl.ones(100, device=device)  # within the limit: still fine
        assert small.numel() == 100
    finally:
        tl.memory.set_limit(0, device)
    assert tl.zeros(1 << 20, device=device).numel() == 1 << 20
    del keep


def test_out_of_memory_error_is_torchs_and_pythons():
    assert torch.OutOfMemoryError is torch.cuda.OutOfMemoryError and issubclass(torch.OutOfMemoryError, RuntimeError)
    assert tl.OutOfMemoryError is tl.cuda.OutOfMemoryError and issubclass(tl.OutOfMemoryError, RuntimeError)
    with pytest.raises(MemoryError, match="exceeds the addressable memory") as info:
        tl.zeros(1 << 62, dtype=tl.float16)
    assert isinstance(info.value, tl.OutOfMemoryError)


def test_clear_cache(device):
    x = tl.zeros(1 << 16, device=device)
    del x
    gc.collect()
    assert tl.memory.stats(device)["cached_bytes"] > 0
    tl.memory.clear_cache(device)
    stats = tl.memory.stats(device)
    assert stats["cached_bytes"] == 0 and stats["frees"] > 0


def test_views_share_one_buffer(device):
    before = tl.memory.stats(device)["active_bytes"]
    x = tl.zeros(4096, device=device)
    grown = tl.memory.stats(device)["active_bytes"] - before
    views = [x[1:], x.reshape(64, 64).T, x.view(2, -1)[0], x.unsqueeze(0).expand(3, -1)]
    assert tl.memory.stats(device)["active_bytes"] - before == grown
    del x, views
    gc.collect()
    assert tl.memory.stats(device)["active_bytes"] == before


def test_planner_stats_names_the_devices_and_its_decisions():
    stats = tl.planner.stats()
    assert stats["devices"] == tl.available_devices()
    assert set(stats) == {"devices", "decisions", "calls", "fallbacks", "failed_models"}
    assert all(d["device"] in ("ane", "metal") for d in stats["decisions"])  # only the ane device decides
