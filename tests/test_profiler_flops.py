"""tl.profiler's FLOPs estimates (profile(with_flops=True)) against torch.profiler's for the same ops and shapes,
its other keywords as nanoGPT's bench.py passes them, and tensorboard_trace_handler writing the traces a schedule
saves."""
import gzip
import json
import os

import numpy as np
import pytest
import torch

import tensorlogic as tl


def _flops_by_op(lib, rng_seed, device=None):
    """{op: FLOPs} of one forward of a conv + linear model and two matrix products, with shapes drawn from the seed."""
    r = np.random.default_rng(rng_seed)
    c_in, c_out, k, hw, groups = int(r.integers(1, 4)) * 2, int(r.integers(1, 4)) * 2, int(r.integers(1, 4)), \
        int(r.integers(4, 9)), int(r.choice([1, 2]))
    m, n, p, batch = (int(v) for v in r.integers(1, 9, 4))
    kwargs = {} if lib is torch else {"device": device}
    conv = lib.nn.Conv2d(c_in, c_out, k, padding=1, stride=int(r.integers(1, 3)), groups=groups).to(**kwargs)
    x = lib.randn(batch, c_in, hw, hw, **kwargs)
    linear = lib.nn.Linear(conv(x).shape[-1], m).to(**kwargs)
    with lib.profiler.profile(with_flops=True, record_shapes=False, profile_memory=False, with_stack=False,
                              with_modules=False) as prof:
        linear(conv(x))
        y = lib.randn(batch, m, n, **kwargs) @ lib.randn(batch, n, p, **kwargs)
        y * y[0] + 1.0
    return {e.key: e.flops for e in prof.key_averages() if e.flops}, prof


def test_flops_follow_pytorchs(device, rng):
    seed = int(rng.integers(1 << 30))
    theirs, _ = _flops_by_op(torch, seed)
    ours, prof = _flops_by_op(tl, seed, device)
    # PyTorch counts convolutions on aten::conv2d, linear layers on aten::addmm, matrix products on aten::mm and
    # bmm; ours on the kernel each runs.
    assert ours["tl::conv2d"] == theirs["aten::conv2d"], (ours, theirs)
    assert ours["tl::linear"] == theirs["aten::addmm"], (ours, theirs)
    assert ours["tl::matmul"] == sum(theirs.get(k, 0) for k in ("aten::mm", "aten::bmm")), (ours, theirs)
    assert ours["tl::binary.mul"] == theirs["aten::mul"], (ours, theirs)
    assert ours["tl::binary_scalar.add"] == theirs["aten::add"], (ours, theirs)
    table = prof.key_averages().table(sort_by="self_cpu_time_total")
    assert "FLOPs" in table.splitlines()[1] and " --" in table  # ops without an estimate show --


def test_matrix_vector_products_are_counted(rng):
    """(PyTorch leaves aten::mv uncounted.)"""
    a, v = tl.tensor(rng.standard_normal((5, 3)).astype(np.float16)), tl.tensor(rng.standard_normal(3).astype(np.float16))
    with tl.profiler.profile(with_flops=True) as prof:
        a @ v
    assert [e.flops for e in prof.events() if e.name == "tl::matmul"] == [2 * 5 * 3]


def test_no_flops_column_unless_asked(rng):
    a = tl.tensor(rng.standard_normal((3, 4)).astype(np.float16))
    with tl.profiler.profile() as prof:
        a @ a.T
    assert all(e.flops == 0 for e in prof.events()) and "FLOPs" not in prof.key_averages().table()


def test_with_stack_is_refused_clearly():
    with pytest.raises(ValueError, match="with_stack=True is not supported"):
        tl.profiler.profile(with_stack=True)


@pytest.mark.parametrize("use_gzip", [False, True])
def test_tensorboard_trace_handler_writes_each_saved_cycle(tmp_path, rng, use_gzip):
    """nanoGPT's bench.py: a schedule of wait 1, warmup 1, active 2, repeat 2 saves two traces."""
    a = tl.tensor(rng.standard_normal((4, 4)).astype(np.float16))
    handler = tl.profiler.tensorboard_trace_handler(str(tmp_path / "bench_log"), worker_name="w0", use_gzip=use_gzip)
    with tl.profiler.profile(activities=[tl.profiler.ProfilerActivity.CPU], on_trace_ready=handler,
                             schedule=tl.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)) as prof:
        for _ in range(10):
            a @ a
            prof.step()
    names = sorted(os.listdir(tmp_path / "bench_log"))
    suffix = ".pt.trace.json.gz" if use_gzip else ".pt.trace.json"
    assert len(names) == 2 and all(n.startswith("w0.") and n.endswith(suffix) for n in names), names
    opener = gzip.open if use_gzip else open
    with opener(tmp_path / "bench_log" / names[0], "rt") as f:
        trace = json.load(f)
    assert sum(e.get("name") == "matmul" for e in trace["traceEvents"]) == 2  # the two active steps
