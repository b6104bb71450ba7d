"""A relation while its component runs to a fixpoint: its tuples so far and the last round's new
ones.  A plain relation is a set (a `KeySet` says which derived tuples are new).  A relation whose
rules take `min` or `max` in the head holds one value per group, over all its rules and facts; it
may be recursive: a round's delta is the groups whose value improved, which is the least fixpoint
of the lattice (`Dist(y, min(d + w)) <- Dist(x, d), Edge(x, y, w)` gives shortest distances).  With
`count`, `sum` or `avg` each rule aggregates its own body and the relation is the set of the rows
of its rules and facts."""
from __future__ import annotations

from . import tuples as T
from .body import IntegerOverflow, clingo_ranks, is_numeric

_HALF = 1 << 32  # sums are kept in two halves of 32 bits, whose sums cannot wrap (fewer than 2**31 rows)


def group_reduce(xp, groups, values, fn, lows, sizes):
    """Distinct group rows (sorted by group) and the aggregate of `values` over each (count, sum,
    min, max, avg; avg truncates toward zero, as `/` does: domains hold integers).  Sorting by value and then stably by
    group puts each group's least value first and its greatest last; sums are differences of running
    sums.  Raises IntegerOverflow for a sum beyond 64 bits (an average is exact whatever its sum)."""
    # Keys of words become ranks: one int64 per row in the same order.
    key = T.ranks(xp, T.pack_rows(xp, groups, lows, sizes))
    if fn in ("min", "max"):
        by_value = xp.argsort(values)
        order = xp.take(by_value, xp.argsort(xp.take(key, by_value)))
    else:
        order = xp.argsort(key)
    key, groups, values = xp.take(key, order), xp.take(groups, order), xp.take(values, order)
    starts = T.run_starts(xp, key)
    ends = xp.cat([starts[1:], xp.full(1, len(key))]) if len(key) else starts
    if fn == "min":
        out = xp.take(values, starts)
    elif fn == "max":
        out = xp.take(values, ends - 1)
    else:
        counts = ends - starts
        if fn == "count":
            out = counts
        else:
            out = _exact_sums(xp, values, starts, ends, counts, fn)
    return xp.take(groups, starts), out


def _exact_sums(xp, values, starts, ends, counts, fn):
    """Each group's sum (or its average, truncated toward zero) of int64 values, exactly: the sums of the values' high
    and low 32 bits never wrap, and give the sum as high * 2**32 + low with 0 <= low < 2**32, which fits in
    int64 only for -2**31 <= high < 2**31."""
    def summed(parts):
        running = xp.cat([xp.zeros(1), xp.cumsum(parts)])
        return xp.take(running, ends) - xp.take(running, starts)
    low = summed(values & (_HALF - 1))
    high = summed(values >> 32) + (low >> 32)
    low = low & (_HALF - 1)
    if fn == "avg":
        # Truncated toward zero, as clingo's `/` (and the language's): floor division, one up where
        # the sum is negative and the division inexact.  (The high part is divided first: the quotient
        # fits, as averages lie among the values.)
        rest = (high % counts) * _HALF + low
        floor = (high // counts) * _HALF + rest // counts
        return xp.where((high < 0) & (rest % counts != 0), floor + 1, floor)
    beyond = (high < -(_HALF >> 1)) | (high >= (_HALF >> 1))
    if xp.count(beyond):
        group = int(xp.numpy(xp.nonzero(beyond))[0])
        total = int(xp.numpy(high)[group]) * _HALF + int(xp.numpy(low)[group])
        raise IntegerOverflow(f"the sum of a group's values, {total}, does not fit in a 64-bit integer (the "
                              "aggregate would wrap around to a wrong value)")
    return high * _HALF + low


def _inside(ext, room):
    """Whether every position's extent (low, size) lies in the room's."""
    return all(lo >= rlo and lo + s <= rlo + rs for (lo, s), (rlo, rs) in zip(ext, room))


def _roomier(room, ext):
    """Extents holding `ext` where each position that outgrew `room` gets as much again beyond it on
    the side(s) it grew (capacity doubling); `ext` itself where that room would pass PACK_LIMIT keys
    or the int64 values."""
    out, space = [], 1
    for (rlo, rs), (lo, s) in zip(room, ext):
        if lo >= rlo and lo + s <= rlo + rs:
            out.append((rlo, rs))
        else:
            a, b = min(lo, rlo), max(lo + s, rlo + rs)
            span = b - a
            a, b = a - (span if lo < rlo else 0), b + (span if lo + s > rlo + rs else 0)
            if a < -(1 << 63) or b > 1 << 63:
                return ext
            out.append((a, b - a))
        space *= max(out[-1][1], 1)
    return out if space < T.PACK_LIMIT else ext


class State:
    def __init__(self, logic, name, rules, arity=None, extents=None, bitmap=True):
        """`arity` and `extents` (a function giving each position's (low, size)) describe a relation
        the program does not hold (a demand-driven query's, demand.py); `bitmap=False` keeps its
        key set in sorted runs, whose cost follows the tuples rather than the domains' sizes."""
        self.logic, self.name, self.xp = logic, name, logic.xp
        aggs = {(r.aggregate.fn, r.aggregate.position) for r in rules if r.aggregate}
        if len(aggs) > 1:
            raise logic.error(f"the rules of '{name}' disagree on its aggregate: the rules of a "
                              f"relation with an aggregate in its head use the same one at the "
                              f"same position", rules[-1].span)
        self.agg = aggs.pop() if aggs else None
        self.agg_rule = next((r for r in rules if r.aggregate), None)
        self.arity = logic.model.relations[name].arity if arity is None else arity
        self.extents = extents or (lambda: logic.extents(name))
        self.bitmap = bitmap
        self.delta = None
        self.tuples, self._full = T.Growing(self.xp, self.arity), None
        self.lineage = object()     # names this relation's growing tuples (a token: indexes keep it)
        self.keys, self.ext = None, None

    # ---- plain relations ------------------------------------------------------------------------
    def _keyset(self):
        ext = self.extents()
        if self.keys is None or not _inside(ext, self.ext):
            # A domain that grew (a rule computed new integers into it) re-packs the keys over room
            # beyond its new extent: one that grows each round (`D + 1`) re-packs them only when it
            # outgrows that room, a logarithmic number of times, not in every round.
            self.ext = ext if self.keys is None else _roomier(self.ext, ext)
            space = 1
            for _, s in self.ext:
                space *= max(s, 1)
            self.keys = T.KeySet(self.xp, space if space < T.PACK_LIMIT and self.bitmap else None)
            full = self.full()
            if len(full):
                self.keys.add_new(self._pack(full))
        return self.keys

    def _pack(self, rows):
        return T.pack_rows(self.xp, rows, [lo for lo, _ in self.ext], [s for _, s in self.ext])

    def _add(self, rows):
        xp = self.xp
        keys = self._keyset()
        if len(rows) == 0:
            self.delta = rows
            return
        # The tuples not held yet, then the distinct ones among them: a round sorts its new tuples
        # only, not all that its rules derived.
        packed = self._pack(rows)
        unseen = keys.unseen(packed)
        rows, packed = T.compress(xp, rows, unseen), T.compress(xp, packed, unseen)
        if len(rows) > 1:
            packed, first = T.unique_first(xp, packed)
            rows = xp.take(rows, first)
        keys.insert(packed)
        if len(rows):
            self.tuples.extend(rows)
            self._full = None
        self.delta = rows

    def growing(self):
        """The tuples so far, marked (`T.Appended`) as extending the earlier ones where the relation
        only gains tuples (a plain one; an aggregate's values are replaced as they improve)."""
        return T.Appended(self.full(), self.lineage) if self.agg is None else self.full()

    def full(self):
        if self._full is None:
            self._full = self.tuples.rows()
        return self._full

    # ---- rounds ---------------------------------------------------------------------------------
    def start(self, derived, facts=None):
        """The first round: the facts (the relation's own unless given) and what the rules that
        read no relation of the component derived."""
        xp = self.xp
        facts = self.logic.facts(self.name) if facts is None else facts
        if self.agg is None:
            rows = [facts] + [r for r, _ in derived]
            self._add(xp.cat(rows) if len(rows) > 1 else facts)
            self.delta = self.full()
            return
        fn, pos = self.agg
        if fn not in ("min", "max"):
            self._add(self._per_rule(derived, facts))
            self.delta = self.full()
            return
        groups, values = self._reduce(derived)
        if len(facts):
            groups = xp.cat([groups, T.columns_except(xp, facts, pos)])
            values = xp.cat([values, facts[:, pos]])
            groups, values = self._group(groups, values)
        self.tuples, self._full = T.Growing(xp, self.arity, T.with_column(xp, groups, pos, values)), None
        self.delta = self.full()

    def _per_rule(self, derived, facts):
        """count, sum and avg (never recursive) as clingo and Datalog engines have them: each
        rule aggregates its own body, and its rows join the facts and the rows of rules without
        an aggregate as a set (`Deg(x, 0) <- Node(x), not Linked(x)` beside `Deg(x, count(y)) <-
        Edge(x, y)`)."""
        xp = self.xp
        fn, pos = self.agg
        rows = [facts]
        for r, v in derived:
            if v is None:
                rows.append(r)
                continue
            groups, values = self._group(r, v, fn)
            if fn in ("count", "sum") and len(values):
                # The domain holds the totals (avg is among the values, grown already).
                self.logic.grow(self.logic.model.relations[self.name].domains[pos], xp.low(values),
                                 xp.high(values), self.agg_rule, pos)
            rows.append(T.with_column(xp, groups, pos, values))
        return xp.cat(rows) if len(rows) > 1 else facts

    def advance(self, derived):
        xp = self.xp
        if self.agg is None:
            rows = [r for r, _ in derived]
            self._add(xp.cat(rows) if rows else xp.zeros(0, self.arity))
            return
        # The value table stays sorted by group key (group_reduce returns it so).
        pos = self.agg[1]
        groups, values = self._reduce(derived)
        full = self.full()
        old_groups = T.columns_except(xp, full, pos)
        best_groups, best_values = self._group(xp.cat([old_groups, groups]),
                                               xp.cat([full[:, pos], values]))
        old_keys, new_keys = self._keys_of(old_groups), self._keys_of(best_groups)
        if len(old_keys):
            at, found = T.find(xp, old_keys, new_keys)
            changed = ~found | (xp.take(full[:, pos], at) != best_values)
        else:
            changed = xp.flags(len(new_keys), True)
        best = T.with_column(xp, best_groups, pos, best_values)
        self.tuples, self._full = T.Growing(xp, self.arity, best), None
        self.delta = T.compress(xp, best, changed)

    def _reduce(self, derived):
        xp = self.xp
        fn, pos = self.agg
        groups = [r if v is not None else T.columns_except(xp, r, pos) for r, v in derived]
        values = [v if v is not None else r[:, pos] for r, v in derived]
        groups = xp.cat(groups) if groups else xp.zeros(0, self.arity - 1)
        values = xp.cat(values) if values else xp.zeros(0)
        return self._group(groups, values, fn)

    def _group(self, groups, values, fn=None):
        xp, fn = self.xp, fn or self.agg[0]
        lows, sizes = self._group_radix()
        rel = self.logic.model.relations.get(self.name)
        names = rel is not None and fn in ("min", "max") and not is_numeric(rel.domains[self.agg[1]])
        if names:
            # Indices of constants: min and max compare their places in clingo's order.
            ranks, order = clingo_ranks(rel.domains[self.agg[1]])
            values = xp.take(xp.asarray(ranks), values)
        try:
            groups, values = group_reduce(xp, groups, values, fn, lows, sizes)
        except IntegerOverflow as err:
            raise self.logic.rt.budget.error(err.message, self.agg_rule.span) from None
        return groups, (xp.take(xp.asarray(order), values) if names else values)

    def _group_radix(self):
        ext = list(self.extents())
        del ext[self.agg[1]]
        return [lo for lo, _ in ext], [s for _, s in ext]

    def _keys_of(self, groups):
        lows, sizes = self._group_radix()
        return T.pack_rows(self.xp, groups, lows, sizes)
