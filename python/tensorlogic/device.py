"""Device objects, availability and the default device (SPEC §3)."""
from . import _core


class device:
    """A device name: 'cpu', 'cuda', 'metal' or 'ane' (with an optional ':index')."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu"):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        name = _core.parse_device(str(spec))
        self.type, _, index = name.partition(":")
        self.index = int(index) if index else 0

    def __str__(self):
        return self.type if self.index == 0 else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index else ")")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


def device_name(value):
    """Normalises a device argument (None means the default device) to its canonical string."""
    if value is None:
        return _core.default_device()
    return _core.parse_device(str(value))


def get_default_device():
    return device(_core.default_device())


def set_default_device(value):
    _core.set_default_device(str(device(value)))


def available_devices():
    return list(_core.available_devices())


class _Backend:
    def __init__(self, name):
        self._name = name

    def is_available(self):
        return _core.is_available(self._name)

    def synchronize(self):
        _core.synchronize(self._name)


cuda = _Backend("cuda")
metal = _Backend("metal")
ane = _Backend("ane")
