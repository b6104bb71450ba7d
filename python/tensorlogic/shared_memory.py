"""Tensors in memory that other processes map too: Tensor.share_memory_ and is_shared (Module.share_memory uses
them), and what tensorlogic.multiprocessing sends between processes in their place, after torch.multiprocessing's
file_descriptor strategy.

Each shared storage gets a block of its own: a multiprocessing Arena (an unlinked temporary file mapped MAP_SHARED),
whose descriptor multiprocessing duplicates into a process it starts or sends it to. The storage's bytes move there
(_core.move_storage), so every view of it follows, as in PyTorch. A block is never divided or reused, so memory that
another process still maps never comes to hold a different tensor here; it is unmapped when the last tensor over it
in this process is gone (each process holds its own mapping of the file)."""
import ctypes
import math
import weakref
from multiprocessing.heap import Arena

import numpy as np

from . import _core
from .errors import DeviceError
from .tensor import _wrap, tensor_method

# Each block by the address of its first byte; a block lives as long as a storage over its memory (whose owner is a
# numpy array over the block).
_BLOCKS = weakref.WeakValueDictionary()


class _Block:
    """One storage's shared memory, exposed to numpy through __array_interface__ (so numpy arrays over it keep it,
    and with it the Arena's descriptor, alive)."""

    def __init__(self, arena):
        self.arena = arena
        self._pin = ctypes.c_char.from_buffer(arena.buffer)  # an export: the mapping cannot be closed under us
        self.address = ctypes.addressof(self._pin)
        self.__array_interface__ = {"shape": (arena.size,), "typestr": "|u1", "data": (self.address, False),
                                    "version": 3}
        _BLOCKS[self.address] = self


def block_of(t):
    """The shared block that CPU tensor `t`'s elements lie in, or None."""
    if t._a.device != "cpu":
        return None
    address = t.data_ptr()
    for block in list(_BLOCKS.values()):
        if block.address <= address < block.address + block.arena.size:
            return block
    return None  # (an empty tensor's address may lie one past its block: it has nothing to share either way)


def over_block(block, dtype, shape, strides, offset):
    """A native array over `block`: elements of numpy `dtype` from byte `offset`, with the shape and strides (in
    elements) given. Every element must lie inside the block (the description comes from another process, or from
    a pickle): a view past it would read or write memory the block does not own."""
    dtype = np.dtype(dtype)
    ints = [*shape, *strides, offset]
    if not (all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in ints)
            and len(shape) == len(strides) and all(v >= 0 for v in ints) and dtype.kind in "fiub"):
        raise ValueError(f"a shared tensor's description is malformed: dtype {dtype}, shape {tuple(shape)}, strides "
                         f"{tuple(strides)} (in elements, as many as the sizes), offset {offset} (all non-negative)")
    size = np.asarray(block).size
    last = offset + dtype.itemsize * (1 + sum((n - 1) * s for n, s in zip(shape, strides)))
    if math.prod(shape) and (last > size or offset % dtype.itemsize):
        raise ValueError(f"a shared tensor's description is malformed: shape {tuple(shape)} with strides "
                         f"{tuple(strides)} from byte {offset} is not a view of {dtype} elements inside its block of "
                         f"{size} bytes")
    itemsize = dtype.itemsize
    flat = np.asarray(block)[offset:]
    typed = flat[:len(flat) // itemsize * itemsize].view(dtype)
    return _core.from_numpy(np.lib.stride_tricks.as_strided(typed, shape=tuple(shape),
                                                            strides=tuple(s * itemsize for s in strides)))


def _refuse_device(t, what):
    if t._a.device != "cpu":
        raise DeviceError(f"{what}: only CPU tensors can be shared between processes (this one is on "
                          f"{t._a.device}); move the model or data to the CPU first, as for Hogwild training")


@tensor_method()
def share_memory_(self):
    """Moves the storage under this tensor into memory that processes started or reached by
    tensorlogic.multiprocessing map too, and returns self (a no-op when it is shared already). As in PyTorch the
    whole storage moves: every view of it, made before or after, reads and writes the shared memory."""
    _refuse_device(self, "share_memory_")
    if block_of(self) is None:
        block = _Block(Arena(max(self._a.storage_nbytes, 1)))
        _core.move_storage(self._a, np.asarray(block))
    return self


@tensor_method()
def is_shared(self):
    """True when the data is in shared memory (share_memory_, or a tensor received from another process)."""
    return block_of(self) is not None


def shared_block(t):
    """`t`'s block, after moving `t` into shared memory in place if it was not there (as PyTorch moves a storage it
    sends to another process)."""
    _refuse_device(t, "sending a tensor to another process")
    t.share_memory_()
    return block_of(t)


def wrap_shared(block, dtype, shape, strides, offset):
    """A plain tensor over a block received from another process."""
    return _wrap(over_block(block, dtype, shape, strides, offset))


def block_for(arena):
    """The block over an Arena received from another process: one per Arena object, so tensors that arrive together
    over the same memory (a parameter and a view of it) share one mapping."""
    made = getattr(arena, "_tensorlogic_block", None)
    block = made() if made is not None else None
    if block is None:
        block = _Block(arena)
        arena._tensorlogic_block = weakref.ref(block)
    return block
