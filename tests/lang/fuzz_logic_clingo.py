"""The fuzzer's programs (fuzz_logic.py) in clingo's syntax, and clingo's answer.

`/` and `%` are clingo's `/` and `\\` (both truncate toward zero; division by zero drops the rule instance in
both). Where clingo's meaning differs from the language's, the text spells out the language's:
- A variable that appears only under one `not` is quantified inside that negation (LANGUAGE.md §3):
  the negated atom becomes an auxiliary predicate of the negation's other arguments.
- An aggregate ranges over the distinct bindings of the rule's whole body (each binding counts
  once, its term's value summed once; a `sum` term that is undefined adds nothing, as in clingo, where
  `avg`, `min` and `max` leave the binding out) and gives a row only for groups with a binding, but for
  `count` and `sum` without grouping (clingo's `#count{}` and `#sum{}` are 0); `avg` is the sum
  divided by the count (clingo's `/`). Rules without an aggregate, and facts, add values to `min` and
  `max` (one value per group).
  `count`, `sum` and `avg` aggregate per rule (clingo's meaning of several rules); facts and rules
  without the aggregate add rows.
- Recursive `min(d + w)` (`max(d - w)`) with w >= 0 is the best value over all derivations; clingo
  enumerates the derivations' values within the program's bound (simple paths reach it) and takes
  the best.
"""
from __future__ import annotations

import clingo

from tensorlogic.lang import Text


def binding_form(t):
    """The variable an atom argument `v + c`, `v - c` or `c + v` binds, else None."""
    if t[0] == "op" and t[1] in "+-":
        if t[2][0] == "v" and t[3][0] == "i":
            return t[2][1]
        if t[1] == "+" and t[2][0] == "i" and t[3][0] == "v":
            return t[3][1]
    return None


def names_in(t) -> set:
    if t[0] == "v":
        return {t[1]}
    if t[0] in ("op", "cmp", "agg"):
        return set().union(*(names_in(a) for a in t[2:] if isinstance(a, tuple)))
    if t[0] == "atom":
        return set().union(set(), *(names_in(a) for a in t[2]))
    return set()


def expr(t) -> str:
    if t[0] == "v":
        return t[1].upper()
    if t[0] == "i":
        return f"({t[1]})" if t[1] < 0 else str(t[1])
    if t[0] == "s":
        return t[1]              # a name (a constant)
    if t[0] == "q":
        return f'"{t[1]}"'       # a string
    a, b = expr(t[2]), expr(t[3])
    if t[1] == "%":
        return f"(({a})\\({b}))"
    return f"({a}{t[1]}{b})"


class RuleText:
    """One rule's body in clingo's syntax; computed arguments become variables assigned in the
    body, and negations with variables of their own auxiliary predicates."""

    def __init__(self, rule, out, key, rename=None):
        self.rule, self.out, self.key = rule, out, key
        self.rename = rename or {}         # pred name -> the name read instead
        self.n = 0
        self.extra = []
        self.named = set()                 # variables bound in the body (for aggregates)
        others = [names_in(a) for a in rule.args] + [names_in(lit) for lit in rule.body]
        self.counts = {}
        for group in others:
            for v in group:
                self.counts[v] = self.counts.get(v, 0) + 1
        self.lits = [self.literal(lit, k) for k, lit in enumerate(rule.body)]

    def fresh(self, prefix="F"):
        self.n += 1
        return f"{prefix}{self.n}"

    def value(self, t):
        """A term as an argument: arithmetic is assigned to a fresh variable first."""
        if t[0] == "op":
            f = self.fresh()
            self.extra.append(f"{f} = {expr(t)}")
            return f
        return expr(t)

    def atom(self, pred, args):
        name = self.rename.get(pred.name, pred.name)
        return f"{name}({', '.join(args)})" if args else name

    def literal(self, lit, k):
        if lit[0] == "cmp":
            self.named |= names_in(lit)
            return f"{expr(lit[2])} {'=' if lit[1] == '==' else lit[1]} {expr(lit[3])}"
        _, pred, args, negated = lit
        if not negated:
            out = []
            for a in args:
                if a[0] == "_":
                    out.append(self.fresh("U"))
                    self.named.add(out[-1])
                elif a[0] == "op" and binding_form(a) is not None:
                    f, v = self.fresh(), binding_form(a)
                    shift = a[3][1] if a[2][0] == "v" else a[2][1]
                    self.extra.append(f"{v.upper()} = {f} {'+' if a[1] == '-' else '-'} {shift}")
                    out.append(f)
                else:
                    out.append(self.value(a))
            self.named |= names_in(lit)
            return self.atom(pred, out)
        own = {v for v in names_in(lit) if self.counts[v] == 1}
        if not own and all(a[0] != "_" for a in args):
            return "not " + self.atom(pred, [self.value(a) for a in args])
        keys, inner = [], []
        for a in args:
            if a[0] == "_" or (a[0] == "v" and a[1] in own) or a[0] in ("i", "s", "q"):
                inner.append("_" if a[0] == "_" else expr(a))
            else:
                keys.append(self.value(a))
                inner.append(f"K{len(keys)}")
        aux = f"aux_{self.key}_{k}"
        head = f"{aux}({', '.join(f'K{j + 1}' for j in range(len(keys)))})" if keys else aux
        self.out.append(f"{head} :- {self.atom(pred, inner)}.")
        return f"not {aux}({', '.join(keys)})" if keys else f"not {aux}"

    def body(self):
        return ", ".join(self.lits + self.extra)


def clingo_program(prog) -> str:
    out = []
    for name, rows in prog.facts.items():
        pred = next(p for p in prog.preds if p.name == name)
        if pred.kind == "lattice" or (pred.kind == "agg" and pred.agg[0] in ("min", "max")):
            # values of min and max: (group..., value)
            pos = pred.agg[1]
            rows = [row[:pos] + row[pos + 1:] + row[pos:pos + 1] for row in rows]
            name = f"aux_{name}_val"
        out += [f"{name}({', '.join(expr(t) for t in row)})." if row else f"{name}." for row in rows]
    for k, r in enumerate(prog.rules):
        if r.head.kind == "lattice":
            lattice_rule(prog, r, out, k)
        elif r.head.kind == "agg":
            aggregate_rule(r, out, k)
        else:
            t = RuleText(r, out, k)
            head = t.atom(r.head, [t.value(a) for a in r.args])
            out.append(f"{head} :- {t.body()}.")
    for p in prog.preds:
        if p.kind == "lattice" or (p.kind == "agg" and p.agg[0] in ("min", "max")):
            best(p, out)
    return "\n".join(out) + "\n"


def aggregate_rule(r, out, k):
    fn, pos = r.head.agg
    t = RuleText(r, out, k)
    groups = [t.value(a) for j, a in enumerate(r.args) if j != pos]
    if r.args[pos][0] != "agg":             # a rule without the aggregate adds a value (a row)
        value = t.value(r.args[pos])
        if fn in ("min", "max"):
            out.append(f"aux_{r.head.name}_val({', '.join(groups + [value])}) :- {t.body()}.")
        else:
            out.append(f"{t.atom(r.head, groups[:pos] + [value] + groups[pos:])} :- {t.body()}.")
        return
    body = t.body()                         # (before the term's own assignment)
    term = t.value(r.args[pos][2])
    if fn in ("min", "max"):
        out.append(f"aux_{r.head.name}_val({', '.join(groups + [term])}) :- {t.body()}.")
        return
    # count, sum, avg: one row per distinct binding of the body's variables, this rule's own.
    # The bindings as one tuple term: (X1, U2, ...), `(X1,)` for one variable, `()` for none.
    bindings = sorted(v.upper() if v[0] == "x" else v for v in t.named)
    packed = f"({', '.join(bindings)}{',' if len(bindings) == 1 else ''})"
    rows = f"aux_{r.head.name}_all_{k}"
    out.append(f"{rows}({', '.join(groups + [term, packed])}) :- {t.body()}.")
    if fn == "sum":
        # A binding whose term is undefined still makes its group (clingo's #sum leaves out the element).
        out.append(f"aux_{r.head.name}_grp_{k}({', '.join(groups)}) :- {body}.")
    per_rule(r.head, rows, f"aux_{r.head.name}_grp_{k}" if fn == "sum" else None, out)
    if fn in ("count", "sum") and all(a[0] in ("i", "s", "q") for j, a in enumerate(r.args) if j != pos):
        # Without grouping, no binding is clingo's `#count{}` (`#sum{}`): 0.
        out.append(f"{t.atom(r.head, groups[:pos] + ['0'] + groups[pos:])} :- "
                   f"#count{{T, B : {rows}({', '.join(groups + ['T', 'B'])})}} = 0.")


def lattice_rule(prog, r, out, k):
    fn, pos = r.head.agg
    all_name = f"aux_{r.head.name}_val"
    t = RuleText(r, out, k, rename={r.head.name: all_name})
    term = t.value(r.args[pos][2])
    limit = f"{term} <= {prog.bound}" if fn == "min" else f"{term} >= {-prog.bound}"
    out.append(f"{all_name}({t.value(r.args[0])}, {term}) :- {t.body()}, {limit}.")


def best(p, out):
    """min and max: the aggregate's rows from the auxiliary relation of all its values."""
    fn, pos = p.agg
    groups = [f"G{j}" for j in range(len(p.sorts) - 1)]
    head = groups[:pos] + ["A"] + groups[pos:]
    aux = f"aux_{p.name}_val({', '.join(groups + ['T'])})"
    out.append(f"{p.name}({', '.join(head)}) :- aux_{p.name}_val({', '.join(groups + ['_'])}), "
               f"A = #{fn}{{T : {aux}}}.")


def per_rule(p, rows, grouped, out):
    """count, sum, avg: one rule's rows from the auxiliary relation of its bindings (its groups from
    `grouped` where given)."""
    fn, pos = p.agg
    groups = [f"G{j}" for j in range(len(p.sorts) - 1)]
    head = groups[:pos] + ["A"] + groups[pos:]
    elems = f"T, B : {rows}({', '.join(groups + ['T', 'B'])})"
    group = f"{grouped}({', '.join(groups)})" if grouped else f"{rows}({', '.join(groups + ['_', '_'])})"
    if fn == "count":
        out.append(f"{p.name}({', '.join(head)}) :- {group}, A = #count{{{elems}}}.")
    elif fn == "sum":
        out.append(f"{p.name}({', '.join(head)}) :- {group}, A = #sum{{{elems}}}.")
    else:
        out.append(f"{p.name}({', '.join(head)}) :- {group}, S = #sum{{{elems}}}, C = #count{{{elems}}}, "
                   f"A = S / C.")


def value(symbol):
    """A constant of clingo's model as the language gives it: an int, a name (a str) or a string (a
    `Text`, which equals the str of its characters: `tag` tells them apart); `#sup` and `#inf`,
    which the language has no constant for, as those words."""
    if symbol.type == clingo.SymbolType.Number:
        return symbol.number
    if symbol.type in (clingo.SymbolType.Supremum, clingo.SymbolType.Infimum):
        return str(symbol)
    return Text(symbol.string) if symbol.type == clingo.SymbolType.String else symbol.name


def tag(v):
    """A constant with its kind ("int", "str" for a name, "Text" for a string): as Python values a
    string and the name of its text are equal, and one of them would stand for both in a set."""
    return type(v).__name__, v


def clingo_model(text, tagged=False) -> dict:
    """{predicate: set of tuples} of the program's one stable model (auxiliary predicates left out);
    with `tagged`, each constant as `tag` gives it."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], text)
    ctl.ground([("base", [])])
    models = []

    def on_model(m):
        out = {}
        for s in m.symbols(atoms=True):
            if s.name.startswith("aux_"):
                continue
            row = tuple(value(a) for a in s.arguments)
            out.setdefault(s.name, set()).add(tuple(map(tag, row)) if tagged else row)
        models.append(out)

    ctl.solve(on_model=on_model)
    assert len(models) == 1, f"a stratified program has one stable model, clingo found {len(models)}"
    return models[0]
