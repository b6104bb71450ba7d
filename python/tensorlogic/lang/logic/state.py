"""A relation while its component runs to a fixpoint: its tuples so far and the last round's new
ones.  A plain relation is a set (a `KeySet` says which derived tuples are new).  A relation whose
rules aggregate in the head holds one value per group; with `min`/`max` it may be recursive: a
round's delta is the groups whose value improved, which is the least fixpoint of the lattice
(`Dist(y, min(d + w)) <- Dist(x, d), Edge(x, y, w)` gives shortest distances)."""
from __future__ import annotations

import numpy as np

from . import tuples as T

REDUCE = {"min": np.minimum, "max": np.maximum, "sum": np.add}


def group_reduce(groups, values, fn, lows, sizes):
    """Distinct group rows and the aggregate of `values` over each (count, sum, min, max, avg;
    avg rounds down: domains hold integers)."""
    if groups.shape[1]:
        key = T.pack([groups[:, j] for j in range(groups.shape[1])], lows, sizes)
        if key is None:
            _, key = np.unique(groups, axis=0, return_inverse=True)
            key = key.reshape(-1)
    else:
        key = np.zeros(len(groups), dtype=np.int64)
    order = np.argsort(key, kind="stable")
    key, groups, values = key[order], groups[order], values[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else T.EMPTY
    counts = np.diff(np.concatenate([starts, [len(key)]]))
    if fn == "count":
        out = counts.astype(np.int64)
    elif fn == "avg":
        out = np.floor_divide(np.add.reduceat(values, starts), counts)
    else:
        out = REDUCE[fn].reduceat(values, starts) if len(starts) else T.EMPTY
    return groups[starts], out.astype(np.int64)


def with_value(groups, values, position):
    return np.insert(groups, position, values, axis=1) if len(groups) else \
        np.zeros((0, groups.shape[1] + 1), dtype=np.int64)


class State:
    def __init__(self, logic, name, rules):
        self.logic, self.name = logic, name
        aggs = {(r.aggregate.fn, r.aggregate.position) for r in rules if r.aggregate}
        plain = [r for r in rules if r.aggregate is None]
        if len(aggs) > 1 or (aggs and plain and next(iter(aggs))[0] not in ("min", "max")):
            r = plain[0] if plain and len(aggs) == 1 else rules[-1]
            raise logic.error(f"the rules of '{name}' disagree on its aggregate: the rules of a "
                              f"relation with an aggregate in its head use the same one at the "
                              f"same position (rules without one add values to min and max)",
                              r.span)
        self.agg = aggs.pop() if aggs else None
        self.delta = None
        self.runs, self._full = [], None
        self.keys, self.ext = None, None

    # ---- plain relations ------------------------------------------------------------------------
    def _keyset(self):
        ext = self.logic.extents(self.name)
        if self.keys is None or ext != self.ext:
            space = 1
            for _, s in ext:
                space *= max(s, 1)
            if space >= T.PACK_LIMIT:
                raise self.logic.error(f"'{self.name}' has too many possible tuples to index "
                                       f"({space:,})", self.logic.model.relations[self.name].span)
            self.ext, self.keys = ext, T.KeySet(space)
            full = self.full()
            if len(full):
                self.keys.add_new(self._pack(full))
        return self.keys

    def _pack(self, rows):
        if rows.shape[1] == 0:
            return np.zeros(len(rows), dtype=np.int64)
        return T.pack([rows[:, j] for j in range(rows.shape[1])],
                      [lo for lo, _ in self.ext], [s for _, s in self.ext])

    def _add(self, rows):
        keys = self._keyset()
        if len(rows) == 0:
            self.delta = rows
            return
        packed = self._pack(rows)
        if len(rows) > 1:
            packed, first = np.unique(packed, return_index=True)
            rows = rows[first]
        new = rows[keys.add_new(packed)]
        if len(new):
            self.runs.append(new)
            self._full = None
        self.delta = new

    def full(self):
        if self._full is None:
            arity = self.logic.model.relations[self.name].arity
            self._full = np.concatenate(self.runs) if len(self.runs) > 1 else \
                (self.runs[0] if self.runs else np.zeros((0, arity), dtype=np.int64))
            self.runs = [self._full] if len(self._full) else []
        return self._full

    # ---- rounds ---------------------------------------------------------------------------------
    def start(self, derived):
        facts = self.logic.facts(self.name)
        if self.agg is None:
            rows = [facts] + [r for r, _ in derived]
            self._add(np.concatenate(rows) if len(rows) > 1 else facts)
            self.delta = self.full()
            return
        fn, pos = self.agg
        groups, values = self._reduce(derived)
        if fn in ("min", "max") and len(facts):
            groups = np.concatenate([groups, np.delete(facts, pos, axis=1)])
            values = np.concatenate([values, facts[:, pos]])
            groups, values = self._group(groups, values)
        rows = with_value(groups, values, pos)
        if fn not in ("min", "max"):
            rows = np.concatenate([facts, rows])
        self.runs, self._full = [rows], None
        self.delta = self.full()

    def advance(self, derived):
        if self.agg is None:
            rows = [r for r, _ in derived]
            arity = self.logic.model.relations[self.name].arity
            self._add(np.concatenate(rows) if rows else np.zeros((0, arity), dtype=np.int64))
            return
        # The value table stays sorted by group key (group_reduce returns it so).
        pos = self.agg[1]
        groups, values = self._reduce(derived)
        full = self.full()
        best_groups, best_values = self._group(np.concatenate([np.delete(full, pos, axis=1), groups]),
                                               np.concatenate([full[:, pos], values]))
        old_keys, new_keys = self._keys_of(np.delete(full, pos, axis=1)), self._keys_of(best_groups)
        at = np.searchsorted(old_keys, new_keys)
        at[at == len(old_keys)] = 0
        if len(old_keys):
            changed = (old_keys[at] != new_keys) | (full[at, pos] != best_values)
        else:
            changed = np.ones(len(new_keys), dtype=bool)
        best = with_value(best_groups, best_values, pos)
        self.runs, self._full = [best], None
        self.delta = best[changed]

    def _reduce(self, derived):
        fn, pos = self.agg
        arity = self.logic.model.relations[self.name].arity
        groups = [r if v is not None else np.delete(r, pos, axis=1) for r, v in derived]
        values = [v if v is not None else r[:, pos] for r, v in derived]
        groups = np.concatenate(groups) if groups else np.zeros((0, arity - 1), dtype=np.int64)
        values = np.concatenate(values) if values else T.EMPTY
        return self._group(groups, values, fn)

    def _group(self, groups, values, fn=None):
        fn = fn or self.agg[0]
        lows, sizes = self._group_radix()
        return group_reduce(groups, values, fn, lows, sizes)

    def _group_radix(self):
        ext = self.logic.extents(self.name)
        del ext[self.agg[1]]
        return [lo for lo, _ in ext], [s for _, s in ext]

    def _keys_of(self, groups):
        lows, sizes = self._group_radix()
        if groups.shape[1] == 0:
            return np.zeros(len(groups), dtype=np.int64)
        return T.pack([groups[:, j] for j in range(groups.shape[1])], lows, sizes)
