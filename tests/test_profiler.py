"""tl.profiler: what it records (ops, kernels, backward nodes, optimizer steps, ranges), how events nest,
the table, the Chrome trace, the schedule, and that nothing of it is in place when no profile is active."""
import json
import threading
import types

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.autograd.function import Function
from tensorlogic.profiler import recorder


def _f16(rng, *shape):
    return rng.standard_normal(shape).astype(np.float16)


def _named(prof, name):
    found = [e for e in prof.events() if e.name == name]
    assert found, f"no event {name!r} among {sorted({e.name for e in prof.events()})}"
    return found


def test_ops_are_recorded_with_names_shapes_and_their_kernels(device, rng):
    a = tl.tensor(_f16(rng, 3, 4), device=device, requires_grad=True)
    b = tl.tensor(_f16(rng, 3, 4), device=device)
    with tl.profiler.profile(record_shapes=True) as prof:
        y = tl.mul(a, b)
        z = tl.exp(b)  # unrecorded by autograd (b needs no grad): still one op named by its family
    (mul,) = _named(prof, "mul")
    assert [3, 4] in mul.input_shapes and tl.device(mul.device) == tl.device(device)
    assert [c.name for c in mul.cpu_children] == ["tl::binary.mul"]
    assert mul.cpu_children[0].input_shapes[1:] == [[3, 4], [3, 4]]
    (exp,) = _named(prof, "exp")
    assert [c.name for c in exp.cpu_children] == ["tl::unary.exp"]
    np.testing.assert_array_equal(y.numpy(), (a.numpy() * b.numpy()).astype(np.float16))
    assert z.shape == (3, 4)


def test_device_time_comes_from_events_on_gpus(device, rng, tmp_path):
    x = tl.tensor(_f16(rng, 64, 64), device=device)
    activities = [tl.profiler.ProfilerActivity.CPU, tl.profiler.ProfilerActivity.CUDA]
    with tl.profiler.profile(activities=activities) as prof:
        tl.matmul(x, x)
    (kernel,) = _named(prof, "tl::matmul")
    (op,) = _named(prof, "matmul")
    if device.startswith("cuda"):
        assert kernel.self_device_time_total > 0 and op.device_time_total == kernel.self_device_time_total
        assert "Self Device" in prof.key_averages().table()
    else:  # host kernels have no device time
        assert kernel.device_events is None and kernel.self_device_time_total == 0
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    rows = {(e["pid"], e["tid"]) for e in json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
            if e["ph"] == "X"}
    assert len(rows) == (2 if device.startswith("cuda") else 1)  # the host thread, and the GPU's row


def test_views_get_no_device_time(device, rng):
    """A view enqueues no device work: events around it would time the gap between its neighbours."""
    x = tl.tensor(_f16(rng, 8, 16), device=device)
    activities = [tl.profiler.ProfilerActivity.CPU, tl.profiler.ProfilerActivity.CUDA]
    with tl.profiler.profile(activities=activities) as prof:
        x.permute(1, 0).reshape(16, 8).split(4, dim=0)
        x.t().contiguous()  # a copy: a kernel
        y = tl.zeros(8, 16, device=device)
        y.add_(x)  # in place: returns the array it wrote, and is timed
    views = [e for e in prof.events() if e.name in ("tl::permute", "tl::reshape", "tl::split")]
    assert views and all(e.device_events is None and e.self_device_time_total == 0 for e in views)
    if device.startswith("cuda"):
        copies = [e for e in prof.events() if e.name.startswith("tl::") and e.device_events is not None]
        assert copies and all(e.self_device_time_total > 0 for e in copies)
    np.testing.assert_array_equal(y.numpy(), x.numpy())


def test_is_view_reads_storages_and_names():
    a = tl.zeros(4, 4)._a
    view, copy = _core.permute(a, [1, 0]), _core.contiguous(_core.permute(a, [1, 0]))
    assert recorder._is_view("permute", (a, [1, 0]), view)
    assert not recorder._is_view("contiguous", (view,), copy)
    assert not recorder._is_view("binary_.add", (_core.BinaryOp.add, a, a), a)  # in place
    assert not recorder._is_view("copy_", (a, a), None)
    assert recorder._is_view("split", (a, [2, 2], 0), _core.split(a, [2, 2], 0))


def test_self_time_is_total_minus_children_and_ranges_nest(rng):
    x = tl.tensor(_f16(rng, 8, 8))
    with tl.profiler.profile() as prof:
        with tl.profiler.record_function("outer"):
            with tl.profiler.record_function("inner"):
                tl.matmul(x, x)
            tl.softmax(x, dim=-1)
    (outer,) = _named(prof, "outer")
    (inner,) = _named(prof, "inner")
    assert inner.cpu_parent is outer and outer.cpu_parent is None
    children = sum(c.cpu_time_total for c in outer.cpu_children)
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - children)
    assert 0 <= outer.self_cpu_time_total <= outer.cpu_time_total
    for ev in prof.events():
        start, end = ev.time_range
        if ev.cpu_parent is not None:
            p_start, p_end = ev.cpu_parent.time_range
            assert p_start <= start <= end <= p_end
        if ev.name.startswith("tl::"):
            assert ev.self_cpu_time_total == ev.cpu_time_total  # kernels have no children
    averages = prof.key_averages()
    total = sum(a.self_cpu_time_total for a in averages)
    assert total == pytest.approx(outer.cpu_time_total)  # self times partition the top-level time


def test_backward_nodes_and_optimizer_step_are_recorded(rng):
    lin = tl.nn.Linear(6, 3)
    opt = tl.optim.SGD(lin.parameters(), lr=0.1)
    x = tl.tensor(_f16(rng, 5, 6))
    with tl.profiler.profile() as prof:
        loss = tl.tanh(lin(x)).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    names = {e.name for e in prof.events()}
    assert {"tanhBackward", "sumBackward", "linearBackward"} <= names
    backward = [e for e in prof.events() if e.kind == "backward"]
    assert all(e.cpu_children for e in backward if e.name == "tanhBackward")  # its ops run inside it
    (step,) = _named(prof, "Optimizer.step#SGD.step")
    assert [c.name for c in step.cpu_children].count("tl::optimizer_step.sgd") == 1  # one for both parameters
    assert _named(prof, "Optimizer.zero_grad#SGD.zero_grad")
    assert lin.weight.grad is None


def test_module_calls_and_the_backward_pass_are_ranges_around_their_ops(rng):
    model = tl.nn.Sequential(tl.nn.Linear(6, 4), tl.nn.Tanh())
    x = tl.tensor(_f16(rng, 5, 6))
    with tl.profiler.profile() as prof:
        loss = model(x).sum()
        loss.backward()
    (outer,) = _named(prof, "nn.Module: Sequential")
    assert [c.name for c in outer.cpu_children] == ["nn.Module: Linear", "nn.Module: Tanh"]
    (linear,) = _named(prof, "nn.Module: Linear")
    assert [c.name for c in linear.cpu_children] == ["linear"]
    (engine,) = _named(prof, "autograd::backward")
    assert engine.cpu_parent is None and engine.kind == "autograd"
    assert {"sumBackward", "tanhBackward", "linearBackward"} <= {c.name for c in engine.cpu_children}
    assert model[0].weight.grad is not None


def test_gradients_are_unchanged_by_profiling(rng):
    # stack's backward compares the native function it was given: forward inside a profile (timed
    # functions in place), backward outside (the originals back), and the reverse.
    a, b = _f16(rng, 2, 3), _f16(rng, 2, 3)
    ta, tb = tl.tensor(a, requires_grad=True), tl.tensor(b, requires_grad=True)
    with tl.profiler.profile():
        s = tl.stack([ta, tb], dim=0)
    (s * tl.tensor(np.arange(12, dtype=np.float16).reshape(2, 2, 3))).sum().backward()
    np.testing.assert_array_equal(ta.grad.numpy(), np.arange(6, dtype=np.float16).reshape(2, 3))
    np.testing.assert_array_equal(tb.grad.numpy(), np.arange(6, 12, dtype=np.float16).reshape(2, 3))
    c = tl.tensor(a, requires_grad=True)
    s = tl.stack([c, c], dim=1)
    with tl.profiler.profile():
        s.sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), np.full((2, 3), 2, np.float16))


def test_nothing_is_in_place_when_no_profile_is_active():
    assert not recorder.is_installed()
    assert isinstance(_core.binary, types.BuiltinFunctionType)
    assert Function.__dict__["apply"] is recorder._APPLY
    assert tl.autograd.grad_mode.mode.profiler is None
    with pytest.raises(ZeroDivisionError):
        with tl.profiler.profile():
            assert recorder.is_installed()
            1 / 0
    assert not recorder.is_installed() and tl.autograd.grad_mode.mode.profiler is None
    with tl.profiler.profile():
        with pytest.raises(RuntimeError, match="already active"):
            tl.profiler.profile().start()
    assert not recorder.is_installed()
    with tl.profiler.record_function("unused") as r:  # no profile: records nothing, costs a flag read
        assert r._event is None


def test_memory_is_counted_per_kernel(rng):
    x = tl.tensor(_f16(rng, 128, 128))
    with tl.profiler.profile(profile_memory=True) as prof:
        y = x + x
    (add,) = _named(prof, "tl::binary.add")
    assert add.self_cpu_memory_usage >= 128 * 128 * 2
    assert "CPU Mem" in prof.key_averages().table()
    del y


def test_chrome_trace_is_json_whose_events_nest(tmp_path, rng):
    x = tl.tensor(_f16(rng, 4, 8), requires_grad=True)
    with tl.profiler.profile(record_shapes=True) as prof:
        with tl.profiler.record_function("forward"):
            y = tl.nn.functional.gelu(x @ x.T).sum()
        y.backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    complete = [e for e in trace if e["ph"] == "X"]
    assert len(complete) == len(prof.events())
    assert all({"name", "ts", "dur", "pid", "tid"} <= set(e) for e in complete)
    assert any(e["name"] == "forward" for e in complete)
    by_row = {}
    for e in complete:
        by_row.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_row.values():  # on one row, two spans are disjoint or one holds the other
        spans.sort(key=lambda s: (s[0], -s[1]))
        open_ends = []
        for start, end in spans:
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            assert not open_ends or end <= open_ends[-1] + 1e-6
            open_ends.append(end)


def test_table_sorts_limits_and_groups_by_shape(rng):
    with tl.profiler.profile(record_shapes=True) as prof:
        for n in (4, 4, 16):
            x = tl.tensor(_f16(rng, n, n))
            tl.matmul(x, x)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert "Name" in lines[1] and "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    assert len(lines) == 3 + 3 + 2  # header, 3 rows, rule and total
    assert lines[-1].startswith("Self CPU time total:")
    rows = prof.key_averages()
    ordered = sorted(rows, key=lambda r: r.self_cpu_time_total, reverse=True)[:3]
    assert [line.split()[0] for line in lines[3:6]] == [r.key for r in ordered]
    grouped = [r for r in prof.key_averages(group_by_input_shape=True) if r.key == "tl::matmul"]
    assert sorted(r.count for r in grouped) == [1, 2]
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="wall")


def test_schedule_records_only_active_steps():
    sched = tl.profiler.schedule(wait=1, warmup=1, active=2, repeat=1)
    actions = [sched(i).name for i in range(6)]
    assert actions == ["NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE", "NONE"]
    saved = []
    x = tl.ones(2, 2)
    with tl.profiler.profile(schedule=sched, on_trace_ready=lambda p: saved.append(len(p.events()))) as prof:
        for step in range(6):
            with tl.profiler.record_function(f"step{step}"):
                x = x + 1
            prof.step()
    assert saved == [4]  # steps 2 and 3: one range and one kernel each
    assert {e.name for e in prof.events() if e.kind == "user"} == {"step2", "step3"}


def test_threads_record_on_their_own_rows(rng):
    x = tl.tensor(_f16(rng, 4, 4))
    with tl.profiler.profile() as prof:
        worker = threading.Thread(target=lambda: tl.exp(x))
        worker.start()
        worker.join()
        tl.exp(x)
    threads = {e.thread for e in _named(prof, "exp")}
    assert len(threads) == 2


def test_record_function_decorates():
    @tl.profiler.record_function("helper")
    def helper(t):
        return t * 2

    with tl.profiler.profile() as prof:
        helper(tl.ones(3))
    (ev,) = _named(prof, "helper")
    assert [c.name for c in ev.cpu_children] == ["tl::binary_scalar.mul"]
