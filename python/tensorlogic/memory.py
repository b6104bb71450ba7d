"""tl.memory: statistics and control of the caching buffer allocator of each device."""
from . import _core
from .device import device_name


def stats(device=None):
    """Bytes held by live tensors (active), kept for reuse (cached), the peak, the limit and counters."""
    return dict(_core.memory_stats(device_name(device)))


def clear_cache(device=None):
    """Returns cached, unused buffers to the system."""
    _core.clear_cache(device_name(device))


def set_limit(nbytes, device=None):
    """Caps the bytes live tensors may hold on the device (0 removes the cap); beyond it, MemoryError."""
    if nbytes < 0:
        raise ValueError("set_limit: the limit must be non-negative")
    _core.set_limit(int(nbytes), device_name(device))


def reset_peak_stats(device=None):
    """Restarts the peak counter of the device's allocator (default: the default device) from the bytes held now."""
    _core.reset_peak(device_name(device))
