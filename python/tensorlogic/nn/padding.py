"""The padding modules (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad; 1-d to 3-d) with
PyTorch's constructors and printing: each is F.pad with its mode over the last 1, 2 or 3 dims."""
import numbers

from . import functional as F
from .module import Module


class _Pad(Module):
    """padding: an int for every side, or (left, right[, top, bottom[, front, back]])."""

    _dims = 0
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        if isinstance(padding, numbers.Integral):
            padding = (int(padding),) * (2 * self._dims)
        padding = tuple(padding)
        if len(padding) != 2 * self._dims or not all(isinstance(p, numbers.Integral) for p in padding):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self._dims} ints, "
                             f"got {padding!r}")
        self.padding = padding

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_ConstantPad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _family(base, mode, doc):
    """The 1-d, 2-d and 3-d classes of one padding kind."""
    classes = []
    for dims in (1, 2, 3):
        name = f"{base}{dims}d"
        parent = {"Zero": _ZeroPad, "Constant": _ConstantPad}.get(base.replace("Pad", ""), _Pad)
        classes.append(type(name, (parent,), {"_dims": dims, "_mode": mode, "__doc__": doc.format(dims=dims),
                                              "__module__": __name__, "__qualname__": name}))
    return classes


ZeroPad1d, ZeroPad2d, ZeroPad3d = _family("ZeroPad", "constant", "Pads the last {dims} dims with zeros.")
ConstantPad1d, ConstantPad2d, ConstantPad3d = _family("ConstantPad", "constant",
                                                      "Pads the last {dims} dims with a constant value.")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _family("ReflectionPad", "reflect",
                                                            "Pads the last {dims} dims with their reflection.")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _family("ReplicationPad", "replicate",
                                                               "Pads the last {dims} dims by repeating the edges.")
CircularPad1d, CircularPad2d, CircularPad3d = _family("CircularPad", "circular",
                                                      "Pads the last {dims} dims circularly (wrapping around).")

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for d in (1, 2, 3)]
