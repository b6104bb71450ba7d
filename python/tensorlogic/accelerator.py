"""tl.accelerator: the device-agnostic queries of torch.accelerator. The accelerator is the GPU backend
present (cuda on NVIDIA, metal on Apple); a machine with neither has none, and code falls back to "cpu"."""
from . import _core
from .device import device as _device
from .device import device_name


def _type():
    for name in ("cuda", "metal"):
        if _core.is_available(name):
            return name
    return None


def is_available():
    """True when a GPU backend (cuda or metal) has a device here."""
    return _type() is not None


def current_accelerator(check_available=False):
    """device("cuda") or device("metal"), or None where there is no accelerator (only available backends count,
    so check_available=True changes nothing)."""
    kind = _type()
    return None if kind is None else _device(kind)


def device_count():
    """The number of devices of the accelerator (0 without one)."""
    kind = _type()
    return 0 if kind is None else _core.device_count(kind)


def _need():
    kind = _type()
    if kind is None:
        raise RuntimeError("tl.accelerator: no accelerator is available (only the cpu)")
    return kind


def current_device_index():
    """The index of the default device when it is the accelerator, else 0."""
    kind, default = _need(), _core.default_device()
    name, _, index = default.partition(":")
    return int(index or 0) if name == kind else 0


current_device_idx = current_device_index


def set_device_index(index):
    """Makes accelerator `index` the default device (where new tensors go)."""
    _core.set_default_device(device_name(f"{_need()}:{int(index)}"))


set_device_idx = set_device_index


def _current(device):
    return device_name(device) if device is not None else f"{_need()}:{current_device_index()}"


def synchronize(device=None):
    """Waits for the work queued on the accelerator (default: the current one)."""
    _core.synchronize(_current(device))


def memory_allocated(device=None):
    """Bytes held by live tensors on the device (default: the current accelerator device; RuntimeError when there is
    no accelerator)."""
    return _core.memory_stats(_current(device))["active_bytes"]


def max_memory_allocated(device=None):
    """The peak of memory_allocated since the start or the last reset (default: the current accelerator device;
    RuntimeError when there is no accelerator)."""
    return _core.memory_stats(_current(device))["peak_active_bytes"]


def memory_reserved(device=None):
    """Bytes the allocator holds on the device: live tensors plus its cache (default: the current accelerator
    device; RuntimeError when there is no accelerator)."""
    stats = _core.memory_stats(_current(device))
    return stats["active_bytes"] + stats["cached_bytes"]


def reset_peak_memory_stats(device=None):
    """Restarts the peak of max_memory_allocated from the bytes held now (default: the current accelerator device;
    RuntimeError when there is no accelerator)."""
    _core.reset_peak(_current(device))


def empty_cache():
    """Returns the allocator's cached, unused buffers on the current accelerator device to the driver."""
    _core.clear_cache(_current(None))
