"""Definitions evaluated when read: the rules and equations that give a relation or tensor its
value, cached until a leaf they read (a given tensor, a global variable) changes; fixpoints of
recursive components.  Mixed into `Runtime`."""
from __future__ import annotations

import contextlib

from ..check.checker import _file, lattice as lattice_of
from ..check.strata import is_recursive
from ..engine import tl
from ..errors import warn_at
from ..logic import demand
from ..syntax import nodes as N
from .datalog import FixpointLimitWarning, _with_missing, facts_tensor
from .labelled import Labelled, is_tensor, project
from .placement import IDENTITY, PROJECTION, classify_lhs, extent, place


class Definitions:
    """Reading and evaluating definitions on the runtime's state (`self` is the `Runtime`)."""

    def facts(self, rel):
        t = self._facts.get(rel.name)
        if t is None or not self._fits(rel.name, t):
            t = self._facts[rel.name] = facts_tensor(rel)
        return t

    def _fits(self, name, t):
        """Whether a relation's tensor still has its domains' sizes: a rule that computes new
        integers grows their domain (a range may grow downwards, moving every index)."""
        rel = self.model.relations.get(name)
        return rel is None or tuple(t.shape) == tuple(d.size for d in rel.domains)

    def leaf_deps(self, name):
        """Leaves (given tensors and global variables) a definition reads, through other
        definitions and functions. Each definition's are kept, and a definition's are its own reads'
        (a post-order walk of the definitions it reads, their components taken together): a chain of
        n rules costs n steps, not n^2."""
        if name in self.deps:
            return self.deps[name]
        stack, entered = [name], set()
        while stack:
            n = stack[-1]
            if n in self.deps:
                stack.pop()
                continue
            comp = self.component.get(n, (n,))
            reads = {r for m in comp for r in self.direct_reads(m)}
            inner = [r for r in reads if not self._is_leaf(r) and r not in comp and r not in self.deps]
            if inner and n not in entered:
                entered.add(n)
                stack.extend(inner)
                continue
            if inner:  # a cycle the components do not know of: the plain walk of everything n reads
                out = self._leaf_walk(n)
            else:
                out = {r for r in reads if self._is_leaf(r)}
                for r in reads:
                    if not self._is_leaf(r) and r not in comp:
                        out |= self.deps[r]
            for m in comp:
                self.deps[m] = frozenset(out)
            stack.pop()
        return self.deps[name]

    def _is_leaf(self, name):
        info = self.model.tensors.get(name)
        return name in self.model.global_vars or (info is not None and not info.derived and
                                                  name not in self.model.relations)

    def _leaf_walk(self, name):
        out, seen, stack = set(), set(), [name]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            for r in self.direct_reads(n):
                if self._is_leaf(r):
                    out.add(r)
                else:
                    stack.append(r)
        return out

    def direct_reads(self, name):
        roots = []
        if name in self.model.relations:
            roots = [lit.expr for r in self.model.relations[name].rules for lit in r.body]
        elif name in self.model.tensors:
            for eq in self.model.tensors[name].equations:
                roots.append(eq.value)
                if isinstance(eq.target, N.Index):
                    roots += [i.expr for i in eq.target.groups[0]]
        out, seen_fns = set(), set()
        pending = [(roots, ())]      # nodes to walk, with the names local to them
        while pending:
            nodes, local_names = pending.pop()
            for root in nodes:
                for n in N.walk(root):
                    if isinstance(n, N.Name) and n.role == "value" and n.id not in local_names:
                        out.add(n.id)
                    elif isinstance(n, N.Call) and n.kind == "relation":
                        out.add(n.name)
                    elif isinstance(n, N.Call) and n.kind == "fn" and n.name not in seen_fns:
                        seen_fns.add(n.name)
                        fn = self.model.functions[n.name]
                        pending.append((fn.body, fn.local_names))
        return out

    def snapshot(self, comp):
        deps = set()
        for m in comp:
            deps |= self.leaf_deps(m)
        return tuple(sorted((d, self.versions.get(d, 0)) for d in deps))

    def derived(self, name):
        comp = self.component[name]
        if name in self.model.relations and self.logic.storage(comp)[0] == "sparse":
            return self.logic.dense(name)
        snap = self.snapshot(comp)
        hit = self.cached(name, snap)
        if hit is not None:
            return hit
        self.read_inputs(comp)
        if name in self.model.relations and self.logic.storage(comp)[0] == "sparse":
            return self.logic.dense(name)  # its domains grew past what a dense table holds
        self.defining += 1
        try:
            values = self.evaluate_component(comp)
        finally:
            self.defining -= 1
        for m, v in values.items():
            self.cache[m] = (v, snap)
        return values[name]

    def cached(self, name, snap=None):
        """The value of definition `name` computed already, while still current (the leaves it
        reads unchanged, its domains' sizes too); else None."""
        hit = self.cache.get(name)
        if hit is None or hit[1] != (self.snapshot(self.component[name]) if snap is None else snap):
            return None
        return hit[0] if self._fits(name, hit[0]) else None

    def evaluate_unread(self):
        """Evaluates, in dependency order, every rule and equation that nothing has read, so that
        its errors (shapes and values known only when it runs, the engine's refusals) are reported,
        located, as a read one's are."""
        for comp in self.model.order:
            for name in comp:
                if name in self.cache or name in self.logic.results or name in self.logic.demanded:
                    continue        # (a relation a query derived the asked part of: demand.py)
                if name in self.model.relations and self.model.relations[name].rules:
                    self.logic.rows(name) if self.relation_is_sparse(name) else self.derived(name)
                elif name in self.model.tensors and self.model.tensors[name].derived:
                    self.derived(name)

    def read_inputs(self, comp):
        """Evaluates the relations a component reads, first: one may compute integers that grow a domain, and
        the dense frames size their axes from the domains once (which may also make the component sparse).  A
        relation its rules read only in part (logic/demand.py) computes no integer: what that part reads whole
        is evaluated instead."""
        part, whole = demand.read_in_part(self.logic, comp)
        for r in sorted(({r for m in comp for r in self.direct_reads(m)} - set(comp) - part) | whole):
            if r in self.model.relations:
                self.logic.rows(r) if self.logic.is_sparse(r) else self.derived(r)

    def relation_is_sparse(self, name):
        """Whether the tuple engine holds relation `name`, once its inputs (which may grow its domains) ran."""
        comp = self.component[name]
        self.read_inputs(comp)
        return self.logic.storage(comp)[0] == "sparse"

    def iterating_lattice(self, name):
        """The identity of tensor `name`'s min/max lattice while its own fixpoint iterates (None
        otherwise): its cells not reached yet, and its reads outside its axes (`D[t - 1, r]` at t =
        0), are that identity, and a product of it with 0 (inf * 0, nan) is too, as a semiring's
        zero annihilates."""
        info = self.model.tensors.get(name)
        if info is None or info.lattice is None or not any(name in v for v in self._scc):
            return None
        return IDENTITY[info.lattice]

    @contextlib.contextmanager
    def scc_scope(self, values):
        self._scc.append(values)
        try:
            yield
        finally:
            self._scc.pop()

    def evaluate_component(self, comp):
        recursive = is_recursive(self.model.graph, comp)
        if not recursive:
            name = comp[0]
            if name in self.model.relations:
                return {name: self.datalog.relation(self.model.relations[name])}
            return {name: self.equations_value(self.model.tensors[name])}
        if all(m in self.model.relations for m in comp):
            return self.datalog.fixpoint(comp, self.max_iterations)
        return self.naive_fixpoint(comp)

    def naive_fixpoint(self, comp):
        """Mutually recursive equations (and rules): iterate until nothing changes, from zero, or
        from the identity of a tensor's min/max lattice (+inf or -inf: nothing reached yet)."""
        values = {}
        for m in comp:
            start = 0.0
            if m in self.model.relations:
                shape = tuple(d.size for d in self.model.relations[m].domains)
            else:
                info = self.model.tensors[m]
                shape = self.declared_shape(info) or info.static_shape
                if shape is None or any(s is None for s in shape):
                    raise self.error(f"'{m}' is defined recursively: declare its shape, like "
                                     f"tensor {m}: float16[...]", info.equations[0].span)
                start = IDENTITY.get(info.lattice, 0.0)
            values[m] = tl.full(tuple(shape), start, dtype=tl.float16)
        with self.scc_scope(values):
            for _ in range(self.max_iterations):
                self.budget.tick(self.model.tensors[comp[0]].span if comp[0] in self.model.tensors
                                 else self.model.relations[comp[0]].span)
                new = {}
                for m in comp:
                    if m in self.model.relations:
                        new[m] = self.datalog.relation(self.model.relations[m])
                    else:
                        new[m] = self.equations_value(self.model.tensors[m])
                same = all(_same(new[m], values[m]) for m in comp)
                values.update(new)
                if same:
                    break
            else:
                self.warn_limit(comp, self.max_iterations)
        return dict(values)

    def warn_limit(self, members, limit):
        """The warning names the program's file and the line of the component's first rule or
        equation (Python's default would name this module's line, which tells a user nothing)."""
        name = members[0]
        if name in self.model.relations:
            rel = self.model.relations[name]
            span = rel.rules[0].span if rel.rules else rel.span
        else:
            span = self.model.tensors[name].equations[0].span
        file = _file(span, self.model.filename)
        warn_at(FixpointLimitWarning, f"fixpoint of {', '.join(members)} not reached after {limit} iterations "
                f"(the iteration limit; raise it with --max-iterations)", file, span, self.model.sources.get(file))

    def equations_value(self, info):
        """The sum of the contributions of every equation with this left side."""
        parts = []
        for eq in info.equations:
            with self.at(eq.span):
                parts.append(self.equation_part(eq, info, None))
        with self.at(info.equations[0].span):
            return self.combine(info, parts)

    def equation_part(self, eq, info, fr_locals, local_names=None):
        """Evaluates one equation's right side and projects it: returns (labelled result, axes,
        frame) for `combine`."""
        ev = self.evaluator
        items = eq.target.groups[0] if isinstance(eq.target, N.Index) else []
        declared = self.declared_shape(info) if info is not None else None
        fr = ev.frame_for(eq.value, self.model.plans[eq], items, locals=fr_locals, local_names=local_names,
                          declared=declared, shifts_read_in_part=True)
        r = ev.eval(eq.value, fr)
        zero = self.iterating_lattice(info.name) if info is not None else None
        if zero is not None and isinstance(r, Labelled) and r.t.is_floating_point():
            r = Labelled(tl.where(tl.isnan(r.t), tl.full((), zero, dtype=r.t.dtype), r.t), r.labels)
        if not isinstance(r, Labelled):
            if not items and eq.op == "=":
                return (r, None, fr, eq)
            if not is_tensor(r):
                r = self.as_dtype(r, tl.float16, eq.value.span, "the right side")
            if r.ndim > 0:
                if items:
                    raise self.error("a tensor in index notation needs its indices, like X[i]",
                                     eq.value.span)
                r = Labelled(r, [f"#all{k}" for k in range(r.ndim)])
            else:
                r = Labelled(r, ())
        r = project(r, fr.plan.top | {l for l in r.labels if l.startswith("#all")}, PROJECTION[eq.op])
        domains = getattr(info, "axis_domains", None) if info is not None else None
        axes = classify_lhs(items, domains, lambda e, d: ev.index_value(e, d, fr))
        return (r, axes, fr, eq)

    def combine(self, info, parts, name=None):
        name = name or info.name
        plain = [p for p in parts if p[1] is None]
        if plain:
            if len(parts) == 1:
                return self.as_float(plain[0][0], plain[0][3].value.span)
            total = None
            for v, _, _, eq in parts:
                v = self.as_float(v.t if isinstance(v, Labelled) else v, eq.value.span)
                total = v if total is None else total + v
            return total
        declared = self.declared_shape(info) if info is not None else None
        n_axes = len(parts[0][1])
        shape = []
        for k in range(n_axes):
            if declared is not None and declared[k] is not None:
                shape.append(declared[k])
                continue
            size = 0
            for r, axes, fr, eq in parts:
                sizes = {v: s[0] for v, s in fr.env.sizes.items()}
                e = extent(axes[k], sizes)
                if e is None:
                    g = self.evaluator.grid(axes[k].expr, fr)
                    e = int(g.values.max()) + 1 if g.values.size else 0
                size = max(size, e)
            shape.append(size)
        lattice = lattice_of([p[3] for p in parts])
        total = None
        for r, axes, fr, eq in parts:
            grids = {k: self.evaluator.grid(a.expr, fr) for k, a in enumerate(axes) if a.kind == "general"}
            r = _with_missing(r, axes, {v: s[0] for v, s in fr.env.sizes.items()})
            if lattice is not None and not r.t.is_floating_point():     # (`D[i, 0] = i`: ±inf fills it)
                r = Labelled(r.t.to(tl.float16), r.labels)
            for a, item in zip(axes, eq.target.groups[0] if isinstance(eq.target, N.Index) else []):
                if a.kind == "const" and not 0 <= a.c < shape[axes.index(a)]:
                    raise self.error(f"index {a.c} is outside '{name}' of shape {list(shape)}", item.span)
            part = place(r, axes, tuple(shape), eq.op, grids, IDENTITY.get(lattice, 0.0)).t
            total = part if total is None else tl.minimum(total, part) if lattice == "min" else \
                tl.maximum(total, part) if lattice == "max" else total + part
        return total

    def as_float(self, v, span):
        if is_tensor(v):
            return v
        if isinstance(v, (bool, int, float)):
            return tl.full((), float(v), dtype=tl.float16)
        if isinstance(v, list):
            return tl.tensor(v, dtype=tl.float16)
        raise self.error(f"an equation must give a tensor or a number, not {type(v).__name__}", span)


def _same(a, b):
    """Whether a fixpoint's round changed nothing: equal shapes and cells, infinities and nan
    included (inf - inf is nan, so a difference would never settle)."""
    if tuple(a.shape) != tuple(b.shape):
        return False
    return bool(tl.logical_or(tl.eq(a, b), tl.logical_and(tl.isnan(a), tl.isnan(b))).all().item())
