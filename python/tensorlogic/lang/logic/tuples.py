"""Relations as sets of integer tuples (int64 arrays of shape [n, arity]) and the database operations
on them: keys packed from tuples, sort-merge joins through a sorted index, anti-joins,
unique-reductions and a growing set that tells which tuples are new.  Each function takes the array
namespace `xp` (arrays.py: numpy on the host, or tensors on the program's device) and uses only its
functions, so one algorithm serves both.

Every value at a relation position lies in that position's domain (a symbolic domain's values are
member indices, an integer domain's values are the integers), so a position's radix is its domain's
extent and packed keys need no data scan.

A key is one int64 per tuple (a 1-d array) where the positions' extents multiply below 2^62: every
relation of a few columns over modest domains, and the fast path.  Past that (four columns over
100,000 constants, three over ids up to 10^9) a key is a row of int64 words ([n, words]): each word
packs a run of consecutive positions whose extents multiply below 2^62, so the words' lexicographic
order is the tuples' and equal words are equal tuples, exactly (no hashing).  Such keys sort by one
stable pass per word and are searched word by word (`equal_range`), with the same array functions on
numpy and on device tensors.  Why words: dictionary codes of the values present would keep one word
longer, but every key set and index would be re-encoded whenever a round brings new values, and
wide relations still overflow (n tuples give up to n^arity code combinations); numpy's structured
(void) rows sort and search on the host only, and about 4 x slower than a pass per column and this
search (10^6 rows of two int64); two fixed words would cap the width.  The native linear fixpoint, which takes
one word, gets dictionary codes instead (linear.py).
"""
from __future__ import annotations

PACK_LIMIT = 1 << 62
BITMAP_LIMIT = 1 << 26          # key spaces up to this many keys use a byte map for `KeySet`
RUN_TABLE_SLACK, RUN_TABLE_MIN = 4, 1 << 16     # `SortedIndex`'s table of run starts: its largest key space


def radix_fits(sizes) -> bool:
    total = 1
    for s in sizes:
        total *= max(int(s), 1)
    return total < PACK_LIMIT


def word_groups(sizes):
    """The positions each word of a key packs: runs of consecutive positions whose extents multiply
    below PACK_LIMIT (a position alone at or past it is a word of its values as they are)."""
    groups, total = [], 0
    for j, s in enumerate(sizes):
        s = max(int(s), 1)
        if groups and total * s < PACK_LIMIT:
            groups[-1].append(j)
            total *= s
        else:
            groups.append([j])
            total = s
    return groups


def mixed_radix(columns, lows, sizes):
    """One int64 per row: the row's place in the mixed radix of the sizes (which multiply below
    2^63)."""
    if len(columns) == 1:
        return columns[0] - lows[0] if lows[0] else columns[0]
    key = columns[0] - lows[0]
    for c, lo, s in zip(columns[1:], lows[1:], sizes[1:]):
        key = key * s + (c - lo)
    return key


def pack(xp, columns, lows, sizes):
    """The keys of rows from columns whose values lie in [low, low + size): one int64 per row, or
    [n, words] words where the extents multiply past 2^62 (see the module's docstring)."""
    if radix_fits(sizes):
        return mixed_radix(columns, lows, sizes)
    words = []
    for g in word_groups(sizes):
        if len(g) == 1 and int(sizes[g[0]]) >= PACK_LIMIT:
            words.append(columns[g[0]])
        else:
            words.append(mixed_radix([columns[j] for j in g], [lows[j] for j in g],
                                      [sizes[j] for j in g]))
    return xp.stack(words)


def pack_rows(xp, table, lows, sizes):
    """The packed keys of a table's rows (zeros for arity 0)."""
    if table.shape[1] == 0:
        return xp.zeros(len(table))
    return pack(xp, [table[:, j] for j in range(table.shape[1])], lows, sizes)


def is_words(keys) -> bool:
    """Whether keys are rows of words (else one int64 each)."""
    return len(keys.shape) == 2


def in_range(columns, lows, sizes):
    """Mask of rows whose every column lies in its [low, low + size)."""
    mask = None
    for c, lo, s in zip(columns, lows, sizes):
        # (low + size is 2^63 for a domain that reaches the greatest int64: no int64 holds it.)
        m = (c >= lo) & (c <= lo + s - 1)
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


def row_order(xp, table):
    """The stable lexicographic order of a table's rows (sorting by each column from the last)."""
    order = xp.arange(len(table))
    for j in reversed(range(table.shape[1])):
        order = xp.take(order, xp.argsort(xp.take(table[:, j], order)))
    return order


def key_order(xp, keys):
    """The stable ascending order of keys (of either form)."""
    return row_order(xp, keys) if is_words(keys) else xp.argsort(keys)


def run_starts(xp, sorted_keys):
    """Where each run of equal keys of sorted keys (of either form) starts."""
    n = len(sorted_keys)
    if n == 0:
        return xp.zeros(0)
    if is_words(sorted_keys):
        change = None
        for j in range(sorted_keys.shape[1]):
            d = sorted_keys[1:, j] != sorted_keys[:-1, j]
            change = d if change is None else change | d
    else:
        change = sorted_keys[1:] != sorted_keys[:-1]
    return xp.cat([xp.zeros(1), xp.nonzero(change) + 1])


def unique_first(xp, keys):
    """The distinct keys in ascending order and, for each, the first position where it occurs."""
    order = key_order(xp, keys)
    ordered = xp.take(keys, order)
    starts = run_starts(xp, ordered)
    return xp.take(ordered, starts), xp.take(order, starts)


def ranks(xp, keys):
    """One int64 per key that orders and compares as the keys do (words become each key's rank
    among the distinct ones; single keys stay as they are)."""
    if not is_words(keys):
        return keys
    order = row_order(xp, keys)
    starts = run_starts(xp, xp.take(keys, order))
    rank = xp.searchsorted(starts, xp.arange(len(keys)), right=True) - 1
    return xp.take(rank, xp.argsort(order))


def _columns(xp, words):
    """A sorted array of words as one contiguous array per word (a strided column would be copied
    by every search step)."""
    return [xp.column(words, j) for j in range(words.shape[1])]


def _first_in(xp, column, lo, hi, value, right):
    """Per probe, the first position p in [lo, hi) with column[p] > value (right) or >= value, else
    hi, where the column is ascending on each [lo, hi): a binary search of all probes at once, one
    step per bit of the widest range."""
    steps = int(xp.high(hi - lo)).bit_length() if len(lo) else 0
    for _ in range(steps):
        mid = (lo + hi) // 2
        active = lo < hi
        v = xp.take(column, xp.where(active, mid, 0))
        go = active & ((v <= value) if right else (v < value))
        lo = xp.where(go, mid + 1, lo)
        hi = xp.where(active & ~go, mid, hi)
    return lo


def equal_range(xp, columns, probe):
    """For keys of words sorted ascending (given as `_columns`) and probe keys of words: per probe,
    [lo, hi) of the keys equal to it (lo is where it would be inserted when there are none).  The
    first word narrows each probe's range by searchsorted; each further word is ascending within
    the range left by the words before it."""
    first = probe[:, 0]
    lo = xp.searchsorted(columns[0], first)
    hi = xp.searchsorted(columns[0], first, right=True)
    for j in range(1, len(columns)):
        value = probe[:, j]
        lo, hi = _first_in(xp, columns[j], lo, hi, value, False), \
            _first_in(xp, columns[j], lo, hi, value, True)
    return lo, hi


def find(xp, sorted_keys, probe, columns=None):
    """(position, found) of each probe key in sorted keys of the same form (`columns`: the sorted
    keys' `_columns`, when already made)."""
    if is_words(sorted_keys):
        lo, hi = equal_range(xp, columns or _columns(xp, sorted_keys), probe)
        return xp.where(lo == len(sorted_keys), 0, lo), hi > lo
    if len(sorted_keys) == 0:
        return xp.zeros(len(probe)), xp.flags(len(probe), False)
    pos = xp.searchsorted(sorted_keys, probe)
    pos = xp.where(pos == len(sorted_keys), 0, pos)
    return pos, xp.take(sorted_keys, pos) == probe


def merge_order(xp, kept, columns, added):
    """For sorted keys `kept` (`columns`: their `_columns`, for keys of words) and sorted keys
    `added`: the order of their concatenation that sorts it, the kept first among equal keys (a
    pass over them, no sort)."""
    if columns is not None:
        after = equal_range(xp, columns, added)[1]
    else:
        after = xp.searchsorted(kept, added, right=True)
    return xp.merge_sources(after + xp.arange(len(added)), len(kept))


class Appended:
    """A relation's tuples while a fixpoint adds to them, which only ever gains rows at the end:
    every earlier table of the same `lineage` (an object) is a prefix of `rows`, so that an index
    of an earlier one is brought up to date from the rows after it (body.Runner, `RunIndex`)
    instead of being sorted anew each round."""
    __slots__ = ("rows", "lineage")

    def __init__(self, rows, lineage):
        self.rows, self.lineage = rows, lineage


class Growing:
    """Rows appended at the end of storage whose capacity doubles: appending d rows costs O(d)
    amortized and `rows()` is a view of the filled part (concatenating a round's tuples onto the
    relation copied all of it, each round).  Earlier views stay valid prefixes of later ones: rows
    are only ever written past them, and a reallocation leaves the old storage to its views."""

    def __init__(self, xp, width, rows=None):
        """`rows`: the first rows, held as they are (never written: an append reallocates)."""
        self.xp, self.width = xp, width
        self.store = xp.zeros(0, width) if rows is None else rows
        self.n = len(self.store)

    def extend(self, rows):
        d = len(rows)
        if d == 0:
            return
        if self.n + d > len(self.store):
            bigger = self.xp.zeros(max(2 * self.n, self.n + d), self.width)
            bigger[:self.n] = self.store[:self.n]
            self.store = bigger
        self.store[self.n:self.n + d] = rows
        self.n += d

    def rows(self):
        return self.store if self.n == len(self.store) else self.store[:self.n]


class SortedIndex:
    """Rows of a table ordered by a key: `order` (row numbers) and `keys` (sorted, of either form).
    Single keys from a key space of `space` keys no larger than RUN_TABLE_SLACK times the rows
    (plus RUN_TABLE_MIN) also get a table of where each key's run starts: a probe's range is then
    two lookups instead of two binary searches (which miss the cache at every step of a large
    index: they took half of points-to's time)."""

    def __init__(self, xp, keys, order=None, space=None):
        """`order`: the row numbers of `keys` given sorted already (else they are sorted here)."""
        self.xp, self.space = xp, space
        if order is None:
            order = key_order(xp, keys)
            keys = xp.take(keys, order)
        self.order, self.keys = order, keys
        self.columns = _columns(xp, keys) if is_words(keys) else None
        self.starts = xp.run_starts_table(keys, space) if self.columns is None and space is not None \
            and space <= RUN_TABLE_SLACK * len(keys) + RUN_TABLE_MIN else None

    def merge(self, later):
        """This index and `later` (an index of rows numbered after this one's) as one: a pass over
        both, no sort.  Equal keys keep this index's rows first, as a stable sort of all would."""
        xp = self.xp
        source = merge_order(xp, self.keys, self.columns, later.keys)
        return SortedIndex(xp, xp.take(xp.cat([self.keys, later.keys]), source),
                           xp.take(xp.cat([self.order, later.order]), source), self.space)

    def ranges(self, probe):
        """Per probe key, where its matches start and how many there are."""
        if self.starts is not None:
            # (A probe key outside the space reads the empty last run: a computed argument's, or a
            # variable's whose values other atoms bound, in a domain of their own positions.)
            at = self.xp.where((probe >= 0) & (probe < self.space), probe, self.space)
            lo = self.xp.take(self.starts, at)
            return lo, self.xp.take(self.starts, at + 1) - lo
        if self.columns is not None:
            lo, hi = equal_range(self.xp, self.columns, probe)
        else:
            lo = self.xp.searchsorted(self.keys, probe)
            hi = self.xp.searchsorted(self.keys, probe, right=True)
        return lo, hi - lo

    def contains(self, probe):
        return find(self.xp, self.keys, probe, self.columns)[1]


class RunIndex:
    """A table's rows ordered by a key, as sorted runs (`SortedIndex`es over the table's row
    numbers) merged like a log-structured tree: rows appended to the table (a fixpoint's new
    tuples) are sorted alone into a run, merged with the run before it while that one is at most
    twice as long.  Adding d rows costs their sort and O(d log n) amortized merging, where one
    index merged with each round's rows copied all of it each round; a probe reads each of the
    O(log n) runs, or merges them first when it is as large as they are (`_probed`)."""

    def __init__(self, runs):
        self.runs = runs

    @staticmethod
    def of(xp, keys, space):
        return RunIndex([SortedIndex(xp, keys, space=space)])

    def appended(self, keys, first):
        """This index with `keys` added, those of the rows numbered from `first` on."""
        xp, space = self.runs[0].xp, self.runs[0].space
        order = key_order(xp, keys)
        run = SortedIndex(xp, xp.take(keys, order), order + first, space)
        runs = self.runs + [run]
        while len(runs) > 1 and len(runs[-2].keys) <= 2 * len(runs[-1].keys):
            later = runs.pop()
            runs.append(runs.pop().merge(later))
        return RunIndex(runs)

    def _probed(self, n):
        """Before a probe of n keys: the runs merged into one where searching each would cost more
        than the merge (n keys times the runs past the first, against the rows), so that a large
        join's probe reads one run (and its pairs come out in probe order, as a fresh index's)."""
        if len(self.runs) > 1 and n * (len(self.runs) - 1) >= sum(len(run.keys) for run in self.runs):
            while len(self.runs) > 1:
                later = self.runs.pop()
                self.runs.append(self.runs.pop().merge(later))

    def ranges(self, probe, mask=None):
        """Per run, (where each probe key's matches start, how many there are): none where `mask`
        is False."""
        self._probed(len(probe))
        out = []
        for run in self.runs:
            lo, counts = run.ranges(probe)
            out.append((lo, counts if mask is None else run.xp.where(mask, counts, 0)))
        return out

    @staticmethod
    def counts(ranges):
        """Per probe key, its matches in all runs."""
        total = ranges[0][1]
        for _, counts in ranges[1:]:
            total = total + counts
        return total

    def expand(self, ranges):
        """Matching pairs (probe row, indexed row) for every match, run after run."""
        xp = self.runs[0].xp
        pairs = [expand(xp, lo, counts, run.order) for run, (lo, counts) in zip(self.runs, ranges)]
        if len(pairs) == 1:
            return pairs[0]
        return xp.cat([p for p, _ in pairs]), xp.cat([r for _, r in pairs])

    def contains(self, probe):
        self._probed(len(probe))
        found = self.runs[0].contains(probe)
        for run in self.runs[1:]:
            found = found | run.contains(probe)
        return found


def expand(xp, lo, counts, order):
    """Matching pairs of a probe against an index: (probe row, indexed row) for every match."""
    ends = xp.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    if total == 0:
        return xp.zeros(0), xp.zeros(0)
    slot = xp.arange(total)
    # Output slot s belongs to the probe row whose run of matches covers it.
    probe = xp.owners(ends, counts, total)
    starts = xp.take(lo - (ends - counts), probe)
    return probe, xp.take(order, starts + slot)


def unique_rows(xp, table, lows, sizes):
    """The distinct rows of an [n, k] table."""
    if len(table) <= 1 or table.shape[1] == 0:
        return table[:1] if table.shape[1] == 0 else table
    _, first = unique_first(xp, pack_rows(xp, table, lows, sizes))
    return xp.take(table, first)


class KeySet:
    """The tuples of a growing relation, as packed keys (of either form): a byte map for small key
    spaces (on the host), else a list of sorted runs merged like a log-structured tree (so inserting
    d keys costs O(d log n) amortized, not O(n); runs are merged, not sorted again).  `add_new`
    inserts and returns which of the given keys were new.  `space` is the number of possible keys, None past PACK_LIMIT (keys of words)."""

    def __init__(self, xp, space):
        self.xp = xp
        small = space is not None and space <= BITMAP_LIMIT
        self.bitmap = xp.flags(space, False) if xp.bitmap and small else None
        self.runs = []          # (sorted keys, their `_columns` for keys of words)

    def unseen(self, keys):
        """The mask of the keys not in the set (repeats among them all unseen)."""
        xp = self.xp
        if self.bitmap is not None:
            return ~self.bitmap[keys]
        fresh = xp.flags(len(keys), True)
        for run, columns in self.runs:
            fresh = fresh & ~find(xp, run, keys, columns)[1]
        return fresh

    def insert(self, keys):
        """Adds distinct keys that are not in the set."""
        xp = self.xp
        if self.bitmap is not None:
            self.bitmap[keys] = True
            return
        if len(keys):
            self._push(xp.take(keys, key_order(xp, keys)))
            while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
                b, (a, columns) = self.runs.pop()[0], self.runs.pop()
                self._push(xp.take(xp.cat([a, b]), merge_order(xp, a, columns, b)))

    def add_new(self, keys):
        """`keys` distinct; returns the mask of those not yet present, and inserts them."""
        fresh = self.unseen(keys)
        self.insert(compress(self.xp, keys, fresh))
        return fresh

    def _push(self, run):
        self.runs.append((run, _columns(self.xp, run) if is_words(run) else None))
