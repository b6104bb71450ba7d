"""Relations as sets of integer tuples (int64 arrays of shape [n, arity]) and the database operations
on them: keys packed into one int64 per tuple, sort-merge joins through a sorted index, anti-joins,
unique-reductions and a growing set that tells which tuples are new.  Each function takes the array
namespace `xp` (arrays.py: numpy on the host, or tensors on the program's device) and uses only its
functions, so one algorithm serves both.

Every value at a relation position lies in that position's domain (a symbolic domain's values are
member indices, an integer domain's values are the integers), so a position's radix is its domain's
extent and packed keys need no data scan.
"""
from __future__ import annotations

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


def pack_rows(xp, table, lows, sizes):
    """The packed keys of a table's rows (zeros for arity 0); None as for `pack`."""
    if table.shape[1] == 0:
        return xp.zeros(len(table))
    return pack([table[:, j] for j in range(table.shape[1])], lows, sizes)


def in_range(columns, lows, sizes):
    """Mask of rows whose every column lies in its [low, low + size)."""
    mask = None
    for c, lo, s in zip(columns, lows, sizes):
        m = (c >= lo) & (c < lo + s)
        mask = m if mask is None else mask & m
    return mask


def compress(xp, a, mask):
    """The rows of `a` where `mask` holds."""
    return xp.take(a, xp.nonzero(mask))


def columns_except(xp, table, position):
    """The table without one column."""
    keep = [table[:, j] for j in range(table.shape[1]) if j != position]
    return xp.stack(keep) if keep else xp.zeros(len(table), 0)


def with_column(xp, table, position, values):
    """The table with `values` inserted as column `position`."""
    cols = [table[:, j] for j in range(table.shape[1])]
    cols.insert(position, values)
    return xp.stack(cols)


def run_starts(xp, sorted_keys):
    """Where each run of equal keys of a sorted array starts."""
    n = len(sorted_keys)
    if n == 0:
        return xp.zeros(0)
    return xp.cat([xp.zeros(1), xp.nonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1])


def unique_first(xp, keys):
    """The distinct keys in ascending order and, for each, the first position where it occurs."""
    order = xp.argsort(keys)
    ordered = xp.take(keys, order)
    starts = run_starts(xp, ordered)
    return xp.take(ordered, starts), xp.take(order, starts)


def row_order(xp, table):
    """The stable lexicographic order of a table's rows (sorting by each column from the last)."""
    order = xp.arange(len(table))
    for j in reversed(range(table.shape[1])):
        order = xp.take(order, xp.argsort(xp.take(table[:, j], order)))
    return order


def row_changes(xp, table):
    """Mask over consecutive rows of a table: where row i + 1 differs from row i."""
    change = None
    for j in range(table.shape[1]):
        d = table[1:, j] != table[:-1, j]
        change = d if change is None else change | d
    return change


def row_groups(xp, table):
    """For key spaces too large to pack: the rows' lexicographic order and the start of each run of
    equal rows in it."""
    order = row_order(xp, table)
    sorted_rows = xp.take(table, order)
    if len(table) == 0:
        return order, xp.zeros(0)
    return order, xp.cat([xp.zeros(1), xp.nonzero(row_changes(xp, sorted_rows)) + 1])


def factorize(xp, left_cols, right_cols):
    """Dense codes for two sides' key columns (for key spaces too large to pack)."""
    codes_l, codes_r, sizes = [], [], []
    for a, b in zip(left_cols, right_cols):
        uniq, _ = unique_first(xp, xp.cat([a, b]))
        codes_l.append(xp.searchsorted(uniq, a))
        codes_r.append(xp.searchsorted(uniq, b))
        sizes.append(len(uniq))
    if not radix_fits(sizes):
        raise OverflowError("join key space too large")
    zeros = [0] * len(sizes)
    return pack(codes_l, zeros, sizes), pack(codes_r, zeros, sizes)


class SortedIndex:
    """Rows of a table ordered by a key: `order` (row numbers) and `keys` (sorted)."""

    def __init__(self, xp, keys):
        self.xp = xp
        self.order = xp.argsort(keys)
        self.keys = xp.take(keys, self.order)

    def ranges(self, probe):
        lo = self.xp.searchsorted(self.keys, probe)
        hi = self.xp.searchsorted(self.keys, probe, right=True)
        return lo, hi - lo

    def contains(self, probe):
        return contains(self.xp, self.keys, probe)


def contains(xp, sorted_keys, probe):
    """Mask of the probe keys present in a sorted array."""
    if len(sorted_keys) == 0:
        return xp.flags(len(probe), False)
    pos = xp.searchsorted(sorted_keys, probe)
    pos = xp.where(pos == len(sorted_keys), 0, pos)
    return xp.take(sorted_keys, pos) == probe


def expand(xp, lo, counts, order):
    """Matching pairs of a probe against an index: (probe row, indexed row) for every match."""
    ends = xp.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    if total == 0:
        return xp.zeros(0), xp.zeros(0)
    slot = xp.arange(total)
    # Output slot s belongs to the probe row whose run of matches covers it.
    probe = xp.searchsorted(ends, slot, right=True)
    starts = xp.take(lo - (ends - counts), probe)
    return probe, xp.take(order, starts + slot)


def unique_rows(xp, table, lows, sizes):
    """The distinct rows of an [n, k] table."""
    if len(table) <= 1 or table.shape[1] == 0:
        return table[:1] if table.shape[1] == 0 else table
    key = pack_rows(xp, table, lows, sizes)
    if key is None:
        order, starts = row_groups(xp, table)
        return xp.take(table, xp.take(order, starts))
    _, first = unique_first(xp, key)
    return xp.take(table, first)


class KeySet:
    """The tuples of a growing relation, as packed keys: a byte map for small key spaces (on the
    host), else a list of sorted runs merged like a log-structured tree (so inserting d keys costs
    O(d log n) amortized, not O(n)).  `add_new` inserts and returns which of the given keys were
    new."""

    def __init__(self, xp, space):
        self.xp = xp
        self.bitmap = xp.flags(space, False) if xp.bitmap and space <= BITMAP_LIMIT else None
        self.runs = []

    def add_new(self, keys):
        """`keys` distinct; returns the mask of those not yet present, and inserts them."""
        xp = self.xp
        if self.bitmap is not None:
            fresh = ~self.bitmap[keys]
            self.bitmap[keys[fresh]] = True
            return fresh
        fresh = xp.flags(len(keys), True)
        for run in self.runs:
            fresh = fresh & ~contains(xp, run, keys)
        new = compress(xp, keys, fresh)
        if len(new):
            self.runs.append(xp.take(new, xp.argsort(new)))
            while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
                b, a = self.runs.pop(), self.runs.pop()
                merged = xp.cat([a, b])
                self.runs.append(xp.take(merged, xp.argsort(merged)))
        return fresh
