"""Relations derived on demand (magic sets): a query that binds arguments, `Path(1, y)?`, derives only
the tuples of Path that start at 1, work proportional to what is reachable from 1, where evaluating
the whole relation first costs what every node reaches; and a rule reads a relation in part where
the atoms joined before bind its arguments: `From(s, y) <- Start(s), Path(s, y)` derives Path only
from the s in Start.

The query's body (or the rule's) is rewritten (Bancilhon, Maier, Sagiv and Ullman's magic sets, the
bindings passed sideways from the atoms joined first).  An atom of a derived relation read with some
positions bound becomes an atom of an *adorned* relation `P^bf` (b: bound, f: free), P's tuples
whose bound positions were asked for; a *magic* relation `magic P^bf` holds those requests.  A rule
`P(x, z) <- B1, ..., Bn` becomes `P^bf(x, z) <- magic P^bf(x), B1', ..., Bn'` (its atoms taken in
the order that binds the most first), and every adorned `Bi'` asks for its bound positions with a
rule `magic Bi'(...) <- magic P^bf(x), B1', ..., B(i-1)'`; P's facts join the requests too.  The
query's constants are the first requests.  A rule whose body holds an atom of its own adorned
relation bound by the same arguments needs no `magic` atom (every tuple there was asked for):
`Path^bf(x, z) <- Path^bf(x, y), Edge(y, z)` stays linear.

The rewritten relations run in the order of their dependencies, one strongly connected component
at a time, as the program's do (engine.py): a component whose recursion is linear in the native
loop (linear.py), the others in semi-naive rounds on the tuple engine (body.py, state.py); every
other relation is read whole, as the full evaluation holds it.

Adorned are only positive atoms of relations whose rules rewrite exactly: atoms of variables and
constants, comparisons and negations, no aggregate and no computed value in the head (a value
computed from part of a relation could grow a domain differently).  A negated atom, a relation
held already, and everything outside that fragment are read whole, so that the answers are the
full evaluation's.  A rule of the relations being evaluated reads a relation in part only where
every positive atom of it in their rules is bound by atoms outside them (the component's own
atoms come last: their tuples are not known before its fixpoint), and no negated one reads it: the
part holds every tuple those joins can meet, so they, their aggregates and their negations give
what the whole relation would.  A query that binds nothing (`Path(x, y)?`) is not rewritten (the
rules of its relation may be); one whose rounds pass the iteration limit is answered by the full
evaluation instead (which warns if it passes it too).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..check.strata import Graph, components
from . import linear
from . import tuples as T
from .body import Plan, Runner, domains_differ, encode, extent
from .rules import Atom, Rule, RuleError, Test, bound_order, variables
from .state import State

# Demand is abandoned for the full evaluation once its Python rounds have derived this many times the
# tuples of the relations it reads (and at least FLOOR): bound arguments that restrict little, as in
# `Path(x, 3)?` through the non-linear `Path(x, z) <- Path(x, y), Path(y, z)` (which asks for the
# ancestors of every ancestor of 3), would otherwise cost more than the whole relation, which the
# engine computes natively.  A query that restricts does far less: `Path(1, y)?` derives a tuple per
# edge leaving what 1 reaches.  (The native rounds of a linear recursion cost what the full
# evaluation's would: their tuples are a part of its.)
ABANDON_FACTOR = 4
ABANDON_FLOOR = 1 << 16


class _Abandoned(Exception):
    pass


def answer(logic, query):
    """The rows (or the bool) of a lowered query (engine.query_rule) computed on demand; None when
    it asks for no bound argument of a relation that rewrites exactly, or when the full evaluation
    must answer it."""
    try:
        bound_order(query)
    except RuleError:
        return None             # (the full evaluation reports it, located)
    for atom in query.atoms() + query.atoms(True):
        doms = logic.model.relations[atom.name].domains
        if any(a[0] in ("const", "num") and encode(d, a[1]) is None for a, d in zip(atom.args, doms)):
            return None         # (the dense path refuses a constant outside the domain, located)
    demand = Demand(logic)
    body = demand.rewrite(query.body)
    if body is None:
        return None
    rewritten = Rule("?", query.head_args, None, body, query.span, query.node)
    try:
        tables = demand.evaluate()
        if tables is None:
            return None
        plan = Plan(rewritten, demand.domains, demand.size)
    except (RuleError, _Abandoned):
        return None
    rows = logic.answers(rewritten, plan, lambda step: demand.table(step.literal.name, tables), demand.runner)
    logic.demanded |= demand.adorned_relations
    return rows


def restriction(logic, comp):
    """The rewrite that derives, of the relations a component's rules read, the part they can meet
    (`Demand.parts` names them), not yet evaluated; None where no read is bound so (see the module's
    doc)."""
    rels = logic.model.relations
    if not all(m in rels for m in comp):
        return None
    rules = [logic.lower(r) for m in comp for r in rels[m].rules]
    if any(low is None or any(a.name not in rels for a in low.atoms() + low.atoms(True)) for low in rules):
        return None             # (a rule reads tensors: the dense path runs it)
    members, demand = frozenset(comp), Demand(logic)
    patterns, whole = {}, set()
    for low in rules:
        for atom, pattern in demand.sideways(low.body, {}, members):
            if "b" in pattern:
                patterns.setdefault(atom.name, set()).add(pattern)
            else:
                whole.add(atom.name)
        whole |= {a.name for a in low.atoms(True)}
    parts = {n for n in patterns if n not in whole and demand.exact(n)}
    if not parts:
        return None
    for low in rules:
        demand.rewrite(low.body, low, lambda name: name in parts, members)
    demand.parts = {n: sorted(f"{n}^{p}" for p in patterns[n]) for n in sorted(parts)}
    return demand


def restrict(logic, comp):
    """{relation: its part} for the relations a component's rules read in part (`restriction`); empty
    where none is, or where the full evaluation must give them (past the iteration limit or the
    allowance)."""
    demand = restriction(logic, comp)
    if demand is None:
        return {}
    try:
        tables = demand.evaluate()
    except (RuleError, _Abandoned):
        return {}
    if tables is None:
        return {}
    logic.demanded |= demand.adorned_relations
    xp, out = logic.xp, {}
    for name, adorned in demand.parts.items():
        if len(adorned) == 1:
            out[name] = tables[adorned[0]]
        else:
            ext = logic.extents(name)
            out[name] = T.unique_rows(xp, xp.cat([tables[a] for a in adorned]),
                                      [lo for lo, _ in ext], [s for _, s in ext])
    return out


def read_in_part(logic, comp):
    """(the relations a component's rules read in part, the relations that their rewrite reads
    whole): what evaluating the component evaluates first."""
    demand = restriction(logic, comp)
    if demand is None:
        return set(), set()
    return set(demand.parts), {n for n in demand.read_whole() if n in logic.model.relations}


def _bound(arg, bound):
    return arg[0] in ("const", "num") or (arg[0] == "var" and arg[1] in bound)


class Demand:
    """The rewrite of one query, or of the reads of one component's rules, and its evaluation.  It
    is the scope linear.py reads relations through."""

    def __init__(self, logic):
        self.logic, self.model = logic, logic.model
        self.relations = {}         # relation of the rewrite (adorned, magic, facts) -> domains
        self.derived = []           # the adorned and magic relations: the rounds derive them
        self.rules = []             # rewritten rules
        self.origin = {}            # id(rewritten rule) -> the program's rule (errors, domains)
        self.seeds = {}             # magic relation -> rows the query's constants ask for
        self.tables = {}            # "P facts" -> P's facts; the relations read whole -> their tuples
        self.plans = {}             # (id(rewritten rule), delta atom or "linear") -> its plan
        self.adorned_relations = set()
        self.parts = {}             # relation a component reads in part -> its adorned relations
        self._pending = []
        self._exact = {}
        self.allowance = 0          # tuples the Python rounds may still derive (evaluate sets it)
        self.runner = Runner(self.extents, logic.xp, lambda plan, rows, exact: logic.planned(
            plan, rows, exact, self.origin.get(id(plan.rule))))

    # ---- the rewrite ----------------------------------------------------------------------------
    def rewrite(self, body, origin=None, adorn=None, last=frozenset()):
        """`body` with its adorned atoms (`adorn(name)`: whether to adorn an atom of relation `name`
        read with a bound position; by default where it rewrites exactly), the rules of every
        adorned relation rewritten; None when no atom is adorned.  Atoms of relations in `last`
        come after all others and bind nothing for them."""
        out = self._adorn_body(body, {}, None, origin, adorn or self.exact, last)
        if not self._pending:
            return None
        while self._pending:
            self._adorn_relation(*self._pending.pop())
        return out

    def exact(self, name) -> bool:
        """Whether relation `name`'s rules rewrite exactly (see the module's doc), and it is not
        held already (reading it whole then costs nothing more)."""
        if name not in self._exact:
            self._exact[name] = self._rewrites(name) and not self.logic.computed(name)
        return self._exact[name]

    def _rewrites(self, name):
        rel = self.model.relations[name]
        if not rel.rules:
            return False
        for r in rel.rules:
            low = self.logic.lower(r)
            if low is None or low.aggregate is not None:
                return False
            where = {}              # variable -> a domain it is read in
            for a, d in zip(low.head_args, rel.domains):
                if a[0] == "op" or (a[0] == "var" and a[1] not in low.plain_vars) or \
                        (a[0] in ("const", "num") and encode(d, a[1]) is None):
                    return False
                if a[0] == "var":
                    where.setdefault(a[1], d)
            for atom in low.atoms() + low.atoms(True):
                if atom.name not in self.model.relations:
                    return False
                for a, d in zip(atom.args, self.model.relations[atom.name].domains):
                    if a[0] == "op":
                        return False
                    # Requests carry a variable's values from one atom to another unconverted.
                    if a[0] == "var" and not atom.negated and domains_differ(where.setdefault(a[1], d), d):
                        return False
        return True

    def _adorned(self, name, pattern):
        """The adorned relation of `name` for `pattern`, queued for its rules' rewrite once."""
        adorned = f"{name}^{pattern}"
        if adorned not in self.relations:
            doms = self.model.relations[name].domains
            self.relations[adorned] = list(doms)
            self.relations[_magic(adorned)] = [d for d, c in zip(doms, pattern) if c == "b"]
            self.derived += [adorned, _magic(adorned)]
            self.adorned_relations.add(name)
            self._pending.append((name, pattern))
        return adorned

    def sideways(self, body, bound, last=frozenset()):
        """The positive atoms of a body in the order that binds the most first (sideways information
        passing), those of relations in `last` left out, each with its pattern: b where a constant
        or a variable bound before it (in the same kind of domain: requests carry values
        unconverted) stands.  `bound`: variable -> its domain, bound before the body."""
        bound, out = dict(bound), []
        waiting = [lit for lit in body if isinstance(lit, Atom) and not lit.negated and lit.name not in last]
        while waiting:
            atom = max(waiting, key=lambda a: sum(_bound(x, bound) for x in a.args))
            waiting.remove(atom)
            doms = self.domains(atom.name)
            out.append((atom, "".join("b" if _bound(x, bound) and not (x[0] == "var" and domains_differ(bound[x[1]], d))
                                      else "f" for x, d in zip(atom.args, doms))))
            for x, d in zip(atom.args, doms):
                if x[0] == "var":
                    bound.setdefault(x[1], d)
        return out

    def _adorn_body(self, body, bound, guard, origin, adorn, last=frozenset()):
        """`body` with its atoms of derived relations read with bound positions made adorned
        atoms, positive atoms first in the order `sideways` gives, the others after (the plan orders
        them anyway); each adorned atom's request becomes a rule of `guard` and the atoms before it."""
        known = set(bound)
        chosen = [guard] if guard is not None else []
        for atom, pattern in self.sideways(body, bound, last):
            if "b" in pattern and adorn(atom.name):
                adorned = self._adorned(atom.name, pattern)
                asked = [x for x, c in zip(atom.args, pattern) if c == "b"]
                tests = [t for t in body if isinstance(t, Test) and variables(t.left) | variables(t.right) <= known]
                self._ask(Rule(_magic(adorned), asked, None, chosen + tests, atom.span,
                               origin.node if origin is not None else None), origin)
                atom = dataclasses.replace(atom, name=adorned)
            chosen.append(atom)
            known |= {x[1] for x in atom.args if x[0] == "var"}
        return chosen + [lit for lit in body if not (isinstance(lit, Atom) and not lit.negated and lit.name not in last)]

    def _ask(self, rule, origin):
        """Adds a request: a seed when nothing precedes it (the query's constants), else a rule. A
        constant outside its domain asks for nothing (no tuple holds it)."""
        doms = self.relations[rule.head]
        if any(a[0] != "var" and encode(d, a[1]) is None for a, d in zip(rule.head_args, doms)):
            return
        if not rule.body:
            self.seeds.setdefault(rule.head, []).append([encode(d, a[1]) for a, d in zip(rule.head_args, doms)])
            return
        only = rule.body[0] if len(rule.body) == 1 else None
        if not (isinstance(only, Atom) and only.name == rule.head and only.args == rule.head_args):
            self._add(rule, origin)         # (`magic P(x) <- magic P(x)` asks nothing new)

    def _add(self, rule, origin):
        self.rules.append(rule)
        self.origin[id(rule)] = origin if origin is not None else rule

    def _adorn_relation(self, name, pattern):
        rel = self.model.relations[name]
        adorned = f"{name}^{pattern}"
        for r in rel.rules:
            low = self.logic.lower(r)
            asked = [a for a, c in zip(low.head_args, pattern) if c == "b"]
            guard = Atom(_magic(adorned), asked, False, low.span)
            bound = {a[1]: d for a, d, c in zip(low.head_args, rel.domains, pattern) if c == "b" and a[0] == "var"}
            body = self._adorn_body(low.body, bound, guard, low, self.exact)
            if any(isinstance(lit, Atom) and lit.name == adorned and
                   [a for a, c in zip(lit.args, pattern) if c == "b"] == asked for lit in body[1:]):
                body = body[1:]     # (that atom's tuples were all asked for: the guard holds)
            self._add(Rule(adorned, low.head_args, None, body, low.span, low.node), low)
        facts = self.logic.facts(name)
        if len(facts):
            table = f"{name} facts"
            self.relations[table], self.tables[table] = list(rel.domains), facts
            args = [("var", f"_#fact{k}") for k in range(rel.arity)]
            guard = Atom(_magic(adorned), [a for a, c in zip(args, pattern) if c == "b"], False, rel.span)
            self._add(Rule(adorned, args, None, [guard, Atom(table, args, False, rel.span)], rel.span),
                      Rule(name, args, None, [], rel.span))

    # ---- the scope (linear.py) ------------------------------------------------------------------
    def domains(self, name):
        return self.relations[name] if name in self.relations else self.model.relations[name].domains

    def extents(self, name):
        return [extent(d) for d in self.domains(name)]

    def size(self, name, delta):
        """The planner's estimate: the rewrite's relations are taken as small (they hold what was
        asked for), the others as the engine knows them."""
        if delta or name in self.derived:
            return 0
        return len(self.tables[name]) if name in self.tables else self.logic.size(name, False)

    def var_domains(self, rule):
        return self.logic.var_domains(self.origin[id(rule)])

    # ---- evaluation -----------------------------------------------------------------------------
    def table(self, name, tables):
        """A relation's tuples: the rewrite's from `tables`, P's facts, or a relation read whole
        (fetched once: a dense one's tuples are unravelled at each `rows`, and the runner keeps
        its sorted indexes for a table it has seen)."""
        if name in tables:
            return tables[name]
        if name not in self.tables:
            self.tables[name] = self.logic.rows(name)
        return self.tables[name]

    def read_whole(self):
        """The relations the rewritten rules read whole (and P's facts)."""
        return {a.name for rule in self.rules for a in rule.atoms() + rule.atoms(True) if a.name not in self.derived}

    def evaluate(self):
        """{relation of the rewrite: its tuples} at the fixpoint; None past the iteration limit.
        Raises RuleError where a rewritten rule cannot be planned, _Abandoned past the allowance."""
        # The relations read whole are evaluated (in whichever engine holds them) before the plans
        # are made, since one may grow a domain; their sizes give the allowance.
        self.allowance = ABANDON_FLOOR + ABANDON_FACTOR * sum(len(self.table(n, {})) for n in sorted(self.read_whole()))
        graph = Graph()
        for n in self.derived:
            graph.add_node(n)
        for rule in self.rules:
            for a in rule.atoms():
                if a.name in graph.edges:
                    graph.add(rule.head, a.name)
        tables = {}
        for comp in components(graph):      # (each after those it reads)
            out = self._fixpoint(comp, tables)
            if out is None:
                return None
            tables.update(out)
        return tables

    def _fixpoint(self, comp, tables):
        """{relation: its tuples} of one component of the rewrite, the ones before it in `tables`;
        None past the iteration limit."""
        logic, xp, rt = self.logic, self.logic.xp, self.logic.rt
        members = set(comp)
        recursive = {n: [] for n in comp}
        base = {n: [] for n in comp}
        for rule in self.rules:
            if rule.head in members:
                (recursive if any(a.name in members for a in rule.atoms()) else base)[rule.head].append(rule)

        def read(name):
            return self.table(name, tables)

        states = {}
        for n in comp:
            states[n] = State(logic, n, [], len(self.relations[n]), (lambda n=n: self.extents(n)), bitmap=False)
            seeds = np.array(self.seeds.get(n, []), dtype=np.int64).reshape(-1, len(self.relations[n]))
            states[n].start([self._derive(r, self._plan(r, None), read) for r in base[n]], facts=xp.asarray(seeds))
        if not any(recursive.values()):
            return {n: s.full() for n, s in states.items()}
        span = self.rules[0].span
        native = linear.native_rules(self, comp, recursive)
        if native is not None:
            out = linear.run(logic, self, comp, states, native, read, span)
            if out is not None:
                return out[0] if out[1] else None
        rounds = 0
        while any(len(s.delta) for s in states.values()):
            if rounds >= rt.max_iterations:
                return None
            rounds += 1
            rt.budget.tick(span)
            deltas = {n: s.delta for n, s in states.items()}
            full = {**tables, **{n: s.full() for n, s in states.items()}}
            produced = {n: [] for n in comp}
            for n in comp:
                for rule in recursive[n]:
                    for i, lit in enumerate(rule.body):
                        if isinstance(lit, Atom) and not lit.negated and lit.name in members and len(deltas[lit.name]):
                            produced[n].append(self._derive(rule, self._plan(rule, i),
                                                            lambda name: self.table(name, full), deltas))
            for n, state in states.items():
                state.advance(produced[n])
        return {n: s.full() for n, s in states.items()}

    def _plan(self, rule, delta_index):
        key = (id(rule), delta_index)
        if key not in self.plans:
            self.plans[key] = Plan(rule, self.domains, self.size, delta_index, self.var_domains(rule))
        return self.plans[key]

    def _derive(self, rule, plan, read, deltas=None):
        """The head tuples one rewritten rule derives, its delta atom reading `deltas`: (rows, None)
        as State takes them."""
        logic, xp = self.logic, self.logic.xp

        def table_of(step):
            return deltas[step.literal.name] if step.delta else read(step.literal.name)

        doms, parts = self.relations[rule.head], []
        for frame in self.runner.run(plan, table_of):
            if frame.n:
                parts.append(xp.stack([frame.columns[a[1]] if a[0] == "var" else xp.full(frame.n, encode(d, a[1]))
                                       for a, d in zip(rule.head_args, doms)]))
                logic.tuples_derived += frame.n
                self.allowance -= frame.n
                if self.allowance < 0:
                    raise _Abandoned()
                logic.held(self.origin[id(rule)], sum(len(p) for p in parts))
            logic.rt.budget.check_time(rule.span)
        rows = xp.cat(parts) if len(parts) > 1 else parts[0] if parts else xp.zeros(0, len(doms))
        return rows, None


def _magic(adorned):
    return f"magic {adorned}"
