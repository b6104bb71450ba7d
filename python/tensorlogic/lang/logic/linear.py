"""Linear recursion run natively (`_core.linear_fixpoint`): when every recursive rule of a component
reads exactly one atom of the component, its other literals do not change during the fixpoint, so
they are joined once into a table J keyed by the variables they share with that atom; every round
then joins only the new tuples with J, in native code, with no per-round interpreter overhead.
`reach(y) <- reach(x), Edge(x, y)` on a million-node chain is a million such rounds.

The Python rounds (engine.evaluate) run everything else: non-linear rules, aggregates, arithmetic or
tests on the recursive atom's variables, and joins of the other literals that are cross products
(J would hold more than the rule could ever read).

The native loop runs on the host whatever the program's device: such recursions are many rounds of
a few new tuples each, where a device would spend its time launching kernels.  J is joined in the
engine's arrays (on the device) and crosses to the host once, the result crosses back once.

The native loop packs each tuple into one int64 over its positions' extents.  Where the extents
multiply past 2^62 (ids up to 10^12, wide relations), the values cross as dictionary codes: their
ranks among the distinct values of the relations and of J (no round makes a value that is not
there already: a head copies the new tuple's values or J's).  One dictionary for every position
keeps equal values equal wherever they meet (keys, repeated variables).  When even the codes
overflow, the Python rounds run the recursion (`run` returns None).

The functions read relations through a `scope`: the program's (engine.Logic) or a demand-driven
rewrite's (demand.py), each giving `domains(name)`, `extents(name)`, `size(name, delta)`,
`var_domains(rule)`, a `runner` and a `plans` cache.
"""
from __future__ import annotations

import time

import numpy as np

from ... import _core
from . import tuples as T
from .body import Plan, encode
from .rules import Rule, RuleError, bound_order, variables


class LinearRule:
    """A recursive rule in the native form: the join of its other literals (`plan`, run once per
    fixpoint) and where each head position comes from."""

    def __init__(self, low, atom, plan, key, payload):
        self.low, self.atom, self.plan = low, atom, plan
        self.key, self.payload = key, payload     # J's columns: key variables, then payload ones


def linear_rule(scope, low, members):
    """The native form of a recursive rule, or None when the Python rounds must run it."""
    if low.aggregate is not None or any(a is None or a[0] != "var" for a in low.head_args):
        return None
    own = [lit for lit in low.body if getattr(lit, "name", None) in members]
    if len(own) != 1 or own[0].negated or any(a[0] not in ("var", "const") for a in own[0].args):
        return None
    atom = own[0]
    rest = Rule("?", [], None, [lit for lit in low.body if lit is not atom], low.span)
    try:
        bound = bound_order(rest)
    except RuleError:
        return None
    in_atom = {a[1] for a in atom.args if a[0] == "var"}
    used = set()
    for lit in rest.body:
        for e in (lit.args if hasattr(lit, "args") else (lit.left, lit.right)):
            used |= variables(e)
    # A variable the atom binds must be bound inside the rest too (else a `not` would quantify it).
    if not used & in_atom <= bound:
        return None
    key = [a[1] for a in atom.args if a[0] == "var" and a[1] in bound]
    key = list(dict.fromkeys(key))
    payload = [a[1] for a in low.head_args if a[1] not in in_atom]
    payload = list(dict.fromkeys(payload))
    if not set(payload) <= rest.plain_vars:
        return None
    rest.head_args = [("var", v) for v in key + payload]

    doms = scope.domains
    try:
        plan = Plan(rest, doms, scope.size, var_domain_of=scope.var_domains(low))
    except RuleError:
        return None
    joins = [s for s in plan.steps if s.kind == "atom"]
    if any(not s.keys for s in joins[1:]):
        return None
    # Values cross between the atom, J and the head unchecked: their domains must be the same.
    atom_dom = {a[1]: d for a, d in zip(atom.args, doms(atom.name)) if a[0] == "var"}
    for v in key:
        if plan.var_domain.get(v) is not atom_dom[v]:
            return None
    for a, d in zip(low.head_args, doms(low.head)):
        if (atom_dom[a[1]] if a[1] in atom_dom else plan.var_domain.get(a[1])) is not d:
            return None
    return LinearRule(low, atom, plan, key, payload)


def native_rules(scope, comp, recursive):
    """{id(rule): LinearRule} for a component's recursive rules (of relations without aggregates:
    the caller's to check), or None when one is not linear."""
    members = set(comp)
    if any(len(scope.domains(m)) == 0 for m in comp):
        return None
    out = {}
    for m in comp:
        for low in recursive[m]:
            key = (id(low), "linear")
            if key not in scope.plans:
                scope.plans[key] = linear_rule(scope, low, members)
            if scope.plans[key] is None:
                return None
            out[id(low)] = scope.plans[key]
    return out


def run(logic, scope, comp, state, rules, read, span):
    """The fixpoint of a component from its started states: ({relation: all its tuples}, whether it
    converged: False where the iteration limit stopped it), or None when its tuples are too wide for
    native keys even as dictionary codes.  `read(name)`: the tuples of a relation outside the
    component; `span`: where a budget error points."""
    xp = logic.xp
    index = {m: i for i, m in enumerate(comp)}
    native = []
    for lin in rules.values():
        spec = _spec(scope, lin, index, read)
        if spec is not None:
            native.append(spec)
    # The extents after the joins above: a relation they read first may have grown a domain.
    relations = []
    for m in comp:
        ext = scope.extents(m)
        relations.append((xp.numpy(state[m].full()), [lo for lo, _ in ext], [s for _, s in ext]))
    values = None
    if not all(T.radix_fits(sizes) for _, _, sizes in relations):
        coded = _dictionary_codes(relations, native)
        if coded is None:
            return None
        values, relations, native = coded
    rt, budget = logic.rt, logic.rt.budget
    limit = min(rt.max_iterations, max(budget.max_steps - budget.steps, 0))
    seconds = -1.0 if budget.deadline is None else max(budget.deadline - time.monotonic(), 0.0)
    added, rounds, stop = _core.linear_fixpoint(relations, native, limit, seconds)
    budget.steps += rounds
    logic.tuples_derived += sum(len(a) for a in added)
    if stop == "time_limit" or (stop == "round_limit" and rounds < rt.max_iterations):
        budget.tick(span)       # past the step budget or the deadline: raises its error
    if values is not None:
        added = [values[a] for a in added]
    return {m: xp.cat([state[m].full(), xp.asarray(added[index[m]])]) for m in comp}, stop != "round_limit"


def _dictionary_codes(relations, native):
    """(values, relations, rules) with every value replaced by its rank in `values`, the distinct
    values of the relations and the rules' join tables; None when a relation's codes still multiply
    past 2^62.  A rule whose constant no tuple holds derives nothing and is left out."""
    values = np.unique(np.concatenate([rows.reshape(-1) for rows, _, _ in relations] +
                                      [spec[5].reshape(-1) for spec in native]))
    size = max(len(values), 1)
    if not all(T.radix_fits([size] * len(sizes)) for _, _, sizes in relations):
        return None

    def codes(a):
        return np.ascontiguousarray(np.searchsorted(values, a), dtype=np.int64)

    relations = [(codes(rows), [0] * len(sizes), [size] * len(sizes)) for rows, _, sizes in relations]
    rules = []
    for source, target, consts, equal, key, join, head in native:
        at = np.searchsorted(values, [v for _, v in consts]).tolist()
        if any(i == len(values) or values[i] != v for i, (_, v) in zip(at, consts)):
            continue
        rules.append((source, target, [(p, i) for i, (p, _) in zip(at, consts)], equal, key,
                      codes(join), head))
    return values, relations, rules


def _spec(scope, lin, index, read):
    """The tuple `_core.linear_fixpoint` takes for a rule (None when a constant of its atom is
    not in the domain: the rule derives nothing)."""
    atom, doms = lin.atom, scope.domains(lin.atom.name)
    consts, equal, first = [], [], {}
    for p, (a, d) in enumerate(zip(atom.args, doms)):
        if a[0] == "const":
            v = encode(d, a[1])
            if v is None:
                return None
            consts.append((p, v))
        elif a[1] in first:
            equal.append((p, first[a[1]]))
        else:
            first[a[1]] = p
    names = lin.key + lin.payload
    xp = scope.runner.xp
    parts = [xp.numpy(xp.stack([f.columns[v] for v in names])) if names else np.zeros((1, 0), np.int64)
             for f in scope.runner.run(lin.plan, lambda step: read(step.literal.name)) if f.n]
    join = np.concatenate(parts) if parts else np.zeros((0, len(names)), dtype=np.int64)
    if not names:
        join = join[:1]
    head = [(0, first[a[1]]) if a[1] in first else (1, len(lin.key) + lin.payload.index(a[1]))
            for a in lin.low.head_args]
    return (index[lin.atom.name], index[lin.low.head], consts, equal,
            [first[v] for v in lin.key], np.ascontiguousarray(join, dtype=np.int64), head)
