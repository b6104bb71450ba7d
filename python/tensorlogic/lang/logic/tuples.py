"""Relations as sets of integer tuples (numpy int64 arrays of shape [n, arity]) and the database
operations on them: keys packed into one int64 per tuple, sort-merge joins through a sorted index,
anti-joins, unique-reductions and a growing set that tells which tuples are new.

Every value at a relation position lies in that position's domain (a symbolic domain's values are
member indices, an integer domain's values are the integers), so a position's radix is its domain's
extent and packed keys need no data scan.
"""
from __future__ import annotations

import numpy as np

EMPTY = np.zeros((0,), dtype=np.int64)
PACK_LIMIT = 1 << 62
BITMAP_LIMIT = 1 << 26          # key spaces up to this many keys use a byte map for `KeySet`


def radix_fits(sizes) -> bool:
    total = 1
    for s in sizes:
        total *= max(int(s), 1)
    return total < PACK_LIMIT


def pack(columns, lows, sizes):
    """One int64 per row from columns whose values lie in [low, low + size); None when the key
    space does not fit in 62 bits (the caller factorizes instead)."""
    if not radix_fits(sizes):
        return None
    if len(columns) == 1:
        return columns[0] - lows[0] if lows[0] else columns[0]
    key = columns[0] - lows[0]
    for c, lo, s in zip(columns[1:], lows[1:], sizes[1:]):
        key = key * s + (c - lo)
    return key


def in_range(columns, lows, sizes):
    """Mask of rows whose every column lies in its [low, low + size)."""
    mask = None
    for c, lo, s in zip(columns, lows, sizes):
        m = (c >= lo) & (c < lo + s)
        mask = m if mask is None else mask & m
    return mask


def factorize(left_cols, right_cols):
    """Dense codes for two sides' key columns (for key spaces too large to pack)."""
    codes_l, codes_r, sizes = [], [], []
    for a, b in zip(left_cols, right_cols):
        uniq, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
        codes_l.append(inv[:len(a)])
        codes_r.append(inv[len(a):])
        sizes.append(len(uniq))
    if not radix_fits(sizes):
        raise OverflowError("join key space too large")
    zeros = [0] * len(sizes)
    return pack(codes_l, zeros, sizes), pack(codes_r, zeros, sizes)


class SortedIndex:
    """Rows of a table ordered by a key: `order` (row numbers) and `keys` (sorted)."""

    def __init__(self, keys):
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def ranges(self, probe):
        lo = np.searchsorted(self.keys, probe, "left")
        hi = np.searchsorted(self.keys, probe, "right")
        return lo, hi - lo

    def contains(self, probe):
        if len(self.keys) == 0:
            return np.zeros(len(probe), dtype=bool)
        pos = np.searchsorted(self.keys, probe)
        pos[pos == len(self.keys)] = 0
        return self.keys[pos] == probe


def expand(lo, counts, order):
    """Matching pairs of a probe against an index: (probe row, indexed row) for every match."""
    total = int(counts.sum())
    probe = np.repeat(np.arange(len(counts)), counts)
    if total == 0:
        return probe, EMPTY
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return probe, order[starts + np.arange(total)]


def unique_rows(table, lows, sizes):
    """The distinct rows of an [n, k] table."""
    if len(table) <= 1 or table.shape[1] == 0:
        return table[:1] if table.shape[1] == 0 else table
    key = pack([table[:, j] for j in range(table.shape[1])], lows, sizes)
    if key is None:
        return np.unique(table, axis=0)
    _, first = np.unique(key, return_index=True)
    return table[first]


class KeySet:
    """The tuples of a growing relation, as packed keys: a byte map for small key spaces, else a
    list of sorted runs merged like a log-structured tree (so inserting d keys costs O(d log n)
    amortized, not O(n)).  `add_new` inserts and returns which of the given keys were new."""

    def __init__(self, space):
        self.bitmap = np.zeros(space, dtype=bool) if space <= BITMAP_LIMIT else None
        self.runs = []

    def add_new(self, keys):
        """`keys` distinct; returns the mask of those not yet present, and inserts them."""
        if self.bitmap is not None:
            fresh = ~self.bitmap[keys]
            self.bitmap[keys[fresh]] = True
            return fresh
        fresh = np.ones(len(keys), dtype=bool)
        for run in self.runs:
            pos = np.searchsorted(run, keys)
            pos[pos == len(run)] = 0
            fresh &= run[pos] != keys
        new = np.sort(keys[fresh])
        if len(new):
            self.runs.append(new)
            while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
                b, a = self.runs.pop(), self.runs.pop()
                self.runs.append(np.sort(np.concatenate([a, b]), kind="stable"))
        return fresh
