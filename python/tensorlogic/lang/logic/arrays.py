"""Where the tuple engine's arrays live: the few array functions its algorithms use (tuples.py,
state.py, body.py), written twice: on numpy (host memory) and on the engine's tensors on the
program's device, so that `tl run --device cuda` joins sparse relations on the GPU.  The algorithms
are written once over either namespace (`xp`); arrays hold int64 values or bool masks.

On the CPU numpy is the default: it runs the same algorithm with less overhead per call (each tensor
op crosses from Python into the engine), measured in benchmarks/logic_arrays.py.  `for_device`
picks; `TENSORS_ON_CPU = True` makes the CPU use tensors too, which is how the tests run the device
path without a GPU.
"""
from __future__ import annotations

import functools

import numpy as np

from ... import _core, dtypes
from ...tensor import _wrap
from ..engine import tl

TENSORS_ON_CPU = False


class _Extremes:
    """Sums and extremes as Python ints: the same calls on numpy arrays and on tensors."""

    def total(self, a) -> int:
        return int(a.sum())

    def low(self, a) -> int:
        return int(a.min())

    def high(self, a) -> int:
        return int(a.max())


class Host(_Extremes):
    """numpy arrays in host memory."""
    name = "numpy"
    bitmap = True           # a byte map over a key space indexes fast (tuples.KeySet)
    where_held = "numpy arrays in host memory"

    def asarray(self, a):
        """An array of this namespace from a numpy array (int64 or bool)."""
        return a

    def numpy(self, a):
        return a

    def zeros(self, *shape):
        return np.zeros(shape, dtype=np.int64)

    def full(self, n, value):
        return np.full(n, value, dtype=np.int64)

    def flags(self, n, value):
        return np.full(n, value, dtype=bool)

    def arange(self, n):
        return np.arange(n, dtype=np.int64)

    def cat(self, arrays):
        return np.concatenate(arrays)

    def stack(self, columns):
        return np.stack(columns, axis=1)

    def column(self, a, j):
        """Column j of a 2-d array, contiguous."""
        return np.ascontiguousarray(a[:, j])

    def take(self, a, index):
        """Rows `index` of a (1-d or 2-d)."""
        return np.take(a, index, axis=0)        # several times faster than a[index] on rows

    def nonzero(self, mask):
        return np.flatnonzero(mask)

    def argsort(self, a):
        return np.argsort(a, kind="stable")

    def searchsorted(self, sorted_keys, probe, right=False):
        return np.searchsorted(sorted_keys, probe, "right" if right else "left")

    def cumsum(self, a):
        return np.cumsum(a)

    def owners(self, ends, counts, total):
        """Row k repeated counts[k] times (`ends` their running sums, `total` the last): the row
        each of `total` output slots belongs to."""
        return np.repeat(np.arange(len(counts)), counts)

    def run_starts_table(self, sorted_keys, space):
        """For sorted keys in [0, space): where the run of each key 0..space starts, then the
        number of keys (space + 2 entries: the runs of key k are [t[k], t[k + 1]))."""
        counts = np.bincount(sorted_keys, minlength=space + 1)
        return np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])

    def merge_sources(self, slots, n):
        """A merge of n kept elements with len(slots) added ones that go to the ascending `slots`,
        the kept ones filling the other slots in order: each slot's source (k < n the k-th kept,
        n + j the j-th added)."""
        source = np.empty(n + len(slots), dtype=np.int64)
        kept = np.ones(len(source), dtype=bool)
        kept[slots] = False
        source[kept] = np.arange(n)
        source[slots] = np.arange(n, len(source))
        return source

    def where(self, mask, a, b):
        return np.where(mask, a, b)

    def count(self, mask) -> int:
        return int(np.count_nonzero(mask))

    def positive(self, t):
        """The flat mask of a tensor's cells above 0 (a dense relation's tuples)."""
        return t.numpy().reshape(-1) > 0

    def dense(self, cells, shape):
        """A 0/1 float16 tensor of `shape` holding 1 at the flat positions `cells`."""
        arr = np.zeros(int(np.prod(shape)), dtype=np.float16)
        arr[cells] = 1
        return tl.from_numpy(arr.reshape(shape))     # over the array's memory, not a copy

    def memory(self) -> int:
        """Bytes its arrays may take: the host allocator's limit where one is set (`tl run` sets it to
        the memory free when it starts), else the host's memory."""
        return _room("cpu")


class Tensors(_Extremes):
    """Engine tensors on one device (int64 and bool); searchsorted, take_rows and flatnonzero are the
    engine's kernels for sorted arrays, so nothing crosses to the host but sizes and extremes."""
    name = "tensors"
    bitmap = False          # writing a byte map needs a scatter of device indices: sorted runs instead

    def __init__(self, device):
        self.device = device
        self.where_held = f"engine tensors on {device}"

    def asarray(self, a):
        return tl.tensor(np.ascontiguousarray(a), device=self.device)

    def numpy(self, a):
        return a.numpy()

    def zeros(self, *shape):
        return tl.zeros(*shape, dtype=dtypes.int64, device=self.device)

    def full(self, n, value):
        return tl.full((n,), int(value), dtype=dtypes.int64, device=self.device)

    def flags(self, n, value):
        return tl.full((n,), bool(value), dtype=dtypes.bool, device=self.device)

    def arange(self, n):
        return tl.arange(n, dtype=dtypes.int64, device=self.device)

    def cat(self, arrays):
        return tl.cat(list(arrays))

    def stack(self, columns):
        return tl.stack(list(columns), dim=1)

    def column(self, a, j):
        return a[:, j].contiguous()

    def take(self, a, index):
        return _wrap(_core.take_rows(a._a, index._a))

    def nonzero(self, mask):
        return _wrap(_core.flatnonzero(mask._a))

    def argsort(self, a):
        return _wrap(_core.argsort(a._a, 0, False))     # stable

    def searchsorted(self, sorted_keys, probe, right=False):
        return _wrap(_core.searchsorted(sorted_keys._a, probe._a, right))

    def cumsum(self, a):
        return _wrap(_core.scan(_core.ScanOp.cumsum, a._a, 0))

    def owners(self, ends, counts, total):
        # (The engine's sorted-array kernel: the run of matches that covers each slot.)
        return self.searchsorted(ends, self.arange(total), right=True)

    def run_starts_table(self, sorted_keys, space):
        return self.searchsorted(sorted_keys, self.arange(space + 2))

    def merge_sources(self, slots, n):
        # (No scatter: each slot counts the added slots before it by a search.)
        d = len(slots)
        slot = self.arange(n + d)
        before = self.searchsorted(slots, slot)
        added = (before < d) & (self.take(slots, tl.where(before < d, before, 0)) == slot)
        return tl.where(added, before + n, slot - before)

    def where(self, mask, a, b):
        return tl.where(mask, a, b)

    def count(self, mask) -> int:
        return int(mask.sum())

    def positive(self, t):
        return t.reshape(-1) > 0

    def dense(self, cells, shape):
        # index_put_ reads the positions on the host (the engine's indexing computes offsets there).
        out = tl.zeros(int(np.prod(shape)), dtype=tl.float16, device=self.device)
        if len(cells):
            out.index_put_((cells,), tl.ones(len(cells), dtype=tl.float16, device=self.device))
        return out.reshape(shape)

    def memory(self) -> int:
        return _room(str(self.device))


def _room(device) -> int:
    """The allocator's limit on `device` where one is set, else the device's memory."""
    return _core.memory_stats(_core.parse_device(device))["limit_bytes"] or _total_memory(device)


@functools.cache
def _total_memory(device) -> int:
    # (Asked once per device: a query takes ~0.1 ms, and a fixpoint asks after each round's join.)
    return _core.device_properties(_core.parse_device(device))["total_memory"]


HOST = Host()


def for_device(device):
    """The namespace for a program whose tensors live on `device` (a tl.device or its name)."""
    device = tl.device(device) if isinstance(device, str) else device
    if device.type == "cpu" and not TENSORS_ON_CPU:
        return HOST
    return Tensors(device)
