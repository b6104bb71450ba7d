"""The tuple engine: relations stored as sparse tuples, rules run as database joins, recursion run
semi-naively with deltas kept sparse (a round costs what changed), aggregates in heads (recursive
`min`/`max` as a lattice fixpoint), integer domains that grow with what rules compute.

The runtime asks `storage(component)` which engine runs a component: the dense path (einsums over
0/1 tensors) keeps small relations whose rules it can express; the tuple engine takes the rest.
Either side reads the other's relations (`table` / `dense`).  The tuple engine's arrays live where
`arrays.for_device` says for the program's device: numpy on the CPU, tensors on a GPU.
"""
from __future__ import annotations

import numpy as np

from ..engine import tl

from ..constants import shown
from ..syntax import nodes as N
from . import arrays, demand, linear
from . import tuples as T
from .body import (CHUNK_ROWS, INTEGERS, IntegerOverflow, Plan, Runner, apply_mask, encode, evaluate, extent,
                   integer_values, is_numeric, not_integers)
from .rules import Atom, Rule, RuleError, Test, bound_order, is_dense_rule, lower, lower_body, variables
from .state import State

# A relation holds at most this many cells densely (2,000 x 2,000 nodes is 4 M).
DENSE_CELLS = 1 << 22
# On the CPU a recursive rule runs dense only while a round's einsum spans at most this many cells
# (its variables' domains multiplied: 512^3): every dense round costs that much, however few tuples
# the round adds, where the tuple engine's round costs what changed (same-generation on a deep tree
# of 2,000 nodes: 200 rounds, 92 s dense, 0.2 s as tuples).
DENSE_ROUND_CELLS = 1 << 27
STORAGES = ("dense", "sparse")


class Logic:
    def __init__(self, rt):
        self.rt = rt
        self.model = rt.model
        self.forced = {}            # relation -> "dense" / "sparse"
        self.lowered = {}
        self.results = {}           # relation -> (table, snapshot)
        self.dense_cache = {}       # relation -> (table, tensor)
        self.dense_rows = {}        # relation -> (tensor, extents, its tuples): rows of a dense one
        self.choices = {}           # (tuple(component), domain_sizes()) -> (storage, reason)
        self.plans = {}
        self.xp = arrays.for_device(tl.get_default_device())
        self.host_tables = {}       # relation -> (rows, the same rows in host memory)
        self.wide = set()           # components whose values were too many for native rounds
        self.runner = Runner(self.extents, self.xp, self.planned)
        self._domains = None        # the distinct domains of the relations (domain_sizes)
        # Head tuples the rules' joins gave, duplicates included (the native rounds count the new
        # ones): the work done, which tests read to see that a query derived only what it asked for.
        self.tuples_derived = 0
        self.demanded = set()       # relations queries derived only the asked part of (demand.py)

    def error(self, message, span):
        return self.model.error(message, span)

    # ---- storage choice -------------------------------------------------------------------------
    def force(self, name, storage):
        if storage not in STORAGES:
            raise ValueError(f"storage is one of {STORAGES}, not {storage!r}")
        if name not in self.model.relations:
            raise KeyError(name)
        self.forced[name] = storage
        self.choices.clear()
        self.results.clear()
        self.rt.cache.clear()

    def lower(self, rule):
        key = id(rule)
        if key not in self.lowered:
            try:
                self.lowered[key] = lower(rule)
            except RuleError as err:
                raise self.error(err.message, err.span) from None
        return self.lowered[key]

    def cells(self, name):
        n = 1
        for d in self.model.relations[name].domains:
            n *= max(d.size, 1)
        return n

    def domain_sizes(self):
        """The size of every domain the relations use (each once; the domains, fixed by the checker, are found
        once: a program of thousands of relations chooses storage thousands of times)."""
        if self._domains is None:
            self._domains = list({id(d): d for rel in self.model.relations.values() for d in rel.domains}.values())
        return tuple(d.size for d in self._domains)

    def storage(self, comp):
        """("dense" | "sparse", reason) for a component of the dependency graph, chosen again once a domain
        has grown (integers a rule computes join their domain while the program runs: a relation chosen dense
        while its domains were small would else be allocated dense at any size, or read densely by a rule)."""
        key = tuple(comp), self.domain_sizes()
        if key in self.choices:
            return self.choices[key]
        self.choices[key] = choice = self._choose(comp)
        return choice

    def _choose(self, comp):
        rels = self.model.relations
        if not all(m in rels for m in comp):
            return "dense", "tensors"
        rules = [r for m in comp for r in rels[m].rules]
        lowered = [self.lower(r) for r in rules]
        if any(low is None for low in lowered):
            return "dense", "a rule reads tensors"
        odd = [low for low in lowered if not is_dense_rule(low)]
        if odd:
            return "sparse", "arithmetic, ordering, aggregates or existential negation"
        forced = {self.forced[m] for m in comp if m in self.forced}
        if forced == {"dense"}:
            for m in comp:
                self.check_dense(m, f"'{m}' is forced dense; its tensor", "store it sparse")
        if forced:
            return forced.pop(), "forced"
        big = [m for m in comp if self.cells(m) > DENSE_CELLS]
        if big:
            return "sparse", f"{big[0]} has {self.cells(big[0]):,} cells"
        reads = {a.name for low in lowered for a in low.atoms() + low.atoms(True)} - set(comp)
        for r in sorted(reads):  # (the size first: a read relation that small is read densely either way, and a
            # chain of thousands of rules would otherwise choose the storage of each down the chain, recursively)
            if r in rels and self.cells(r) > DENSE_CELLS and self.storage(self.rt.component[r])[0] == "sparse":
                return "sparse", f"reads {r}, stored sparse"
        if isinstance(self.xp, arrays.Host):
            rounds = max((self._round_cells(low) for low in lowered
                          if any(a.name in comp for a in low.atoms() + low.atoms(True))), default=0)
            if rounds > DENSE_ROUND_CELLS:
                return "sparse", f"a dense round would span {rounds:,} cells"
        return "dense", f"{max(self.cells(m) for m in comp):,} cells"

    def _round_cells(self, low):
        """The cells a rule's einsum spans: the sizes of its variables' domains multiplied (0 for
        a rule that reads a tensor as an atom, which only the dense path reads)."""
        sizes = {}
        for atom in low.atoms() + low.atoms(True):
            if atom.name not in self.model.relations:
                return 0
            for a, d in zip(atom.args, self.model.relations[atom.name].domains):
                if a[0] == "var":
                    sizes[a[1]] = max(d.size, 1)
        n = 1
        for size in sizes.values():
            n *= size
        return n

    def is_sparse(self, name):
        return self.storage(self.rt.component[name])[0] == "sparse"

    def computed(self, name):
        """Whether relation `name`'s tuples are held already and current (reading them costs nothing
        more), in whichever engine holds it."""
        comp = self.rt.component[name]
        if self.storage(comp)[0] == "sparse":
            hit = self.results.get(name)
            return hit is not None and hit[1] == self.rt.snapshot(comp)
        return self.rt.cached(name) is not None

    # ---- tables ---------------------------------------------------------------------------------
    def domains(self, name):
        return self.model.relations[name].domains

    def extents(self, name):
        return [extent(d) for d in self.model.relations[name].domains]

    def rows(self, name):
        """A relation's tuples (int64 [n, arity], distinct rows, in the engine's arrays `xp`), from
        whichever engine holds it."""
        comp = self.rt.component[name]
        if self.storage(comp)[0] == "sparse":
            snap = self.rt.snapshot(comp)
            hit = self.results.get(name)
            if hit is None or hit[1] != snap:
                for m, t in self.evaluate(comp).items():
                    self.results[m] = (t, snap)
            return self.results[name][0]
        # A dense relation's cells holding 1, unravelled into positions; kept while its tensor is
        # (each round of a recursion that reads it would read all its cells again, and index anew
        # what it read).
        xp = self.xp
        tensor, ext = self.rt.derived(name), self.extents(name)
        hit = self.dense_rows.get(name)
        if hit is not None and hit[0] is tensor and hit[1] == ext:
            return hit[2]
        flat = xp.nonzero(xp.positive(tensor))
        cols = []
        for lo, size in reversed(ext):
            cols.insert(0, flat % size + lo if size else flat)
            flat = flat // max(size, 1)
        rows = xp.stack(cols) if cols else xp.zeros(len(flat), 0)
        self.dense_rows[name] = (tensor, ext, rows)
        return rows

    def table(self, name):
        """A relation's tuples as a numpy int64 array [n, arity] of distinct rows."""
        rows = self.rows(name)
        hit = self.host_tables.get(name)
        if hit is None or hit[0] is not rows:
            hit = self.host_tables[name] = (rows, self.xp.numpy(rows))
        return hit[1]

    def dense(self, name):
        """The 0/1 float16 tensor of a relation the tuple engine holds."""
        table = self.rows(name)
        hit = self.dense_cache.get(name)
        shape = tuple(s for _, s in self.extents(name))
        if hit is not None and hit[0] is table and tuple(hit[1].shape) == shape:
            return hit[1]
        t = self.to_dense(name, table)
        self.dense_cache[name] = (table, t)
        return t

    def check_dense(self, name, what, advice):
        """A MemoryError when a relation's dense tensor would not fit in the memory of the program's
        device (past 2^63 cells its cells would not even be numbered by an int64)."""
        need, room = 2 * self.cells(name), self.xp.memory()
        if room and need > room:
            raise MemoryError(f"{what} would take {self.cells(name):,} cells ({need:,} bytes), more than "
                              f"the memory it would be in ({room:,} bytes): {advice}")

    def to_dense(self, name, table):
        ext = self.extents(name)
        self.check_dense(name, f"'{name}' is held as {len(table):,} tuples; as a dense tensor it",
                         f"read its tuples with a query or `{name}?`")
        cells = T.mixed_radix([table[:, j] for j in range(table.shape[1])], [lo for lo, _ in ext],
                              [s for _, s in ext]) if len(ext) else self.xp.zeros(len(table))
        return self.xp.dense(cells, tuple(s for _, s in ext))

    def data_changed(self):
        """Facts were added (domains may have grown): storage is chosen again, relations
        recomputed."""
        self.choices.clear()
        self.results.clear()
        self.dense_cache.clear()
        self.dense_rows.clear()
        self.host_tables.clear()

    def facts(self, name):
        rel = self.model.relations[name]
        rows = []
        for call in rel.facts:
            row = []
            for d, a in zip(rel.domains, call.args):
                row.append(encode(d, _const_key(a)))
            rows.append(row)
        for row in rel.fact_rows:
            rows.append([encode(d, key) for d, key in zip(rel.domains, row)])
        # (Loaded facts are held as the engine holds them: run/loading.py.)
        parts = [np.array(rows, dtype=np.int64).reshape(len(rows), rel.arity)] + list(rel.rows)
        table = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return T.unique_rows(self.xp, self.xp.asarray(table), *self._radix(name))

    def _radix(self, name):
        ext = self.extents(name)
        return [lo for lo, _ in ext], [s for _, s in ext]

    # ---- evaluation -----------------------------------------------------------------------------
    def split(self, comp):
        """A component's rules by relation: (all, recursive ones, the others)."""
        members = set(comp)
        rules = {m: [self.lower(r) for r in self.model.relations[m].rules] for m in comp}
        recursive, base = {m: [] for m in comp}, {m: [] for m in comp}
        for m in comp:
            for low in rules[m]:
                reads_own = any(a.name in members for a in low.atoms() + low.atoms(True))
                (recursive if reads_own else base)[m].append(low)
        return rules, recursive, base

    def evaluate(self, comp):
        members = set(comp)
        rels = self.model.relations
        rules, recursive, base = self.split(comp)
        # The relations the rules read in part only (demand.py): those tuples of theirs that the
        # atoms bound before them ask for, all that the joins can meet.
        part = demand.restrict(self, comp)

        def read(name):
            return part[name] if name in part else self.rows(name)

        state = {m: State(self, m, rules[m]) for m in comp}
        for m in comp:
            state[m].start(self._derive(base[m], lambda step: read(step.literal.name)))
        native = self._native(comp, recursive)
        if native is not None:
            out = linear.run(self, self, comp, state, native, read, rels[comp[0]].span)
            if out is not None:
                self.wide.discard(tuple(comp))
                if not out[1]:
                    self.rt.warn_limit(comp, self.rt.max_iterations)
                return out[0]
            self.wide.add(tuple(comp))
        rounds = 0
        while any(s.delta is not None and len(s.delta) for s in state.values()) and \
                any(recursive.values()):
            if rounds >= self.rt.max_iterations:
                self.rt.warn_limit(comp, self.rt.max_iterations)
                break
            rounds += 1
            self.rt.budget.tick(rels[comp[0]].span)
            deltas = {m: state[m].delta for m in comp}

            def table_of(step):
                # The full relations are assembled only where a rule reads one (a linear
                # recursion never does), so a round costs what changed.
                name = step.literal.name
                if name in members:
                    return deltas[name] if step.delta else state[name].growing()
                return read(name)

            produced = {}
            for m in comp:
                candidates = []
                for low in recursive[m]:
                    for i, lit in enumerate(low.body):
                        if getattr(lit, "name", None) in members and not lit.negated and \
                                len(deltas[lit.name]):
                            candidates.append(self._run(low, table_of, i))
                produced[m] = candidates
            for m in comp:
                state[m].advance(produced[m])
        return {m: state[m].full() for m in comp}

    def _native(self, comp, recursive):
        """The native form of a component's linear recursion (linear.py, on the host), or None
        where the rounds run here (a relation with an aggregate holds one value per group: its
        rounds are not set unions)."""
        if not any(recursive.values()) or \
                any(self.lower(r).aggregate is not None for m in comp for r in self.model.relations[m].rules):
            return None
        return linear.native_rules(self, comp, recursive)

    def _derive(self, rules, table_of):
        return [self._run(low, table_of, None) for low in rules]

    def _run(self, low, table_of, delta_index):
        """The head tuples one rule derives: (rows, aggregate values or None)."""
        key = (id(low), delta_index)
        plan = self.plans.get(key)
        if plan is None:
            try:
                plan = self.plans[key] = Plan(low, lambda n: self.model.relations[n].domains,
                                              self.size, delta_index, self.var_domains(low))
            except RuleError as err:
                raise self.error(err.message, err.span) from None
        parts, reduced = [], 0
        try:
            for frame in self.runner.run(plan, table_of):
                parts.append(self._head(low, frame, plan.var_domain))
                self.tuples_derived += len(parts[-1][0])
                self.held(low, sum(len(r) for r, _ in parts))
                pending = sum(len(r) for r, _ in parts[1:])
                if pending > max(reduced, CHUNK_ROWS) and low.aggregate is None and not plan.exact:
                    # A join run in pieces (Runner.run): their head tuples are reduced to the distinct
                    # ones once the pieces since the last reduction hold as many as it kept, so that
                    # memory holds about twice the distinct ones and the work stays n log n. (Where
                    # the plan's rows are distinct head tuples, the pieces' are too.)
                    rows = self.xp.cat([r for r, _ in parts])
                    parts = [(T.unique_rows(self.xp, rows, *self._radix(low.head)), None)]
                    reduced = len(parts[0][0])
                self.rt.budget.check_time(low.span)
        except IntegerOverflow as err:
            raise self.rt.budget.error(err.message, low.span) from None
        if not any(len(r) for r, _ in parts):
            nothing = self._total_of_nothing(low)
            if nothing is not None:
                return nothing
        if len(parts) == 1:
            return parts[0]
        if low.aggregate is None:
            return self.xp.cat([r for r, _ in parts]), None
        return self.xp.cat([r for r, _ in parts]), self.xp.cat([v for _, v in parts])

    def planned(self, plan, rows, exact, rule=None):
        """A rule's join about to give `rows` distinct head tuples (`exact`, else at least as many:
        Runner.planned): an error now, before the pieces run, when they cannot fit in the memory its
        tuples are in.  `rule`: the program's rule the error names, where the plan's is a rewrite."""
        self.held(rule or plan.rule, rows, "would derive" if exact else "would derive at least")

    def held(self, low, rows, verb="derives at least"):
        """A TensorLogicRuntimeError at the rule when `rows` of its head tuples (int64 each
        position, and as much again to sort them) pass the memory its arrays are in."""
        width = max(len(low.head_args), 1)
        need, room = 2 * 8 * width * rows, self.xp.memory()
        if room and need > room:
            what = "this query" if low.head == "?" else f"this rule of '{low.head}'"
            raise self.rt.budget.error(
                f"{what} {verb} {rows:,} tuples ({need:,} bytes to hold and sort them), more than the "
                f"memory they would be in ({room:,} bytes, {self.xp.where_held}): a join that shares no "
                f"variable multiplies the sizes of its atoms", low.span)

    def var_domains(self, low):
        """The checker's domain of each variable of a rule (a variable that only a comparison
        binds has no atom to take one from)."""
        node = low.node
        return None if node is None else (lambda v: self.model.checker.var_domain(node, v))

    def size(self, name, delta):
        """A relation's size as the planner estimates it (a delta is taken as small)."""
        if delta:
            return 0
        hit = self.results.get(name)
        rel = self.model.relations[name]
        return len(hit[0]) if hit is not None else \
            len(rel.facts) + len(rel.fact_rows) + sum(len(r) for r in rel.rows)

    def _head(self, low, frame, var_domains):
        xp = self.xp
        rel = self.model.relations[low.head]
        width = rel.arity - (low.aggregate is not None)
        empty = xp.zeros(0, width), (xp.zeros(0) if low.aggregate else None)
        if frame.n == 0:
            return empty
        # Computed terms first: a row where one is undefined (division by zero, a name where
        # arithmetic reads a number) derives nothing.
        computed, values, mask = {}, None, None
        for p, (a, d) in enumerate(zip(low.head_args, rel.domains)):
            if a is not None and a[0] == "op":
                try:
                    computed[p], m = evaluate(a, frame, None, var_domains)
                except IntegerOverflow as err:
                    raise self.rt.budget.error(err.message, low.node.head.args[p].span) from None
                mask = m if mask is None else (mask if m is None else mask & m)
        if low.aggregate is not None:
            values, m = self._aggregated(low, frame, var_domains)
            if m is not None and low.aggregate.fn == "sum":
                # As clingo's #sum, a binding whose term is undefined (a name, a division by zero)
                # adds nothing, but its group is one: over no other binding its sum is 0.
                values = xp.where(m, values, xp.zeros(frame.n))
            else:
                mask = m if mask is None else (mask if m is None else mask & m)
        if mask is not None:
            keep = xp.nonzero(mask)
            frame = apply_mask(frame, mask)
            computed = {p: xp.take(c, keep) for p, c in computed.items()}
            values = xp.take(values, keep) if values is not None else None
            if frame.n == 0:
                return empty
        cols = []
        for p, (a, d) in enumerate(zip(low.head_args, rel.domains)):
            if a is None:
                continue
            if a[0] == "var":
                col = frame.columns[a[1]]
                src = var_domains.get(a[1])
                # (is_numeric makes an empty domain one of integers: it takes them as they are.)
                if src is not None and src.kind == "range" and d is not src and not is_numeric(d):
                    col = self._integers_into(col, src, d, low, p)
            elif a[0] in ("const", "num"):
                col = xp.full(frame.n, self._head_constant(low, p, a[1], d))
            else:
                col = computed[p] if is_numeric(d) else self._integers_into(computed[p], INTEGERS, d, low, p)
            cols.append(col)
        if low.aggregate is not None:
            p, term, fn = low.aggregate.position, low.aggregate.term, low.aggregate.fn
            src = var_domains.get(term[1]) if term[0] == "var" else None
            if fn in ("min", "max") and src is not None and not is_numeric(src):
                # The constants a variable over names takes (State orders them as clingo does).
                if src is not rel.domains[p]:
                    raise self.error(f"position {p + 1} of '{rel.name}' holds {rel.domains[p].name}, not the "
                                     f"constants of {src.name} that {fn} picks from", low.aggregate.span)
            elif fn in ("min", "max") and term[0] == "const":
                pass                        # (the constant's index there: _aggregated)
            elif fn in ("min", "max") and not is_numeric(rel.domains[p]):
                # Integers (`min(y + 1)`) where names are too: their indices there, as a computed
                # head argument's (State orders them as clingo does).
                values = self._integers_into(values, INTEGERS, rel.domains[p], low, p)
            elif not is_numeric(rel.domains[p]):
                raise self.error(f"position {p + 1} of '{rel.name}' {not_integers(rel.domains[p])}: "
                                 f"it cannot hold {fn}", low.aggregate.span)
            elif fn in ("min", "max", "avg"):
                # (A count or a sum is no value of the term: State grows the domain to hold it.)
                self.grow(rel.domains[p], xp.low(values), xp.high(values), low, p)
        rows = xp.stack(cols) if cols else xp.zeros(frame.n, 0)
        q = 0
        for p, (a, d) in enumerate(zip(low.head_args, rel.domains)):
            if a is None:
                continue
            # A variable that is an argument of an atom holds values of its domain already.
            if (a[0] != "var" or a[1] not in low.plain_vars) and is_numeric(d) and len(rows):
                self.grow(d, xp.low(rows[:, q]), xp.high(rows[:, q]), low, p)
            q += 1
        return rows, values

    def _head_constant(self, low, p, c, d):
        """The value a head's constant argument stores at position p (of domain d)."""
        if is_numeric(d):
            self.grow(d, c, c, low, p)
        v = encode(d, c)
        if v is None:
            raise self.error(f"{shown(c)} is not a constant of {d.name}", low.node.head.args[p].span)
        return v

    def _total_of_nothing(self, low):
        """What `count` or `sum` without grouping (every other head argument a constant) gives over a
        body with no bindings: one row of 0, as clingo's `#count{}` and `#sum{}`, else None.  (`min`
        and `max` give no row there: clingo's `#sup` and `#inf` are no constants of the language;
        `avg` none: it would divide by zero.)"""
        agg = low.aggregate
        if agg is None or agg.fn not in ("count", "sum") or \
                any(a is not None and a[0] not in ("const", "num") for a in low.head_args):
            return None
        xp, rel = self.xp, self.model.relations[low.head]
        # A whole row, as a rule without the aggregate gives (its 0 is no binding for count to count).
        cols = [xp.full(1, self._head_constant(low, p, 0 if a is None else a[1], d))
                for p, (a, d) in enumerate(zip(low.head_args, rel.domains))]
        return xp.stack(cols), None

    def _aggregated(self, low, frame, var_domains):
        """The values a head's aggregate reads, and the rows that define one: a variable over
        names (and integers) gives its indices to count, min and max, and its integers to sum and
        avg (a row holding a name there defines no value, as one dividing by zero: _head)."""
        xp, term, fn = self.xp, low.aggregate.term, low.aggregate.fn
        if term[0] == "const" and fn in ("min", "max"):
            # min(b) is b (clingo's #min{b : ...}): the constant's index at the head's position.
            d = self.model.relations[low.head].domains[low.aggregate.position]
            v = encode(d, term[1])
            if v is None:
                raise self.error(f"{shown(term[1])} is not a constant of {d.name}", low.aggregate.span)
            return xp.full(frame.n, v), None
        if term[0] == "const" and fn == "count":     # (count reads no value: Plan)
            return xp.zeros(frame.n), None
        if term[0] == "const":
            # sum(a) and avg(a) of a name or a string: no row defines a value, as clingo's #sum leaves
            # out an element that is no integer (a sum of 0 per group, no average).
            return xp.zeros(frame.n), xp.flags(frame.n, False)
        src = var_domains.get(term[1]) if term[0] == "var" else None
        if src is not None and not is_numeric(src):
            if fn in ("count", "min", "max"):
                return frame.columns[term[1]], None
            return integer_values(xp, frame.columns[term[1]], src)
        return evaluate(term, frame, None, var_domains)

    def _integers_into(self, col, src, d, low, p):
        """A variable that `P(x + 1)` binds holds integers; a head position of a domain of names
        and integers holds their indices there (a domain that grows takes in the new ones)."""
        have = {k for k in d.constants() if isinstance(k, int) and not isinstance(k, bool)}
        new = sorted(set(np.unique(self.xp.numpy(col)).tolist()) - have)
        if new and not d.grows:
            raise self.error(f"{new[0]} is not in domain {d.name} at position {p + 1} of '{low.head}'",
                             low.node.head.args[p].span)
        for k in new:
            d.add(k)
        return self.runner.cast(col, src, d)

    def grow(self, d, lo, hi, low, p):
        """Widens an undeclared integer domain to hold the values [lo, hi] computed into it."""
        if d.start <= lo and hi < d.stop:
            return
        if d.declared:
            bad = lo if lo < d.start else hi
            raise self.error(f"{bad} is outside domain {d.name} ({d.start}..{d.stop}) at position "
                             f"{p + 1} of '{low.head}'", low.node.head.args[p].span)
        if d.start == d.stop:
            d.start, d.stop = lo, hi + 1
        else:
            d.start, d.stop = min(d.start, lo), max(d.stop, hi + 1)

    # ---- queries --------------------------------------------------------------------------------
    def query(self, literals):
        """Rows of bindings (dicts, variables in order of appearance, sorted like the dense
        path's) or a bool, when the query reads a relation stored sparse, or binds an argument of a
        derived relation (demand.py derives only what it asks for); else None."""
        low = query_rule(literals)
        if low is None:
            return None
        atoms = low.atoms() + low.atoms(True)
        if any(a.name not in self.model.relations for a in atoms):
            return None             # a tensor read as an atom (`Big[x], Edge(x, y)?`): the dense path's
        meets = self._meets_domains(low)
        if not meets:
            rows = demand.answer(self, low)
            if rows is not None:
                return rows
        if not any(self.is_sparse(a.name) for a in atoms) and not meets and \
                self._round_cells(low) <= DENSE_CELLS:
            # (The dense path's product has an axis per variable: over large domains, tuples join.)
            return None
        for a in atoms:     # (first: computing one may grow a domain, where the plan encodes constants)
            self.rows(a.name)
        try:
            bound_order(low)
            plan = Plan(low, lambda n: self.model.relations[n].domains, self.size)
        except RuleError as err:
            raise self.error(err.message, err.span) from None
        return self.answers(low, plan, lambda step: self.rows(step.literal.name))

    def answers(self, low, plan, table_of, runner=None):
        """A query's bindings from its plan run on `table_of(step)`'s tuples (by `runner`, where the
        relations are not the program's): dicts of its head's variables (sorted by their values), or
        a bool for a query without variables."""
        names = [a[1] for a in low.head_args]
        try:
            frames = [f for f in (runner or self.runner).run(plan, table_of) if f.n]
        except IntegerOverflow as err:
            raise self.rt.budget.error(err.message, low.span) from None
        if not names:
            return bool(frames)
        if not frames:
            return []
        xp = self.xp
        rows = np.unique(np.concatenate([xp.numpy(xp.stack([f.columns[v] for v in names]))
                                         for f in frames]), axis=0)
        doms = [plan.var_domain.get(v) for v in names]
        out = []
        for row in rows.tolist():
            out.append({v: (x if d is None or d.kind == "range" else d.constants()[x])
                        for v, x, d in zip(names, row, doms)})
        return out

    def _meets_domains(self, low):
        """Whether a query's variable is read at positions of different domains, or compared with
        one of another domain (rules unify them; a query cannot), or with arithmetic where a
        domain holds names (`P(x), w == y + 1, w == x`): only the tuple engine translates between
        them (and rejects arithmetic on names)."""
        seen = {}
        for atom in low.atoms() + low.atoms(True):
            for a, d in zip(atom.args, self.model.relations[atom.name].domains):
                if a[0] == "var" and seen.setdefault(a[1], d) is not d:
                    return True
        for t in low.body:
            if not isinstance(t, Test):
                continue
            if t.left[0] == t.right[0] == "var" and seen.get(t.left[1]) is not seen.get(t.right[1]):
                return True
            if "op" in (t.left[0], t.right[0]) and any(
                    v in seen and not is_numeric(seen[v]) for v in variables(t.left) | variables(t.right)):
                return True
        return False

    # ---- explain --------------------------------------------------------------------------------
    def explain(self):
        lines = []
        for comp in self.model.order:
            if not all(m in self.model.relations for m in comp):
                continue
            storage, reason = self.storage(comp)
            lines.append(f"{', '.join(comp)}: {storage} ({reason})")
            if storage != "sparse":
                ran = self.rt.datalog.ran.get(tuple(comp))
                if ran is not None:
                    lines.append(f"  rounds: {ran}")
                continue
            recursive = self.split(comp)[1]
            if any(recursive.values()):
                native = self._native(comp, recursive) is not None
                if native and tuple(comp) in self.wide:
                    how = "semi-naive, in Python (too many distinct values for native keys)"
                elif native:
                    how = "native, linear recursion (each round joins the new tuples with its rules' " \
                          "other literals, joined once)"
                    if not all(T.radix_fits([s for _, s in self.extents(m)]) for m in comp):
                        how += ", on dictionary codes of the values present"
                else:
                    how = "semi-naive, in Python"
                lines.append("  rounds: " + how)
            for m in comp:
                for r in self.model.relations[m].rules:
                    low = self.lower(r)
                    plan = Plan(low, lambda n: self.model.relations[n].domains, self.size,
                                var_domain_of=self.var_domains(low))
                    order = []
                    for s in plan.steps:
                        if s.kind in ("atom", "not"):
                            keyed = f" on {len(s.keys)} key{'s' if len(s.keys) != 1 else ''}" \
                                if s.keys else " (scan)"
                            order.append(f"{'not ' if s.kind == 'not' else ''}{s.literal.name}{keyed}")
                        elif s.kind == "test":
                            order.append(f"filter {s.literal.op}")
                        else:
                            order.append(f"compute {s.literal[0]}")
                    lines.append(f"  line {r.span.line}: " + " -> ".join(order))
        if any(line.split(": ", 1)[1].startswith("sparse") for line in lines if not line.startswith(" ")):
            lines.append(f"sparse relations: {self.xp.where_held}")
        return "\n".join(lines)


def query_rule(literals):
    """A query as the tuple engine's rule: its body, its head the variables of its positive
    literals in order of appearance; None where it reads tensors (or values), which only the dense
    path reads."""
    low = Rule("?", [], None, [], literals[0].span)
    try:
        if not lower_body(literals, low):
            return None
    except RuleError:
        return None
    names = []
    for lit in low.body:
        if isinstance(lit, Atom) and lit.negated:
            continue
        for e in (lit.args if isinstance(lit, Atom) else (lit.left, lit.right)):
            names += [v for v in sorted(variables(e)) if v not in names and not v.startswith("_#")]
    low.head_args = [("var", v) for v in names]
    return low


def _const_key(a):
    if isinstance(a, N.Name):
        return a.key if a.key is not None else a.id
    if isinstance(a, N.Prefix):
        return -a.operand.value
    return a.value
