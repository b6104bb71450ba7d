"""Grad mode, anomaly mode and the tracer, the switches the engine and Function.apply read. As in PyTorch,
grad mode belongs to each thread (no_grad in a data-loading thread leaves training in another thread
recording) and anomaly mode to the whole process."""
import contextvars
import functools

from .. import _core

# Per thread: a context variable, whose get() is one C call on the per-op fast path (a threading.local
# attribute costs about ten times more). Every thread starts with its own context, so with grad enabled;
# an asyncio task also gets its own copy.
_grad = contextvars.ContextVar("tensorlogic_grad_enabled", default=True)
grad_enabled = _grad.get
# _grad.set with the garbage collector paused: in CPython (gh-148891, 3.10-3.14) a collection during ContextVar.set
# whose callback or finalizer sets a context variable too (any op under no_grad) frees the mapping being copied.
_set_grad = functools.partial(_core.context_set, _grad)
# Per thread too: whether an inference_mode(True) block is active (torch.is_inference_mode_enabled). Inference mode here
# is grad mode off, plus the native core's per-thread flag that marks the memory allocated meanwhile as an inference
# tensor's (Tensor.is_inference); the core reads no other consequence of it.
_inference = contextvars.ContextVar("tensorlogic_inference_mode", default=False)
_set_inference = functools.partial(_core.context_set, _inference)


class _Mode:
    """The process-wide switches: anomaly mode (like torch.autograd.detect_anomaly), the tl.coreml tracer and
    the active tl.profiler. One attribute read on the per-op fast path."""

    __slots__ = ("anomaly", "trace", "profiler")

    def __init__(self):
        self.anomaly = False
        self.trace = None  # a list while tl.coreml traces a function: every recorded application is appended
        self.profiler = None  # the recorder of the active tl.profiler.profile (read per backward node, not per op)


mode = _Mode()


def is_grad_enabled():
    """True when ops record for autograd on this thread (not inside no_grad or inference_mode)."""
    return _grad.get()


class ContextDecorator:
    """A context manager that is also a decorator: each call of the decorated function runs inside a
    fresh instance made from `_args()`, so nested and concurrent calls do not share its saved state."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()


class _GradSwitch(ContextDecorator):
    """Restores this thread's previous grad mode on exit."""

    _value = None

    def __enter__(self):
        self._prev = _grad.get()
        _set_grad(self._value)

    def __exit__(self, *exc):
        _set_grad(self._prev)
        return False


class no_grad(_GradSwitch):
    """Ops inside build no graph: results do not require grad (in this thread)."""

    _value = False


class enable_grad(_GradSwitch):
    """Re-enables graph building inside a no_grad region (in this thread)."""

    _value = True


class set_grad_enabled(_GradSwitch):
    """Sets this thread's grad mode to `mode` (takes effect at once, like PyTorch, and restores on exit when
    used with `with`)."""

    def __init__(self, enabled):
        self._value = bool(enabled)
        self._prev = _grad.get()
        _set_grad(self._value)

    def __enter__(self):
        _set_grad(self._value)

    def _args(self):
        return (self._value,)

    def __call__(self, fn):
        _set_grad(self._prev)  # used as a decorator: do not leave the mode changed at definition time
        return super().__call__(fn)


class inference_mode(_GradSwitch):
    """torch.inference_mode: like no_grad (results build no graph and do not require grad) in this thread;
    inference_mode(False) turns inference mode off and grad mode on inside it, as PyTorch's does. Tensors allocated
    inside are inference tensors (Tensor.is_inference() is True; views share the mark of the memory they view, as in
    PyTorch), but PyTorch's restrictions on using them in autograd or changing them in place later do not apply.
    Usable bare as a decorator too."""

    def __new__(cls, mode=True):
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._mode = bool(mode)

    def __enter__(self):
        self._prev, self._prev_inference = _grad.get(), _inference.get()
        _set_inference(self._mode)
        _core.set_inference_mode(self._mode)
        _set_grad(not self._mode)  # inference_mode(False) turns grad mode on, as PyTorch's does

    def __exit__(self, *exc):
        _set_inference(self._prev_inference)
        _core.set_inference_mode(self._prev_inference)
        return super().__exit__(*exc)

    def _args(self):
        return (self._mode,)


def is_inference_mode_enabled():
    """True inside an inference_mode block on this thread (one not undone by an inner inference_mode(False))."""
    return _inference.get()


class detect_anomaly(ContextDecorator):
    """Checks every op result and every gradient for inf/NaN; raises RuntimeError naming the first op that made one.

    In forward, an op is blamed when its result holds inf/NaN while its inputs hold none; in backward, when
    the gradient it returns holds inf/NaN while the incoming gradient holds none. Process-wide, as in PyTorch."""

    def __init__(self, check_nan=True):
        self._check = bool(check_nan)

    def __enter__(self):
        self._prev = mode.anomaly
        mode.anomaly = self._check

    def __exit__(self, *exc):
        mode.anomaly = self._prev
        return False

    def _args(self):
        return (self._check,)


class set_detect_anomaly:
    """torch.autograd.set_detect_anomaly(mode, check_nan=True): turns anomaly mode (detect_anomaly's checks) on or
    off at once, process-wide; used with `with`, the previous mode comes back on exit. check_nan=False turns the
    checks off as well (they are all this anomaly mode does)."""

    _switches = mode  # the module's process-wide switches: the parameter below is named `mode`, as in PyTorch

    def __init__(self, mode, check_nan=True):
        self._prev = self._switches.anomaly
        self._switches.anomaly = bool(mode) and bool(check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        self._switches.anomaly = self._prev
        return False


def is_anomaly_enabled():
    """True inside detect_anomaly (process-wide): op results and gradients are then checked for inf/NaN."""
    return mode.anomaly
