"""Grad mode and anomaly mode: the two process-wide switches the engine and Function.apply read."""
import functools


class _Mode:
    """Global flags (one attribute read on the per-op fast path; not per thread, unlike PyTorch)."""

    __slots__ = ("grad", "anomaly", "trace")

    def __init__(self):
        self.grad = True
        self.anomaly = False
        self.trace = None  # a list while tl.coreml traces a function: every recorded application is appended


mode = _Mode()


def is_grad_enabled():
    return mode.grad


class _GradSwitch:
    """A context manager that is also a decorator; restores the previous mode on exit."""

    _value = None

    def __enter__(self):
        self._prev = mode.grad
        mode.grad = self._value

    def __exit__(self, *exc):
        mode.grad = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()


class no_grad(_GradSwitch):
    """Ops inside build no graph: results do not require grad."""

    _value = False


class enable_grad(_GradSwitch):
    """Re-enables graph building inside a no_grad region."""

    _value = True


class set_grad_enabled(_GradSwitch):
    """Sets grad mode to `mode` (takes effect at once, like PyTorch, and restores on exit when used with `with`)."""

    def __init__(self, enabled):
        self._value = bool(enabled)
        self._prev = mode.grad
        mode.grad = self._value

    def __enter__(self):
        mode.grad = self._value

    def _args(self):
        return (self._value,)

    def __call__(self, fn):
        mode.grad = self._prev  # used as a decorator: do not leave the mode changed at definition time
        return super().__call__(fn)


class detect_anomaly:
    """Checks every op result and every gradient for inf/NaN; raises RuntimeError naming the first op that made one.

    In forward, an op is blamed when its result holds inf/NaN while its inputs hold none; in backward, when
    the gradient it returns holds inf/NaN while the incoming gradient holds none."""

    def __init__(self, check_nan=True):
        self._check = bool(check_nan)

    def __enter__(self):
        self._prev = mode.anomaly
        mode.anomaly = self._check

    def __exit__(self, *exc):
        mode.anomaly = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self._check):
                return fn(*args, **kwargs)

        return wrapper


def is_anomaly_enabled():
    return mode.anomaly
