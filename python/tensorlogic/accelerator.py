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
    return _type() is not None


def current_accelerator(check_available=False):
    """device("cuda") or device("metal"), or None where there is no accelerator (only available backends count,
    so check_available=True changes nothing)."""
    kind = _type()
    return None if kind is None else _device(kind)


def device_count():
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
    return _core.memory_stats(_current(device))["active_bytes"]


def max_memory_allocated(device=None):
    return _core.memory_stats(_current(device))["peak_active_bytes"]


def memory_reserved(device=None):
    stats = _core.memory_stats(_current(device))
    return stats["active_bytes"] + stats["cached_bytes"]


def reset_peak_memory_stats(device=None):
    _core.reset_peak(_current(device))


def empty_cache():
    _core.clear_cache(_current(None))
