"""Queries that bind arguments, answered on demand (magic sets): `Path(1, y)?` derives only the
tuples of Path that start at 1, work proportional to what is reachable from 1, where evaluating the
whole relation first costs what every node reaches.

The query's body is rewritten (Bancilhon, Maier, Sagiv and Ullman's magic sets, the bindings passed
sideways from the atoms joined first).  An atom of a derived relation read with some positions
bound becomes an atom of an *adorned* relation `P^bf` (b: bound, f: free), P's tuples whose bound
positions were asked for; a *magic* relation `magic P^bf` holds those requests.  A rule
`P(x, z) <- B1, ..., Bn` becomes `P^bf(x, z) <- magic P^bf(x), B1', ..., Bn'` (its atoms taken in
the order that binds the most first), and every adorned `Bi'` asks for its bound positions with a
rule `magic Bi'(...) <- magic P^bf(x), B1', ..., B(i-1)'`; P's facts join the requests too.  The
query's constants are the first requests.  The rewritten rules run semi-naively on the tuple engine
(body.py, state.py), reading every other relation whole, as the full evaluation holds it.

Adorned are only positive atoms of relations whose rules rewrite exactly: atoms of variables and
constants, comparisons and negations, no aggregate and no computed value in the head (a value
computed from part of a relation could grow a domain differently).  A negated atom, a relation
held already, and everything outside that fragment are read whole, so that the answers are the
full evaluation's.  A query that binds nothing (`Path(x, y)?`) is not rewritten; one whose rounds
pass the iteration limit is answered by the full evaluation instead (which warns if it passes it too).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .body import Plan, Runner, domains_differ, encode, extent
from .rules import Atom, Rule, RuleError, Test, bound_order, variables
from .state import State

# Demand is abandoned for the full evaluation once the rewrite has derived this many times the tuples
# of the relations it reads (and at least FLOOR): bound arguments that restrict little, as in
# `Path(x, 3)?` through the left-linear `Path(x, z) <- Path(x, y), Edge(y, z)` (which asks for the
# ancestors of every ancestor of 3), would otherwise cost more than the whole relation, which the
# engine computes natively.  A query that restricts does far less: `Path(1, y)?` derives a tuple per
# edge leaving what 1 reaches.
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
        plan = Plan(rewritten, demand.domains_of, demand.size)
    except (RuleError, _Abandoned):
        return None
    rows = logic.answers(rewritten, plan, lambda step: demand.table(step.literal.name, tables), demand.runner)
    logic.demanded |= demand.adorned_relations
    return rows


def _bound(arg, bound):
    return arg[0] in ("const", "num") or (arg[0] == "var" and arg[1] in bound)


class Demand:
    """The rewrite of one query and its evaluation."""

    def __init__(self, logic):
        self.logic, self.model = logic, logic.model
        self.domains = {}           # relation of the rewrite (adorned, magic, facts) -> domains
        self.derived = []           # the adorned and magic relations: the rounds derive them
        self.rules = []             # rewritten rules
        self.origin = {}            # id(rewritten rule) -> the program's rule (errors, domains)
        self.seeds = {}             # magic relation -> rows the query's constants ask for
        self.tables = {}            # "P facts" -> P's facts; the relations read whole -> their tuples
        self.adorned_relations = set()
        self._pending = []
        self._exact = {}
        self.allowance = 0          # tuples the rewrite may still derive (evaluate sets it)
        self.runner = Runner(self.extents, logic.xp, lambda plan, rows, exact: logic.planned(
            plan, rows, exact, self.origin.get(id(plan.rule))))

    # ---- the rewrite ----------------------------------------------------------------------------
    def rewrite(self, body):
        """The query's body with its adorned atoms, the rules of every adorned relation rewritten;
        None when no atom is adorned."""
        out = self._adorn_body(body, set(), None, None)
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
        if adorned not in self.domains:
            doms = self.model.relations[name].domains
            self.domains[adorned] = list(doms)
            self.domains[_magic(adorned)] = [d for d, c in zip(doms, pattern) if c == "b"]
            self.derived += [adorned, _magic(adorned)]
            self.adorned_relations.add(name)
            self._pending.append((name, pattern))
        return adorned

    def _adorn_body(self, body, bound, guard, origin):
        """`body` with its atoms of derived relations read with bound positions made adorned
        atoms, positive atoms first in the order that binds the most (sideways information
        passing), tests and negations after (the plan orders them anyway); each adorned atom's
        request becomes a rule of `guard` and the atoms before it."""
        bound = set(bound)
        chosen = [guard] if guard is not None else []
        waiting = [lit for lit in body if isinstance(lit, Atom) and not lit.negated]
        while waiting:
            atom = max(waiting, key=lambda a: sum(_bound(x, bound) for x in a.args))
            waiting.remove(atom)
            pattern = "".join("b" if _bound(x, bound) else "f" for x in atom.args)
            if "b" in pattern and self.exact(atom.name):
                adorned = self._adorned(atom.name, pattern)
                asked = [x for x, c in zip(atom.args, pattern) if c == "b"]
                tests = [t for t in body if isinstance(t, Test) and variables(t.left) | variables(t.right) <= bound]
                self._ask(Rule(_magic(adorned), asked, None, chosen + tests, atom.span,
                               origin.node if origin is not None else None), origin)
                atom = dataclasses.replace(atom, name=adorned)
            chosen.append(atom)
            bound |= {x[1] for x in atom.args if x[0] == "var"}
        return chosen + [lit for lit in body if not (isinstance(lit, Atom) and not lit.negated)]

    def _ask(self, rule, origin):
        """Adds a request: a seed when nothing precedes it (the query's constants), else a rule. A
        constant outside its domain asks for nothing (no tuple holds it)."""
        doms = self.domains[rule.head]
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
            body = self._adorn_body(low.body, set().union(*map(variables, asked)), guard, low)
            self._add(Rule(adorned, low.head_args, None, body, low.span, low.node), low)
        facts = self.logic.facts(name)
        if len(facts):
            table = f"{name} facts"
            self.domains[table], self.tables[table] = list(rel.domains), facts
            args = [("var", f"_#fact{k}") for k in range(rel.arity)]
            guard = Atom(_magic(adorned), [a for a, c in zip(args, pattern) if c == "b"], False, rel.span)
            self._add(Rule(adorned, args, None, [guard, Atom(table, args, False, rel.span)], rel.span),
                      Rule(name, args, None, [], rel.span))

    # ---- evaluation -----------------------------------------------------------------------------
    def domains_of(self, name):
        return self.domains[name] if name in self.domains else self.model.relations[name].domains

    def extents(self, name):
        return [extent(d) for d in self.domains_of(name)]

    def size(self, name, delta):
        """The planner's estimate: the rewrite's relations are taken as small (they hold what was
        asked for), the others as the engine knows them."""
        if delta or name in self.derived:
            return 0
        return len(self.tables[name]) if name in self.tables else self.logic.size(name, False)

    def table(self, name, tables):
        """A relation's tuples: the rewrite's from `tables`, P's facts, or a relation read whole
        (fetched once: a dense one's tuples are unravelled at each `rows`, and the runner keeps
        its sorted indexes for a table it has seen)."""
        if name in tables:
            return tables[name]
        if name not in self.tables:
            self.tables[name] = self.logic.rows(name)
        return self.tables[name]

    def evaluate(self):
        """{relation of the rewrite: its tuples} at the fixpoint; None past the iteration limit.
        Raises RuleError where a rewritten rule cannot be planned, _Abandoned past the allowance."""
        logic, xp = self.logic, self.logic.xp
        rt = logic.rt
        # The relations read whole are evaluated (in whichever engine holds them) before the plans
        # are made, since one may grow a domain; their sizes give the allowance.
        read = {a.name for rule in self.rules for a in rule.atoms() + rule.atoms(True) if a.name not in self.derived}
        self.allowance = ABANDON_FLOOR + ABANDON_FACTOR * sum(len(self.table(n, {})) for n in sorted(read))
        plans = {}
        for rule in self.rules:
            at = [i for i, lit in enumerate(rule.body)
                  if isinstance(lit, Atom) and not lit.negated and lit.name in self.derived]
            for i in at or [None]:
                plans[id(rule), i] = Plan(rule, self.domains_of, self.size, i,
                                          logic.var_domains(self.origin[id(rule)]))
        states = {n: State(logic, n, [], len(self.domains[n]), (lambda n=n: self.extents(n)), bitmap=False)
                  for n in self.derived}
        full = {n: xp.zeros(0, len(self.domains[n])) for n in self.derived}
        for n, state in states.items():
            first = [self._derive(rule, plans[id(rule), None], full)
                     for rule in self.rules if rule.head == n and (id(rule), None) in plans]
            seeds = np.array(self.seeds.get(n, []), dtype=np.int64).reshape(-1, len(self.domains[n]))
            state.start(first, facts=xp.asarray(seeds))
        rounds = 0
        while any(len(s.delta) for s in states.values()):
            if rounds >= rt.max_iterations:
                return None
            rounds += 1
            rt.budget.tick(self.rules[0].span)
            deltas = {n: s.delta for n, s in states.items()}
            full = {n: s.full() for n, s in states.items()}
            produced = {n: [] for n in states}
            for rule in self.rules:
                for i, lit in enumerate(rule.body):
                    if (id(rule), i) in plans and len(deltas[lit.name]):
                        produced[rule.head].append(self._derive(rule, plans[id(rule), i], full, deltas))
            for n, state in states.items():
                state.advance(produced[n])
        return {n: s.full() for n, s in states.items()}

    def _derive(self, rule, plan, full, deltas=None):
        """The head tuples one rewritten rule derives, its delta atom reading `deltas`: (rows, None)
        as State takes them."""
        logic, xp = self.logic, self.logic.xp

        def table_of(step):
            name = step.literal.name
            return deltas[name] if step.delta else self.table(name, full)

        doms, parts = self.domains[rule.head], []
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
