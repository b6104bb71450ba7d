"""torch.autocast and the state it sets, which programs query (tl.is_autocast_enabled("cuda"), tl.get_autocast_dtype,
...): per thread and per device type, as in PyTorch. Autocast casts nothing here, since every float tensor is already
float16; the state is kept so that code branching on it takes PyTorch's branch, and its dtype is float16 unless
set (PyTorch's float names all mean float16)."""
import functools
import threading
import warnings

from . import _core
from .dtypes import as_dtype, dtype as _dtype, float16

# PyTorch's device types, which its autocast functions accept, and TensorLogic's own (metal, ane).
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
                 "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone", "metal", "ane")


class _State(threading.local):
    """One thread's autocast state (a new thread starts with autocast off, as in PyTorch)."""

    def __init__(self):
        self.enabled = {}  # device type -> bool
        self.dtype = {}  # device type -> tl.dtype
        self.cache_enabled = True
        self.nesting = 0


_state = _State()


def _device_type(device_type, op):
    if not isinstance(device_type, str):
        raise TypeError(f"{op}(): argument 'device_type' must be str, not {type(device_type).__name__}")
    kind = device_type.split(":", 1)[0]
    if kind not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                           f"{device_type}")
    return kind


def _check_bool(value, op, name="enabled"):
    if not isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__}")
    return value


def _deprecated(old, new):
    warnings.warn(f"{old} is deprecated, as in PyTorch; use tl.{new} instead", DeprecationWarning, stacklevel=3)


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for `device_type` in this thread (None: CUDA, as in PyTorch)."""
    return _state.enabled.get(_device_type("cuda" if device_type is None else device_type, "is_autocast_enabled"),
                              False)


def set_autocast_enabled(device_type, enabled=None):
    """set_autocast_enabled(device_type, enabled), or set_autocast_enabled(enabled) for CUDA, as in PyTorch."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _state.enabled[_device_type(device_type, "set_autocast_enabled")] = _check_bool(enabled, "set_autocast_enabled")


def get_autocast_dtype(device_type):
    """The dtype autocast casts to on `device_type`: float16 unless set (every float dtype name means float16)."""
    return _state.dtype.get(_device_type(device_type, "get_autocast_dtype"), float16)


def set_autocast_dtype(device_type, dtype):
    """Sets the dtype autocast reports for `device_type` (a tl.dtype, as PyTorch takes a torch.dtype)."""
    if not isinstance(dtype, _dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' must be tl.dtype, not {type(dtype).__name__}")
    _state.dtype[_device_type(device_type, "set_autocast_dtype")] = dtype


def is_autocast_cpu_enabled():
    """Deprecated in PyTorch (it warns): is_autocast_enabled("cpu")."""
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled):
    """Deprecated in PyTorch (it warns): set_autocast_enabled("cpu", enabled)."""
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    """Deprecated in PyTorch (it warns): get_autocast_dtype("cpu")."""
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype):
    """Deprecated in PyTorch (it warns): set_autocast_dtype("cpu", dtype)."""
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    """Deprecated in PyTorch (it warns): get_autocast_dtype("cuda")."""
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype):
    """Deprecated in PyTorch (it warns): set_autocast_dtype("cuda", dtype)."""
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled():
    """Whether autocast's cast cache is on in this thread (True unless set; there is nothing to cache here)."""
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled):
    """Turns the (empty) cast cache on or off in this thread, as PyTorch's flag."""
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")
    _state.cache_enabled = enabled


def clear_autocast_cache():
    """Clears autocast's cast cache, which is always empty here (nothing is cast)."""


def autocast_increment_nesting():
    """Counts one more autocast region entered in this thread; returns the count."""
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting():
    """Counts one autocast region left in this thread; returns the count (negative when unbalanced, as PyTorch's)."""
    _state.nesting -= 1
    return _state.nesting


def is_autocast_available(device_type):
    """True for any device type name: autocast is accepted everywhere (as the identity)."""
    return isinstance(device_type, str)


class autocast:
    """torch.autocast / torch.amp.autocast, a context manager and a decorator. It casts nothing (every float tensor is
    already float16) but sets the state that is_autocast_enabled(device_type) and get_autocast_dtype report inside
    it, and restores it on exit, as in PyTorch. As there, autocast("cuda") without a CUDA device, or with a dtype
    that is not floating point, warns and leaves autocast off. `dtype` may be any float name (float16, bfloat16,
    ...), all meaning float16."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device_type(device_type, "autocast")
        self.device_type = device_type
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else as_dtype(dtype)
        self._enabled = bool(enabled)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        if self._enabled and self.device == "cuda" and not _core.is_available("cuda"):
            warnings.warn("CUDA is not available. Disabling autocast.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled and not self.fast_dtype.is_floating_point:
            warnings.warn(f"In {self.device} autocast, but the target dtype {self.fast_dtype} is not supported. "
                          "Disabling autocast.", UserWarning, stacklevel=2)
            self._enabled = False

    def __enter__(self):
        self._previous = (is_autocast_enabled(self.device), get_autocast_dtype(self.device),
                          is_autocast_cache_enabled())
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_cache_enabled(self._cache_enabled)
        autocast_increment_nesting()
        return self

    def __exit__(self, *exc):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        enabled, dtype, cache_enabled = self._previous
        set_autocast_enabled(self.device, enabled)
        set_autocast_dtype(self.device, dtype)
        set_autocast_cache_enabled(cache_enabled)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
           "set_autocast_dtype", "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "get_autocast_cpu_dtype",
           "set_autocast_cpu_dtype", "get_autocast_gpu_dtype", "set_autocast_gpu_dtype", "is_autocast_cache_enabled",
           "set_autocast_cache_enabled", "clear_autocast_cache", "autocast_increment_nesting",
           "autocast_decrement_nesting"]
