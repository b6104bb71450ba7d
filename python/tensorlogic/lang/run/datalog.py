"""Relations on the device: facts as a 0/1 tensor, each rule as one join (einsum over its body's
atoms) projected onto its head, rules with one head OR-ed by `step`, recursive rules run to a
fixpoint semi-naively (each round joins only the previous round's new tuples), and queries read as
rows of bindings."""
from __future__ import annotations

import time

import numpy as np

from ..check.contraction import var_names
from ..engine import tl
from ..errors import TensorLogicWarning
from ..syntax import nodes as N
from .builtins import step
from .closure import closure_plan
from .labelled import Labelled, expand_to, project
from .placement import classify_lhs, place


class FixpointLimitWarning(TensorLogicWarning, RuntimeWarning):
    """A fixpoint computation stopped at its iteration limit."""


def facts_tensor(rel):
    shape = tuple(d.size for d in rel.domains)
    arr = np.zeros(shape, dtype=np.float16)
    for call in rel.facts:
        idx = []
        for d, a in zip(rel.domains, call.args):
            idx.append(d.index(_const_key(a)))
        arr[tuple(idx)] = 1
    for row in rel.fact_rows:
        arr[tuple(d.index(key) for d, key in zip(rel.domains, row))] = 1
    # Loaded facts hold an integer domain's integers (its indices start at its lowest one).
    lows = np.array([d.start if d.kind == "range" else 0 for d in rel.domains], dtype=np.int64)
    for rows in rel.rows:
        arr[tuple((rows - lows).T)] = 1
    return tl.tensor(arr, dtype=tl.float16)


def _const_key(a):
    if isinstance(a, N.Name):
        return a.id
    if isinstance(a, N.Str):
        return a.constant
    if isinstance(a, N.Num):
        return a.value
    return -a.operand.value


def var_domains(ev, nodes):
    """Domain of every variable of relation atoms, and of tensors read as atoms along axes with
    domains (`Similar[x, y], x == king?`), under `nodes` (its first position's domain)."""
    out = {}
    for root in nodes:
        for n in N.walk(root):
            if isinstance(n, N.Call) and n.kind == "relation":
                args, doms = n.args, ev.model.relations[n.name].domains
            elif isinstance(n, N.Index) and isinstance(n.base, N.Name) and len(n.groups) == 1 and \
                    (n.base.id in ev.model.relations or n.base.id in ev.model.tensors):
                args = [i.expr for i in n.groups[0]]
                doms = ev.rt.axis_domains(n.base.id, None) or ()
            else:
                continue
            for a, d in zip(args, doms):
                if isinstance(a, N.Name) and a.role == "var" and a.id != "_":
                    out.setdefault(a.id, d)
    return out


class RuleForm:
    """A rule prepared for evaluation: its positive atoms (the checker gave it head items, the
    body as one product, and the plan)."""

    def __init__(self, rule, plan):
        self.rule = rule
        self.head = rule.head
        self.head_items = rule.head_items
        self.body = rule.product
        self.plan = plan
        self.atoms = [n for lit in rule.body if not lit.negated for n in N.walk(lit.expr)
                      if (isinstance(n, N.Call) and n.kind == "relation") or
                      (isinstance(n, N.Index) and isinstance(n.base, N.Name))]

    def atom_name(self, atom):
        return atom.name if isinstance(atom, N.Call) else atom.base.id


class Datalog:
    def __init__(self, rt):
        self.rt = rt
        self.forms = {}
        self.ran = {}           # component -> how its fixpoint ran (for explain)

    def form(self, rule) -> RuleForm:
        f = self.forms.get(rule)
        if f is None:
            f = self.forms[rule] = RuleForm(rule, self.rt.model.plans[rule])
        return f

    def contribution(self, rel, rule, overrides=None):
        """The rule's join projected on its head: a count per head tuple (0 where it derives
        nothing)."""
        ev = self.rt.evaluator
        form = self.form(rule)
        shape = tuple(d.size for d in rel.domains)
        fr = ev.frame_for(form.body, form.plan, lhs_items=form.head_items, overrides=overrides,
                          declared=shape, hint=lambda var: _empty_head_hint(rel, form, var))
        fr.var_domains = var_domains(ev, [form.body])
        fr.exists = (form.body, frozenset(fr.plan.top))     # the join is stepped (Products.product)
        r = ev.eval(form.body, fr)
        if not isinstance(r, Labelled):
            r = Labelled(tl.full((), float(r), dtype=tl.float16) if not hasattr(r, "shape") else r, ())
        r = project(r, fr.plan.top, "sum")
        axes = classify_lhs(form.head_items, rel.domains, lambda e, d: ev.index_value(e, d, fr))
        grids = {k: ev.grid(axis.expr, fr) for k, axis in enumerate(axes) if axis.kind == "general"}
        r = _with_missing(r, axes, {v: s[0] for v, s in fr.env.sizes.items()})
        return place(r, axes, shape, "=", grids).t

    def relation(self, rel):
        """A non-recursive relation: step(facts + sum of its rules)."""
        acc = self.rt.facts(rel)
        for rule in rel.rules:
            acc = acc + self.contribution(rel, rule)
        return step(acc) if rel.rules else acc

    def fixpoint(self, members, limit):
        """Semi-naive evaluation of mutually recursive relations (one component).  Each round
        evaluates every recursive rule once per recursive atom, that atom reading the previous
        round's new tuples; a tuple is new when derived and not yet known."""
        rels = [self.rt.model.relations[m] for m in members]
        names = set(members)
        full, delta, unknown = {}, {}, {}
        recursive_rules = {}
        with self.rt.scc_scope(full):
            for rel in rels:
                acc = self.rt.facts(rel)
                recursive_rules[rel.name] = []
                for rule in rel.rules:
                    form = self.form(rule)
                    if any(form.atom_name(a) in names for a in form.atoms):
                        recursive_rules[rel.name].append(rule)
                    else:
                        acc = acc + self.contribution(rel, rule)
                full[rel.name] = delta[rel.name] = step(acc)
                unknown[rel.name] = 1 - full[rel.name]
            # With one recursive atom per rule (linear recursion) no rule reads the full relations
            # during the rounds, so they are assembled once at the end.
            linear = all(sum(self.form(r).atom_name(a) in names for a in self.form(r).atoms) == 1
                         for rules in recursive_rules.values() for r in rules)
            square = closure_plan(self.rt.model, members, recursive_rules)
            spent, rounds = 0.0, 0
            for _ in range(limit):
                if square is not None and rounds:
                    if square.worth(self.rt, spent):
                        name = members[0]
                        done, squarings = square.finish(self.rt, 1 - unknown[name], rels[0].span)
                        self.ran[tuple(members)] = (f"{rounds} semi-naive rounds, then {squarings} "
                                                    f"squarings of {square.edge} (log-depth)")
                        return {name: done}
                start = time.perf_counter()
                rounds += 1
                self.rt.budget.tick(rels[0].span)
                new = {}
                for rel in rels:
                    acc = None
                    for rule in recursive_rules[rel.name]:
                        form = self.form(rule)
                        for atom in form.atoms:
                            name = form.atom_name(atom)
                            if name in names:
                                c = self.contribution(rel, rule, {atom: delta[name]})
                                acc = c if acc is None else acc + c
                    if acc is not None:
                        new[rel.name] = step(acc) * unknown[rel.name]
                for name, t in new.items():
                    unknown[name] = unknown[name] - t
                    if not linear:
                        full[name] = 1 - unknown[name]
                delta = new
                if not any(t.sum().item() > 0 for t in new.values()):
                    break
                spent += time.perf_counter() - start
            else:
                self.rt.warn_limit(members, limit)
            if recursive_rules and any(recursive_rules.values()):
                self.ran[tuple(members)] = f"{rounds} semi-naive rounds" + \
                    (" (squaring would have cost more)" if square is not None else "")
        return {r.name: 1 - unknown[r.name] for r in rels}


def _empty_head_hint(rel, form, var):
    """Why a head variable has size 0: its position holds no constant, as when a rule reads a
    tensor along an axis of a plain size (`Yes(n) <- Pos[n]`, Pos: float16[4])."""
    for item, dom in zip(form.head_items, rel.domains):
        if isinstance(item.expr, N.Name) and item.expr.id == var and dom.size == 0 and dom.grows:
            return (f"; no fact or rule gives '{rel.name}' a constant at that position: a rule over a "
                    f"tensor's positions needs the axis declared with a domain (domain I = 0..4, then "
                    f"float16[I])")
    return ""


def _with_missing(r, axes, sizes):
    """Head variables that no body atom mentions range over their whole domain."""
    missing = [a.var for a in axes if a.kind in ("var", "div", "shift") and a.var not in r.labels]
    if not missing:
        return r
    labels = r.labels + tuple(dict.fromkeys(missing))
    return expand_to(r, labels, {**r.sizes(), **{v: sizes[v] for v in missing}})


def query_rows(rt, query, locals=None, local_names=None):
    """Bindings of the variables of a conjunctive query (checked: it carries its product), as a
    list of dicts (variables in order of appearance), or a bool for a query without variables."""
    rows = rt.logic.query(query.literals)
    if rows is not None:
        return rows
    ev = rt.evaluator
    body = query.product
    names = var_names(body)
    # Relations are derived before the frame sizes its axes from their domains (deriving one may
    # grow a domain).
    for lit in query.literals:
        for n in N.walk(lit.expr):
            if isinstance(n, N.Call) and n.kind == "relation" and n.name in rt.model.relations:
                rt.derived(n.name)
    fr = ev.frame_for(body, rt.model.plans[query], locals=locals, local_names=local_names)
    doms = var_domains(ev, [body])
    fr.var_domains = doms
    r = ev.eval(body, fr)
    if not isinstance(r, Labelled):
        r = Labelled(r if hasattr(r, "shape") else tl.full((), float(r), dtype=tl.float16), ())
    r = expand_to(r, tuple(names), {v: fr.env.size(v) for v in names})
    mask = step(r.t).numpy() if names else np.asarray(step(r.t).item())
    if not names:
        return bool(mask > 0)
    rows = []
    for idx in zip(*np.nonzero(mask)):
        row = {}
        for v, i in zip(names, idx):
            d = doms.get(v)
            row[v] = d.constants()[int(i)] if d is not None else int(i)
        rows.append(row)
    return rows
