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
    """A constant padding of zeros; each ZeroPadNd is the ConstantPadNd of its rank too, as in PyTorch."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _family(base, mode, doc, parents=(_Pad,) * 3):
    """The 1-d, 2-d and 3-d classes of one padding kind, each with its rank's class of `parents` as its base."""
    classes = []
    for dims, parent in zip((1, 2, 3), parents):
        name = f"{base}{dims}d"
        classes.append(type(name, (parent,), {"_dims": dims, "_mode": mode, "__doc__": doc.format(dims=dims),
                                              "__module__": __name__, "__qualname__": name}))
    return classes


ConstantPad1d, ConstantPad2d, ConstantPad3d = _family("ConstantPad", "constant",
                                                      "Pads the last {dims} dims with a constant value.",
                                                      (_ConstantPad,) * 3)
ZeroPad1d, ZeroPad2d, ZeroPad3d = [
    type(f"ZeroPad{d}d", (_ZeroPad, parent), {"__doc__": f"Pads the last {d} dims with zeros.", "__module__": __name__,
                                               "__qualname__": f"ZeroPad{d}d"})
    for d, parent in zip((1, 2, 3), (ConstantPad1d, ConstantPad2d, ConstantPad3d))]
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _family("ReflectionPad", "reflect",
                                                            "Pads the last {dims} dims with their reflection.")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _family("ReplicationPad", "replicate",
                                                               "Pads the last {dims} dims by repeating the edges.")
CircularPad1d, CircularPad2d, CircularPad3d = _family("CircularPad", "circular",
                                                      "Pads the last {dims} dims circularly (wrapping around).")

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for d in (1, 2, 3)]
