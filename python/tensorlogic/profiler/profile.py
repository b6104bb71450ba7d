"""tl.profiler.profile, record_function and schedule, after torch.profiler."""
import enum
import gzip
import json
import os
import socket
import time

from ..autograd.grad_mode import ContextDecorator, mode
from .events import EventList, finish
from .recorder import Recorder, install, uninstall


class ProfilerActivity(enum.Enum):
    """What a profile records, as torch.profiler.ProfilerActivity: CPU (ops, kernels, backward nodes and ranges on
    the host clock) and CUDA (also each CUDA kernel's device time). There is no MPS activity."""
    CPU = "cpu"
    CUDA = "cuda"  # the Apple devices have no timing events yet, so no MPS activity


class ProfilerAction(enum.Enum):
    """What a schedule asks of a step, as torch.profiler.ProfilerAction: NONE, WARMUP, RECORD, RECORD_AND_SAVE
    (record, then call on_trace_ready)."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0):
    """torch.profiler.schedule: after skip_first steps, cycles of `wait` idle steps, `warmup` steps and
    `active` recorded steps (the last one saves: on_trace_ready is called), `repeat` times (0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("schedule: wait, warmup, repeat and skip_first must be >= 0 and active > 0")
    cycle = wait + warmup + active

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if position == cycle - 1 else ProfilerAction.RECORD

    return action


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:
    """Records every op, native kernel, backward node, optimizer step and record_function range run while
    active (from any thread). With CUDA among the activities, each kernel on a CUDA device also gets its
    device time from a pair of timing events, read when the profile stops."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False):
        """with_flops: each kernel of a matrix product (matmul, linear), convolution, mul or add gets its estimated
        FLOPs, counted as torch.profiler counts them (`flops`; a "Total FLOPs" column in tables). with_modules: accepted; nn.Module calls are always recorded here (as
        "nn.Module: Name" ranges), where PyTorch records a module hierarchy for TorchScript models only.
        with_stack=True (the Python source of each op) is not supported."""
        if with_stack:
            raise ValueError("profile: with_stack=True is not supported: the Python stack of each op is not recorded "
                             "(nn.Module calls and record_function ranges show where time goes)")
        activities = set(activities) if activities is not None else {ProfilerActivity.CPU}
        if not activities <= set(ProfilerActivity):
            raise ValueError(f"profile: activities must be ProfilerActivity members, got {sorted(map(str, activities))}")
        self.activities = activities
        self.record_shapes, self.profile_memory = bool(record_shapes), bool(profile_memory)
        self._schedule, self.on_trace_ready = schedule, on_trace_ready
        self.with_flops, self.with_modules = bool(with_flops), bool(with_modules)
        self._device_kinds = frozenset(a.value for a in activities if a is not ProfilerActivity.CPU)
        self._recorder = None
        self._events = EventList()
        self._start_ns = 0
        self.step_num = 0
        self._action = ProfilerAction.NONE

    # ---- lifetime --------------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """Starts profiling (what entering the `with` block does); with a schedule, step 0's action decides whether
        recording begins."""
        self.step_num = 0
        self._action = self._schedule(0) if self._schedule is not None else ProfilerAction.RECORD
        if self._action in _RECORDING:
            self._begin()

    def stop(self):
        """Stops recording (what leaving the `with` block does) and calls on_trace_ready if set."""
        if self._recorder is not None:
            self._end()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def step(self):
        """Marks the end of a training step: moves to the schedule's next action."""
        if self._schedule is None:
            return
        previous = self._action
        self.step_num += 1
        self._action = self._schedule(self.step_num)
        if previous is ProfilerAction.RECORD_AND_SAVE or (previous in _RECORDING and self._action not in _RECORDING):
            self._end()
            if previous is ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if self._action in _RECORDING and self._recorder is None:
            self._begin()

    def _begin(self):
        self._recorder = Recorder(self.record_shapes, self.profile_memory, self._device_kinds, self.with_flops)
        install(self._recorder)
        self._start_ns = time.perf_counter_ns()

    def _end(self):
        recorder, self._recorder = self._recorder, None
        if mode.profiler is recorder:
            uninstall()
        recorder.read_device_times()
        events = sorted(recorder.events, key=lambda e: (e.start_ns, -e.end_ns))
        finish(events)
        self._events = EventList(events, self.profile_memory, bool(self._device_kinds), self.with_flops)
        self._origins = recorder.device_origins

    # ---- results ---------------------------------------------------------------------------------
    def events(self):
        """The recorded FunctionEvents of the last recording, an EventList in start order."""
        return self._events

    def key_averages(self, group_by_input_shape=False):
        """The events summed by name (and input shapes with group_by_input_shape=True); .table() prints them."""
        return self._events.key_averages(group_by_input_shape)

    def export_chrome_trace(self, path):
        """Writes the events in the Trace Event Format (JSON) that Perfetto and chrome://tracing read: one
        complete ("X") event per call on its thread's row, and each GPU kernel on its device's row; gzipped when the
        path ends in .gz, as PyTorch's."""
        pid = os.getpid()
        threads = {}
        trace = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "CPU"}}]
        devices = {}
        for ev in self._events:
            tid = threads.setdefault(ev.thread, len(threads))
            args = {"Device": ev.device, "Kind": ev.kind}
            if ev.input_shapes:
                args["Input Dims"] = ev.input_shapes
            if self.profile_memory:
                args["Bytes"] = ev.self_cpu_memory_usage
            trace.append({"name": ev.name, "cat": ev.kind, "ph": "X", "pid": pid, "tid": tid,
                          "ts": (ev.start_ns - self._start_ns) / 1000.0,
                          "dur": (ev.end_ns - ev.start_ns) / 1000.0, "args": args})
            if ev.device_events is not None:
                origin, origin_ns = self._origins[ev.device]
                device_pid = devices.setdefault(ev.device, pid + 1 + len(devices))
                start_us = (origin_ns - self._start_ns) / 1000.0 + origin.elapsed_ms(ev.device_events[0]) * 1000.0
                trace.append({"name": ev.name, "cat": "kernel", "ph": "X", "pid": device_pid, "tid": 0,
                              "ts": start_us, "dur": ev.self_device_time_total, "args": {"Device": ev.device}})
        trace += [{"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": f"thread {ident}"}}
                  for ident, tid in threads.items()]
        trace += [{"ph": "M", "name": "process_name", "pid": device_pid, "tid": 0, "args": {"name": device}}
                  for device, device_pid in devices.items()]
        with (gzip.open(path, "wt") if str(path).endswith(".gz") else open(path, "w")) as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """torch.profiler.tensorboard_trace_handler: an on_trace_ready that writes each trace (export_chrome_trace's
    JSON) into `dir_name` as `<worker_name>.<nanoseconds>.pt.trace.json` (.gz, gzipped, with use_gzip), the names
    TensorBoard's profiler plugin reads; worker_name defaults to `<host>_<pid>`."""

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")  # ns: no two alike
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler


class record_function(ContextDecorator):
    """A named range in the profile (a context manager or a decorator); does nothing when no profile is active."""

    def __init__(self, name, args=None):
        self.name = name
        self._event = self._recorder = None

    def __enter__(self):
        recorder = mode.profiler
        if recorder is not None:
            self._recorder, self._event = recorder, recorder.begin(self.name, "user", ())
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            self._recorder.end(self._event)
            self._event = self._recorder = None
        return False

    def _args(self):
        return (self.name,)
