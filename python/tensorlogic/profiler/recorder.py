"""The recording side of tl.profiler. While a profile is active, timed wrappers stand in for every native
function of `_core` (the kernels: every op's work ends in one), for Function.apply (the public ops, with
their autograd bookkeeping), for Module.__call__ ("nn.Module: Name" ranges, as torch.profiler's module
events: their self time is the Python between a module's ops), for the backward pass as a whole
("autograd::backward": its self time is the engine's own work between nodes) and for Optimizer.step and
zero_grad; the engine asks `mode.profiler` per backward node. When no profile is active the original
objects are in place, so the per-op path runs no profiler code at all."""
import functools
import threading
import time
import types

from .. import _core
from ..autograd import api
from ..autograd.function import Function, _Output, node_op_name, op_name, records
from ..autograd.grad_mode import mode
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .events import FunctionEvent

# Native functions that query or configure the library rather than compute, and autograd's own entries (timed as
# the ops and the "autograd::backward" range they serve): never timed.
_NOT_OPS = frozenset({"available_devices", "broadcast_shapes", "clear_cache", "default_device", "device_count",
                      "device_properties", "dlpack_device", "is_available", "manual_seed", "memory_stats",
                      "num_threads", "optimizer_state_slots", "parse_device", "reset_peak", "set_default_device",
                      "set_limit", "set_num_threads", "configure_tensor", "configure_autograd", "configure_engine",
                      "function_apply", "wrap", "run_backward"})
_NATIVE = {name: fn for name, fn in vars(_core).items()
           if isinstance(fn, types.BuiltinFunctionType) and not name.startswith("_") and name not in _NOT_OPS}
_OP_ENUMS = (_core.UnaryOp, _core.BinaryOp, _core.ReduceOp, _core.OptimizerKind)
_APPLY = Function.__dict__["apply"]  # the classmethod object, put back as it was
_OPTIMIZER = {name: getattr(Optimizer, name) for name in ("step", "zero_grad")}
_MODULE_CALL = Module.__dict__["__call__"]
_RUN_BACKWARD = api.run_backward
_now = time.perf_counter_ns


def _shape(a):
    if isinstance(a, (_core.Array, Tensor)):
        return list(a.shape)
    if isinstance(a, (list, tuple)) and a and isinstance(a[0], (_core.Array, Tensor)):
        return [list(x.shape) for x in a]
    return []


_DEVICE_KINDS = frozenset(("cpu", "cuda", "metal", "ane"))


def _device_of(args):
    """The device of a call: its first array's (or the first of a list of arrays: the multi-parameter optimizer
    step), else a device name among its arguments (creation ops)."""
    for a in args:
        if isinstance(a, list) and a:
            a = a[0]
        if isinstance(a, _core.Array):
            return a.device
        if isinstance(a, Tensor):
            return a._a.device
    for a in args:
        if isinstance(a, str) and a.partition(":")[0] in _DEVICE_KINDS:
            return a
    return "cpu"


def _storages(values):
    """The storages of the arrays among values (arrays, tensors, and lists or tuples of them)."""
    found = set()
    for v in values:
        for a in v if isinstance(v, (list, tuple)) else (v,):
            if isinstance(a, Tensor):
                a = a._a
            if isinstance(a, _core.Array):
                found.add(a.storage_ptr())
    return found


def _is_view(name, args, out):
    """Whether a native call only made views: everything it returned aliases its inputs' storages and it is not an
    in-place op (named with a trailing underscore, which returns the array it wrote). A view enqueues no device
    work, so its device events would time only the gap between the ops around it."""
    outs = _storages((out,))
    return bool(outs) and not name.partition(".")[0].endswith("_") and outs <= _storages(args)


class Recorder:
    """The events of one active profile, from every thread (each thread keeps its own stack of open calls)."""

    def __init__(self, record_shapes, profile_memory, device_kinds, with_flops=False):
        self.events = []
        self.record_shapes, self.profile_memory, self.device_kinds = record_shapes, profile_memory, device_kinds
        self.with_flops = with_flops
        self.device_origins = {}  # device -> (event, host ns): where the device's clock meets the host's
        self._local = threading.local()

    def begin(self, name, kind, args):
        stack = self._local.__dict__.setdefault("stack", [])
        ev = FunctionEvent(name, kind, threading.get_ident(), [_shape(a) for a in args] if self.record_shapes
                           else [], stack[-1] if stack else None)
        if stack:
            stack[-1].cpu_children.append(ev)
        stack.append(ev)
        ev.start_ns = _now()
        return ev

    def end(self, ev):
        ev.end_ns = _now()
        self._local.stack.pop()
        self.events.append(ev)

    def native(self, fn, name, args, kwargs):
        if args and isinstance(args[0], _OP_ENUMS):
            name = f"{name}.{args[0].name}"
        device = _device_of(args)
        timed = device.partition(":")[0] in self.device_kinds
        before = _core.memory_stats(device)["active_bytes"] if self.profile_memory else 0
        ev = self.begin("tl::" + name, "native", args)
        ev.device = device
        if timed:
            ev.device_events = self._device_events(device)
            ev.device_events[0].record()
        out = None
        try:
            out = fn(*args, **kwargs)
            if self.with_flops:
                ev.flops = _flops(name, args, out)
            return out
        finally:
            if timed:
                ev.device_events[1].record()
                if _is_view(name, args, out):
                    ev.device_events = None
            self.end(ev)
            if self.profile_memory:  # read outside the timed range; the parent's self time includes it
                ev.self_cpu_memory_usage = _core.memory_stats(device)["active_bytes"] - before

    def _device_events(self, device):
        if device not in self.device_origins:
            origin = _core.Event(device, True)
            origin.record()
            self.device_origins[device] = (origin, _now())
        return _core.Event(device, True), _core.Event(device, True)

    def apply(self, cls, args, kwargs):
        ev = self.begin(op_name(cls), "op", args)
        ev.device = _device_of(args)
        try:
            if mode.anomaly or records(*args):
                out = _APPLY.__func__(cls, *args, **kwargs)
                first = out[0] if type(out) is tuple else out
                node = first.grad_fn if isinstance(first, Tensor) else None
                if node is not None and node.fn is _Output:  # an output of a multi_output op (split)
                    node = node.parent
                ctx = node if node is not None and node.fn is cls else None
            else:  # Function.apply's fast path, with a context that keeps the attributes naming the op
                ctx = _Scratch()
                out = cls.forward(ctx, *args, **kwargs)
            namer = getattr(cls, "name", None)
            if namer is not None and ctx is not None:
                ev.name = namer(ctx)
            return out
        finally:
            self.end(ev)

    def backward_node(self, node, g, run):
        grads = [x for x in g if x is not None] if g.__class__ is list else (g,)  # a multi_output node's list
        ev = self.begin(node_op_name(node) + "Backward", "backward", grads)
        ev.device = grads[0]._a.device
        try:
            return run(node, g)
        finally:
            self.end(ev)

    def module(self, module, args, kwargs):
        ev = self.begin(f"nn.Module: {type(module).__name__}", "module", args)
        try:
            return _MODULE_CALL(module, *args, **kwargs)
        finally:
            self.end(ev)

    def backward_pass(self, args, kwargs):
        ev = self.begin("autograd::backward", "autograd", ())
        try:
            return _RUN_BACKWARD(*args, **kwargs)
        finally:
            self.end(ev)

    def optimizer(self, method, optimizer, args, kwargs):
        name = method.__name__
        ev = self.begin(f"Optimizer.{name}#{type(optimizer).__name__}.{name}", "optimizer", ())
        try:
            return method(optimizer, *args, **kwargs)
        finally:
            self.end(ev)

    def read_device_times(self):
        """Wait for the device work recorded and read each kernel's device time (microseconds)."""
        for ev in self.events:
            if ev.device_events is not None:
                start, end = ev.device_events
                end.synchronize()
                ev.self_device_time_total = start.elapsed_ms(end) * 1000.0


# The kernels whose FLOPs profile(with_flops=True) estimates, as torch.profiler does: matrix products and
# convolutions at two per multiply-add (2 x the output's elements x the length of the contraction each output sums
# over; PyTorch leaves matrix-vector products uncounted), and mul and add at one per output element.
def _flops(name, args, out):
    if not isinstance(out, _core.Array):
        return 0
    if name in ("binary.mul", "binary.add", "binary_scalar.mul", "binary_scalar.add"):
        return out.numel()
    if name in ("matmul", "linear"):
        return 2 * out.numel() * args[0].shape[-1]
    if name in ("conv1d", "conv2d", "conv3d"):
        return 2 * out.numel() * _numel(args[1].shape[1:])  # in_channels / groups x the kernel
    return 0


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class _Scratch:
    """The ctx of an unrecorded application under the profiler: it saves nothing but keeps the attributes
    that a Function serving a family of ops names the op by."""

    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass


def _timed_native(fn):
    name = fn.__name__

    @functools.wraps(fn)
    def native(*args, **kwargs):
        rec = mode.profiler
        return fn(*args, **kwargs) if rec is None else rec.native(fn, name, args, kwargs)

    return native


def _timed_apply(cls, *args, **kwargs):
    rec = mode.profiler
    return _APPLY.__func__(cls, *args, **kwargs) if rec is None else rec.apply(cls, args, kwargs)


def _timed_optimizer(method):
    @functools.wraps(method)
    def timed(self, *args, **kwargs):
        rec = mode.profiler
        return method(self, *args, **kwargs) if rec is None else rec.optimizer(method, self, args, kwargs)

    return timed


def _timed_module_call(self, *args, **kwargs):
    rec = mode.profiler
    return _MODULE_CALL(self, *args, **kwargs) if rec is None else rec.module(self, args, kwargs)


def _timed_run_backward(*args, **kwargs):
    rec = mode.profiler
    return _RUN_BACKWARD(*args, **kwargs) if rec is None else rec.backward_pass(args, kwargs)


# Made once, so that a function captured by an op while profiling stays the same object.
_TIMED = {name: _timed_native(fn) for name, fn in _NATIVE.items()}
_TIMED_APPLY = classmethod(_timed_apply)
_TIMED_OPTIMIZER = {name: _timed_optimizer(method) for name, method in _OPTIMIZER.items()}


def _patch(natives, apply, optimizer_methods, module_call, run_backward):
    """Points the native functions, Function.apply, the optimizers' methods, Module.__call__ and
    run_backward at the given ones (the timed forms, or the originals again)."""
    for name, fn in natives.items():
        setattr(_core, name, fn)
    Function.apply = apply
    for name, method in optimizer_methods.items():
        setattr(Optimizer, name, method)
    Module.__call__ = module_call
    api.run_backward = run_backward


def install(recorder):
    if mode.profiler is not None:
        raise RuntimeError("tl.profiler: a profile is already active (profiles do not nest)")
    mode.profiler = recorder
    _patch(_TIMED, _TIMED_APPLY, _TIMED_OPTIMIZER, _timed_module_call, _timed_run_backward)


def uninstall():
    _patch(_NATIVE, _APPLY, _OPTIMIZER, _MODULE_CALL, _RUN_BACKWARD)
    mode.profiler = None


def is_installed():
    """Whether the timed wrappers are in place (False means the per-op path is exactly the unprofiled one)."""
    return (Function.__dict__["apply"] is not _APPLY or any(getattr(_core, n) is not f for n, f in _NATIVE.items())
            or any(getattr(Optimizer, n) is not m for n, m in _OPTIMIZER.items())
            or Module.__dict__["__call__"] is not _MODULE_CALL or api.run_backward is not _RUN_BACKWARD)
