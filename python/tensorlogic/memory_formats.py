"""PyTorch's memory formats (tl.contiguous_format, tl.channels_last, tl.channels_last_3d, tl.preserve_format).
TensorLogic's kernels take one layout, row-major, so asking for a format (Tensor.to, contiguous, clone, Module.to)
keeps the data row-major: the values are PyTorch's, only the strides differ. is_contiguous(memory_format=) reads
the actual strides, as PyTorch does."""


class memory_format:  # noqa: N801 (PyTorch's name)
    """A memory format: one of the four module-level instances."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tensorlogic.{self.name}"

    def __reduce__(self):
        return (_lookup, (self.name,))


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_BY_NAME = {f.name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)}
# The dims from the fastest-varying to the slowest in the channels-last layouts (NHWC, NDHWC).
_CHANNELS_LAST_ORDER = {channels_last: (1, 3, 2, 0), channels_last_3d: (1, 4, 3, 2, 0)}


def _lookup(name):
    return _BY_NAME[name]


def check_memory_format(value, op, ndim=None):
    """value itself when it is a memory format or None; a TypeError naming op otherwise, and PyTorch's RuntimeError
    when a tensor of ndim dims (if given) cannot take that format (channels_last needs 4, channels_last_3d 5)."""
    if value is not None and not isinstance(value, memory_format):
        raise TypeError(f"{op}: memory_format must be a tl.memory_format (e.g. tl.channels_last), got "
                        f"{type(value).__name__}")
    if ndim is not None and value in _CHANNELS_LAST_ORDER and ndim != len(_CHANNELS_LAST_ORDER[value]):
        raise RuntimeError(f"{op}: required rank {len(_CHANNELS_LAST_ORDER[value])} tensor to use {value.name} "
                           f"format, got a tensor of {ndim} dims")
    return value


def is_contiguous_as(shape, strides, fmt):
    """Whether strides lay shape out densely in the format fmt (PyTorch's rule: dims of size 1 are skipped)."""
    if fmt in (None, contiguous_format, preserve_format):
        order = tuple(reversed(range(len(shape))))
    elif len(shape) != len(_CHANNELS_LAST_ORDER[fmt]):
        return False
    else:
        order = _CHANNELS_LAST_ORDER[fmt]
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True
