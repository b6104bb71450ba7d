"""Differential fuzzer of the language's logic against clingo: random Datalog programs over what
LANGUAGE.md §3 says rules may hold (predicates of arity 0-5, integer, name and string constants,
strings with a name's text, that are no identifiers or look like integers ("c0" beside c0, "a b",
"3"), integers past f16's and 16 bits, facts stated twice, several body atoms, repeated variables,
constants in heads and bodies, linear, non-linear and mutual recursion, stratified negation with
variables quantified inside it, negation of relations nothing defines, comparisons (orderings of
integers, names and strings in clingo's order), integer arithmetic in heads, bodies and atom
arguments, computed integers compared with and held by variables of names and integers, arithmetic
on such variables (their integers; a name's row drops) and at such positions, aggregates with
grouping (several rules each; min and max of names, strings and integers, of a constant, of integers
computed into a position of names), recursive min and max and strata reading them)
run by TensorLogic (relations stored sparse, and as the engine chooses, which is dense where it
can; the tuple engine's arrays in numpy and in engine tensors; the queries that bind a constant also
asked of a fresh program before anything ran, where they are answered on demand) and by clingo (the
unique stable model of a stratified program), compared relation by relation.  Unstratified and unsafe programs
must fail with the language's located TensorLogicTypeError instead.

Run as a script it fuzzes one batch, prints every mismatch with its program (the reproducer) and
exits 1 if there was one; `--replay K` runs program K of the seed alone:

    python tests/lang/fuzz_logic.py SEED COUNT
    python tests/lang/fuzz_logic.py SEED --replay K
"""
from __future__ import annotations

import random
import resource
import sys
import traceback
import warnings
from dataclasses import dataclass, field

from tensorlogic import lang
from tensorlogic.errors import TensorLogicTypeError
from tensorlogic.lang import ConstantNameWarning, Text, UndefinedRelationWarning
from tensorlogic.lang.logic import arrays
from tensorlogic.lang.run.datalog import FixpointLimitWarning

from fuzz_logic_clingo import clingo_model, clingo_program, tag

SYMBOLS = [f"c{k}" for k in range(5)]
# Strings (clingo's and the language's "..."): one with a name's text ("c0" is not c0), no identifiers
# ("a b", "Alice"; "3", which is not the integer 3), one ordered among the names' texts.
STRINGS = ["c0", "Alice", "a b", "3", "c2x"]
INTS = list(range(0, 6))
NEGATIVE = [-3, -2, -1]
# Integers past f16's exact ones (2048) and its largest (65504), past 16 bits, below and above zero;
# programs with them compute without `*`, so that clingo's 32-bit integers hold every value.
BIG = [2047, 2049, 4097, 65504, 65537, 70001, -65537, 1000003]
# Every argument position has a sort: integers ("i"), names and strings ("s") or both ("m"), and a
# variable one sort. Constants of every kind order as in clingo (integers, then names, then strings).
# (A variable joining an integer position with a name position would make both one domain of
# names and integers, which the check refuses once the integer one is a range: no variable does.)
SORTS = "iism"
# A computed head value is kept within these bounds by guards in the body, so that recursion
# through arithmetic ends and integer domains stay small.
LOW, HIGH = -12, 24
ARITHMETIC = ["+", "-", "*", "/", "%"]
ADDITIVE = ["+", "-", "/", "%"]
ORDER = ["<", "<=", ">", ">="]


# Terms: ("v", name) a variable, ("_",) an anonymous one, ("i", n) an integer, ("s", name) a name,
# ("q", text) a string, ("op", op, left, right) integer arithmetic, ("agg", fn, term) an aggregate
# (heads only).
# Literals: ("atom", pred, args, negated) and ("cmp", op, left, right).
@dataclass(eq=False)
class Pred:
    name: str
    sorts: tuple                 # per position "i" (integers), "s" (names) or "m" (both)
    level: int                   # stratum: positive atoms read levels <= own, negated ones lower
    kind: str = "plain"          # "edb", "plain", "agg" (an aggregate in the head), "lattice"
    agg: tuple = None            # (fn, position) of "agg" and "lattice" predicates


@dataclass(eq=False)
class Rule:
    head: Pred
    args: list
    body: list


@dataclass
class Program:
    preds: list
    negatives: bool = False
    arithmetic: bool = False
    big: bool = False              # constants from BIG too, and no `*`
    symbols: list = field(default_factory=lambda: SYMBOLS)    # the names (a domain declares them)
    strings: bool = False          # "s" constants are strings too (STRINGS)
    facts: dict = field(default_factory=dict)      # pred name -> sorted tuples of terms
    rules: list = field(default_factory=list)
    declared: set = field(default_factory=set)      # preds given a `relation` declaration
    expect: tuple = None           # (words, rules where the error may point) for invalid programs
    names: bool = False            # `domain Name = {c0, ...}` types the name positions of declarations
    loaded: set = field(default_factory=set)        # preds whose facts come by Program.add_facts
    arrow: str = "<-"              # or the same token in Unicode, ←
    bound: int = 0                 # the lattice predicate's values stay within +-bound
    undefined: list = field(default_factory=list)   # preds read only under `not`: empty


# ---- generation ---------------------------------------------------------------------------------
class RuleMaker:
    """One rule's literals and head terms, its variables typed by sort."""

    def __init__(self, rng, prog):
        self.rng, self.prog = rng, prog
        self.sort = {}               # variable -> sort
        self.bound = set()           # bound by a positive atom or an assignment
        self.count = 0

    def chance(self, p):
        return self.rng.random() < p

    def fresh(self, sort):
        self.count += 1
        self.sort[f"x{self.count}"] = sort
        return f"x{self.count}"

    def constant(self, sort):
        return constant_of(self.rng, self.prog, sort)

    def bound_of(self, sort):
        return sorted(v for v in self.bound if self.sort[v] == sort)

    def expr(self, depth=0):
        """An integer expression over bound variables (None when no integer variable is bound)."""
        ints = self.bound_of("i")
        if not ints:
            return None
        if depth >= 2 or self.chance(0.4):
            mixed = self.bound_of("m")
            if mixed and depth > 0 and self.chance(0.15):
                # An operand: arithmetic reads the integers of a variable of names and integers (a
                # name's row drops).
                return ("v", self.rng.choice(mixed))
            return ("v", self.rng.choice(ints)) if self.chance(0.8) else self.constant("i")
        op = self.rng.choice(ADDITIVE if self.prog.big else ARITHMETIC)
        left = self.expr(depth + 1)
        right = self.expr(depth + 1) if self.chance(0.5) else ("i", self.rng.randint(-3, 4))
        if op == "*" and left[0] == "op" and right[0] == "op":
            right = ("i", 2)         # no products of products: values stay small
        return ("op", op, left, right)

    def computed(self):
        """An integer expression that is not a lone variable (`w == x` would make w's positions and
        x's one domain)."""
        e = self.expr()
        return e if e[0] == "op" else ("op", self.rng.choice("+-"), e, ("i", self.rng.randint(0, 2)))

    def positive(self, pred):
        args, mine = [], set()
        for s in pred.sorts:
            r = self.rng.random()
            known = self.bound_of(s)
            own = sorted(v for v in mine if self.sort[v] == s)
            if r < 0.08:
                args.append(self.constant(s))
            elif r < 0.13:
                args.append(("_",))
            elif r < 0.47 and known:
                args.append(("v", self.rng.choice(known)))
            elif r < 0.57 and own:
                args.append(("v", self.rng.choice(own)))       # p(X, X)
            elif s in "im" and r < 0.65 and self.prog.arithmetic:
                # (at a position of names and integers, `P(x + 1)` binds x from the integers)
                v = self.fresh("i")
                mine.add(v)
                k = self.rng.choice([1, 2, 3])
                args.append(("op", "+", ("i", k), ("v", v)) if self.chance(0.2) else
                            ("op", self.rng.choice("+-"), ("v", v), ("i", k)))
            elif s in "im" and r < 0.72 and self.prog.arithmetic and self.bound_of("i"):
                # A computed key over variables bound elsewhere (where names are, never a lone variable).
                args.append(self.computed() if s == "m" else self.expr(1) if self.chance(0.5) or self.prog.big else
                            ("op", "*", ("v", self.rng.choice(known)), ("i", 2)))
            elif s == "i" and r < 0.76 and self.prog.arithmetic and any(self.sort[v] == "i" for v in mine):
                # A computed key over variables this atom binds: `P(x, 2 * x)`.
                v = self.rng.choice(sorted(v for v in mine if self.sort[v] == "i"))
                args.append(("op", self.rng.choice("+-" if self.prog.big else "*+-"), ("v", v), ("v", self.rng.choice(sorted(
                    w for w in mine | set(known) if self.sort[w] == "i")))))
            else:
                v = self.fresh(s)
                mine.add(v)
                args.append(("v", v))
        self.bound |= mine
        return ("atom", pred, args, False)

    def negative(self, pred):
        """Bound variables, constants, computed keys, and variables of its own (quantified inside
        the negation, possibly repeated: `not S(x, p, p)`)."""
        args, own = [], []
        for s in pred.sorts:
            r = self.rng.random()
            known = self.bound_of(s)
            mine = [v for v in own if self.sort[v] == s]
            if r < 0.5 and known:
                args.append(("v", self.rng.choice(known)))
            elif r < 0.62:
                args.append(self.constant(s))
            elif r < 0.7:
                args.append(("_",))
            elif s == "i" and r < 0.78 and self.prog.arithmetic and known:
                args.append(self.expr(1))
            elif mine and self.chance(0.5):
                args.append(("v", self.rng.choice(mine)))
            else:
                v = self.fresh(s)
                own.append(v)
                args.append(("v", v))
        return ("atom", pred, args, True)

    def some_sort(self):
        """The sort of a bound variable, integers twice as likely (None when none is bound)."""
        sorts = sorted({self.sort[v] for v in self.bound})
        return self.rng.choice(sorts + ["i"] * ("i" in sorts)) if sorts else None

    def comparison(self):
        sort = self.some_sort()
        if sort == "i":
            left = self.expr()
            right = self.expr() if self.chance(0.6) else self.constant("i")
            return ("cmp", self.rng.choice(ORDER + ["==", "!="]), left, right)
        if sort is not None:
            left = ("v", self.rng.choice(self.bound_of(sort)))
            if sort == "m" and self.bound_of("i") and self.chance(0.3):
                # An integer computed, compared with a variable of names and integers.
                right = self.computed()
            else:
                right = ("v", self.rng.choice(self.bound_of(sort))) if self.chance(0.5) else self.constant(sort)
            return ("cmp", self.rng.choice(ORDER + ["==", "!="]), left, right)
        return None

    def assignment(self):
        """`w == e` binds w (a comparison binds its unbound side once the other is bound)."""
        sort = self.some_sort()
        if sort is None:
            return None
        if sort == "i":
            e = self.expr()
        elif self.chance(0.3) and self.bound_of("i"):
            # An integer held where names are (`w == y - 1`, `P(w)` of names; a declared domain
            # of names would reject it).
            sort = "m" if self.prog.names else self.rng.choice("ms")
            e = self.computed()
        else:
            e = ("v", self.rng.choice(self.bound_of(sort))) if self.chance(0.7) else self.constant(sort)
        w = self.fresh(sort)
        self.bound.add(w)
        return ("cmp", "==", ("v", w), e) if self.chance(0.7) else ("cmp", "==", e, ("v", w))

    def body(self, head_level, strict):
        """Positive atoms (levels up to the head's, below it with `strict`), negations (lower
        levels), an assignment, comparisons, in random order."""
        rng, preds = self.rng, self.prog.preds
        pos = [p for p in preds if p.level < head_level or (p.level == head_level and not strict)]
        neg = [p for p in preds if p.level < head_level]
        same = [p for p in pos if p.level == head_level]
        out = [self.positive(rng.choice(same) if same and self.chance(0.35) else rng.choice(pos))
               for _ in range(rng.choices([1, 2, 3, 4], [3, 4, 2, 1])[0])]
        if self.chance(0.3):
            out.append(self.assignment())
        out += [self.negative(rng.choice(neg)) for _ in range(rng.choices([0, 1, 2], [5, 3, 1])[0]) if neg]
        if self.prog.undefined and self.chance(0.3):
            # A relation nothing defines is empty under `not` (clingo's and Datalog's meaning).
            out.append(self.negative(rng.choice(self.prog.undefined)))
        out += [self.comparison() for _ in range(rng.choices([0, 1, 2], [5, 3, 1])[0])]
        out = [lit for lit in out if lit is not None]
        rng.shuffle(out)
        return out

    def head(self, pred, lits, agg=None):
        """Head terms; a computed one (an expression, or a variable no plain atom argument binds) is
        guarded into [LOW, HIGH]."""
        plain = {a[1] for lit in lits if lit[0] == "atom" and not lit[3] for a in lit[2] if a[0] == "v"}
        args, guards = [], []
        for k, s in enumerate(pred.sorts):
            known = self.bound_of(s)
            if agg is not None and k == agg[1]:
                t = aggregate_term(self, agg[0], s)
                args.append(("agg", agg[0], t))
            elif not known or self.chance(0.12):
                args.append(self.constant(s))
                continue
            elif s == "i" and self.prog.arithmetic and self.chance(0.25):
                args.append(self.expr())
            else:
                args.append(("v", self.rng.choice(known)))
            t = args[-1][2] if args[-1][0] == "agg" else args[-1]
            if t[0] == "op" or (t[0] == "v" and self.sort[t[1]] == "i" and t[1] not in plain):
                guards += [("cmp", ">=", t, ("i", LOW)), ("cmp", "<=", t, ("i", HIGH))]
        return args, guards


def aggregate_term(m, fn, sort):
    """The term of an aggregate into a position of `sort` ("i" for count, sum and avg)."""
    if fn == "count":
        pool = sorted(m.bound)
        return ("v", m.rng.choice(pool)) if pool else ("i", 1)
    if sort != "i":
        # min and max of names, strings and integers (clingo's order), of a constant (`max(c1)`), or
        # of integers computed into a position of names and integers (`min(y + 1)`).
        if sort == "m" and m.bound_of("i") and m.chance(0.3):
            return m.computed()
        pool = m.bound_of(sort)
        return ("v", m.rng.choice(pool)) if pool and m.chance(0.8) else m.constant(sort)
    return m.expr() or ("i", m.rng.randint(0, 3))


def make_rule(rng, prog, pred, strict=False, agg=None):
    m = RuleMaker(rng, prog)
    lits = m.body(pred.level, strict)
    args, guards = m.head(pred, lits, agg)
    return Rule(pred, args, lits + guards)


def make_sorts(rng):
    return tuple(rng.choice(SORTS) for _ in range(rng.choices(range(6), [1, 3, 4, 2, 0.6, 0.4])[0]))


def constant_of(rng, prog, sort):
    ints = INTS + (NEGATIVE if prog.negatives else []) + (BIG if prog.big and rng.random() < 0.3 else [])
    if sort == "m":
        sort = rng.choice("is")
    if sort == "i":
        return ("i", rng.choice(ints))
    return ("q", rng.choice(STRINGS)) if prog.strings and rng.random() < 0.5 else ("s", rng.choice(prog.symbols))


def facts_of(rng, prog, pred, most):
    rows = {tuple(("i", rng.randint(0, 5)) if pred.agg and k == pred.agg[1] and s == "i" else constant_of(rng, prog, s)
                  for k, s in enumerate(pred.sorts)) for _ in range(rng.randint(most // 4, most))}
    rows = sorted(rows)
    if rows and rng.random() < 0.2:
        rows.append(rng.choice(rows))        # a fact stated twice is one fact (and one binding)
    return rows


def generate(rng) -> Program:
    prog = Program([], negatives=rng.random() < 0.3, arithmetic=rng.random() < 0.6,
                   names=rng.random() < 0.2, arrow="\u2190" if rng.random() < 0.1 else "<-",
                   big=rng.random() < 0.15)
    prog.strings = not prog.names and rng.random() < 0.3
    preds = prog.preds
    preds += [Pred(f"e{k}", make_sorts(rng), 0, "edb") for k in range(rng.randint(1, 3))]
    levels = rng.randint(1, 3)
    preds += [Pred(f"p{k}", make_sorts(rng), rng.randint(1, levels)) for k in range(rng.randint(2, 5))]
    aggs = []
    for _ in range(rng.choices([0, 1, 2], [6, 3, 1])[0]):
        # count, sum and avg never recurse (LANGUAGE.md §3): the rule reads lower levels only.
        fn = rng.choice(["count", "sum", "min", "max", "avg"])
        sorts = list(make_sorts(rng)) or ["i"]
        pos = rng.randrange(len(sorts))
        sorts[pos] = rng.choice("iism") if fn in ("min", "max") else "i"
        aggs.append(Pred(f"g{len(preds)}", tuple(sorts), rng.randint(1, levels), "agg", (fn, pos)))
        preds.append(aggs[-1])
    if rng.random() < 0.12:
        lattice(rng, prog, levels + 1)
        if rng.random() < 0.6:
            # A stratum above reads the lattice's values (and may negate them).
            preds.append(Pred(f"p{len(preds)}", make_sorts(rng), levels + 2))
    if rng.random() < 0.15:
        prog.undefined = [Pred(f"u{k}", make_sorts(rng), 0, "undefined") for k in range(rng.randint(1, 2))]
    for p in preds:
        if p.kind == "edb" or (p.kind == "plain" and rng.random() < 0.5) or \
                (p.kind == "agg" and rng.random() < 0.3):
            rows = facts_of(rng, prog, p, 20 if p.kind == "edb" else 3)
            if rows:
                prog.facts.setdefault(p.name, rows)
    for p in preds:
        if p.kind == "plain":
            prog.rules += [make_rule(rng, prog, p) for _ in range(rng.randint(1, 3))]
    for p in aggs:
        prog.rules.append(make_rule(rng, prog, p, strict=True, agg=p.agg))
        if p.agg[0] not in ("min", "max") and rng.random() < 0.3:
            # count, sum and avg aggregate per rule (LANGUAGE.md §3).
            prog.rules.append(make_rule(rng, prog, p, strict=True, agg=p.agg))
        if rng.random() < 0.3:
            # Rules without an aggregate add values to min and max, rows to the others.
            prog.rules.append(make_rule(rng, prog, p, strict=True))
    # Facts of the lowest level also arrive without the parser (`Program.add_facts`); not names and
    # integers at one position: the check has made a position whose constants in the program are
    # all integers a range, which takes no name later (a located error; written facts are seen first).
    prog.loaded = {p.name for p in preds if p.kind == "edb" and p.name in prog.facts and "m" not in p.sorts
                   and rng.random() < 0.2}
    stated = (set(prog.facts) - prog.loaded) | {r.head.name for r in prog.rules}
    prog.declared = {p.name for p in preds if p.name not in stated or rng.random() < 0.2}
    if rng.random() < 0.15:
        make_invalid(rng, prog)
    rng.shuffle(prog.rules)
    return prog


def lattice(rng, prog, level):
    """Recursive min or max: `D(y, min(d + w)) <- D(x, d), W(x, y, w)` with w >= 0 (max with d - w):
    the lattice fixpoint exists and is the best value over all derivations, which clingo computes
    from the derivations bounded by `prog.bound`."""
    fn = rng.choice(["min", "max"])
    weighted = rng.random() < 0.6
    edge = Pred(f"w{len(prog.preds)}", ("s", "s", "i") if weighted else ("s", "s"), 0, "edb")
    d = Pred(f"d{len(prog.preds) + 1}", ("s", "i"), level, "lattice", (fn, 1))
    prog.preds += [edge, d]
    prog.facts[edge.name] = sorted({(("s", rng.choice(prog.symbols)), ("s", rng.choice(prog.symbols))) +
                                    ((("i", rng.randint(0, 4)),) if weighted else ())
                                    for _ in range(rng.randint(1, 10))})
    prog.facts[d.name] = sorted({(("s", rng.choice(prog.symbols)), ("i", rng.randint(0, 5)))
                                 for _ in range(rng.randint(1, 2))})
    step = ("v", "x3") if weighted else ("i", rng.randint(0, 2))
    term = ("op", "+" if fn == "min" else "-", ("v", "x2"), step)
    body = [("atom", d, [("v", "x1"), ("v", "x2")], False),
            ("atom", edge, [("v", "x1"), ("v", "x4")] + ([("v", "x3")] if weighted else []), False)]
    prog.rules.append(Rule(d, [("v", "x4"), ("agg", fn, term)], body))
    prog.bound = 6 + len(SYMBOLS) * 4


def make_invalid(rng, prog):
    """Turns a program into one the language rejects with a located TensorLogicTypeError: negation
    through recursion, or an unsafe variable (in the head, also when it appears under `not`, or
    only in a comparison)."""
    plain = [p for p in prog.preds if p.kind == "plain"]
    kind = rng.choice(["unstratified", "head", "comparison", "recursive aggregate"])
    if kind == "recursive aggregate":
        # count, sum and avg never recurse (LANGUAGE.md §3).
        fn = rng.choice(["count", "sum", "avg"])
        g = Pred(f"r{len(prog.preds)}", ("s", "i"), max(p.level for p in prog.preds) + 1, "agg", (fn, 1))
        prog.preds.append(g)
        m = RuleMaker(rng, prog)
        lits = [m.positive(g)] + [m.positive(rng.choice(prog.preds)) for _ in range(rng.randint(0, 1))]
        args, guards = m.head(g, lits, g.agg)
        prog.rules.append(Rule(g, args, lits + guards))
        prog.expect = ("only min and max aggregate recursively", [prog.rules[-1]])
        return
    p = rng.choice(plain)
    m = RuleMaker(rng, prog)
    lits = m.body(p.level, False)
    args, guards = m.head(p, lits)
    rule = Rule(p, args, lits + guards)
    prog.rules.append(rule)
    if kind == "unstratified":
        q = rng.choice(plain)
        rule.body.append(m.negative(q))
        if q is not p:
            m2 = RuleMaker(rng, prog)
            lits2 = [m2.positive(p)]
            args2, guards2 = m2.head(q, lits2)
            prog.rules.append(Rule(q, args2, lits2 + guards2))
        prog.expect = ("cannot be stratified", None)       # any rule `negative_cycles` finds
    elif kind == "head" and p.sorts:
        k = rng.randrange(len(p.sorts))
        v = m.fresh(p.sorts[k])
        rule.args[k] = ("v", v)
        under = [(q, j) for q in prog.preds if q.level < p.level for j, s in enumerate(q.sorts)
                 if s == p.sorts[k]]
        if under and rng.random() < 0.5:
            q, j = rng.choice(under)
            rule.body.append(("atom", q, [("v", v) if i == j else ("_",) for i in range(len(q.sorts))], True))
        prog.expect = ("is a head variable", [rule])
    else:
        s = rng.choice(SORTS)
        rule.body.append(("cmp", "!=", ("v", m.fresh(s)), m.constant(s)))
        prog.expect = ("is a variable of a comparison", [rule])


# ---- the program as `.tl` text ------------------------------------------------------------------
def tl_name(pred):
    return pred.name[0].upper() + pred.name[1:]


def tl_term(t):
    if t[0] == "v":
        return t[1]
    if t[0] == "_":
        return "_"
    if t[0] == "i":
        return str(t[1])
    if t[0] == "s":
        return t[1]          # a constant: a domain declares every name (tl_program)
    if t[0] == "q":
        return f'"{t[1]}"'
    if t[0] == "agg":
        return f"{t[1]}({tl_term(t[2])})"
    left, right = tl_term(t[2]), tl_term(t[3])
    if t[3][0] == "i" and t[3][1] < 0:
        right = f"({right})"
    return f"({left} {t[1]} {right})"


def tl_literal(lit):
    if lit[0] == "cmp":
        return f"{tl_term(lit[2])} {lit[1]} {tl_term(lit[3])}"
    text = f"{tl_name(lit[1])}({', '.join(tl_term(a) for a in lit[2])})"
    return f"not {text}" if lit[3] else text


def constant_term(tagged):
    """A constant of clingo's model (as `tag` gives it) as a term."""
    kind, v = tagged
    return {"int": ("i", v), "Text": ("q", str(v)), "str": ("s", v)}[kind]


def loaded_row(row):
    """A fact's constants as `add_facts` takes them (a string as a `Text`, a name as a str)."""
    return tuple(Text(t[1]) if t[0] == "q" else t[1] for t in row)


def tl_program(prog):
    """The `.tl` text and the line of each rule.  A name is a constant where a fact or a domain
    holds it: a domain declares them all (typing the name positions of declared relations where
    `prog.names`)."""
    lines, where = [f"domain {'Name' if prog.names else 'Symbols'} = {{{', '.join(prog.symbols)}}}"], {}
    for p in prog.preds:
        if p.name in prog.declared:
            typed = [f"a{k}: Name" if prog.names and s == "s" else f"a{k}" for k, s in enumerate(p.sorts)]
            lines.append(f"relation {tl_name(p)}({', '.join(typed)})")
    for name, rows in prog.facts.items():
        pred = next(p for p in prog.preds if p.name == name)
        lines += [f"{tl_name(pred)}({', '.join(tl_term(t) for t in row)})" for row in rows
                  if name not in prog.loaded]
    for r in prog.rules:
        where[id(r)] = len(lines) + 1
        head = f"{tl_name(r.head)}({', '.join(tl_term(a) for a in r.args)})"
        lines.append(f"{head} {prog.arrow} {', '.join(tl_literal(lit) for lit in r.body)}")
    return "\n".join(lines) + "\n", where


def negative_cycles(prog):
    """The rules holding a negation of a predicate of their own recursive component."""
    reads = {}
    for r in prog.rules:
        reads.setdefault(r.head.name, set()).update(lit[1].name for lit in r.body if lit[0] == "atom")

    def reach(a):
        seen, todo = set(), [a]
        while todo:
            for b in reads.get(todo.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    return [r for r in prog.rules for lit in r.body
            if lit[0] == "atom" and lit[3] and r.head.name in reach(lit[1].name) | {lit[1].name}
            and (lit[1].name == r.head.name or lit[1].name in reach(r.head.name))]


# ---- running and comparing ----------------------------------------------------------------------
def queries(rng, prog, want):
    """(query text, its variables, the rows clingo's model gives them): every relation whole, and
    some with a constant bound or a variable repeated (queries may restrict the work to what
    they need; the answers must be the same, LANGUAGE.md §3); `want`'s constants are tagged
    (fuzz_logic_clingo.tag), as the rows compared are."""
    out = []
    for p in prog.preds:
        names = [f"q{k}" for k in range(len(p.sorts))]
        rows = want.get(p.name, set())
        out.append((f"{tl_name(p)}({', '.join(names)})", names, rows))
        if rows and names and rng.random() < 0.5:
            j, row = rng.randrange(len(names)), rng.choice(sorted(rows, key=repr))
            args = names[:j] + [tl_term(constant_term(row[j]))] + names[j + 1:]
            out.append((f"{tl_name(p)}({', '.join(args)})", names[:j] + names[j + 1:],
                        {r[:j] + r[j + 1:] for r in rows if r[j] == row[j]}))
        same = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names)) if p.sorts[i] == p.sorts[j]]
        if same and rng.random() < 0.3:
            i, j = rng.choice(same)
            args = names[:j] + [names[i]] + names[j + 1:]
            out.append((f"{tl_name(p)}({', '.join(args)})", names[:j] + names[j + 1:],
                        {r[:j] + r[j + 1:] for r in rows if r[i] == r[j]}))
    joinable = [(p, i, q, j) for p in prog.preds for q in prog.preds for i, a in enumerate(p.sorts)
                for j, b in enumerate(q.sorts) if a == b]
    if joinable and rng.random() < 0.5:
        # A variable shared by two relations, whose positions' domains may differ.
        p, i, q, j = rng.choice(joinable)
        left, right = [f"a{k}" for k in range(len(p.sorts))], [f"b{k}" for k in range(len(q.sorts))]
        rows_p, rows_q = want.get(p.name, set()), want.get(q.name, set())
        right[j] = left[i]
        if rng.random() < 0.5:
            out.append((f"{tl_name(p)}({', '.join(left)}), {tl_name(q)}({', '.join(right)})",
                        left + right[:j] + right[j + 1:],
                        {r + s[:j] + s[j + 1:] for r in rows_p for s in rows_q if r[i] == s[j]}))
        else:
            right = ["_" if k != j else left[i] for k in range(len(q.sorts))]
            out.append((f"{tl_name(p)}({', '.join(left)}), not {tl_name(q)}({', '.join(right)})", left,
                        {r for r in rows_p if not any(r[i] == s[j] for s in rows_q)}))
    return out


def tensorlogic_answers(fuzzed, text, asked, storage, tensors, first=False):
    """The rows TensorLogic gives each query, every relation stored `storage` ("sparse", or None:
    the engine's choice), the tuple engine's arrays engine tensors or numpy.  `first`: each query
    asked of a program that computed nothing yet (where one that binds an argument derives only
    what it asks for, lang/logic/demand.py) instead of after the run."""
    arrays.TENSORS_ON_CPU = tensors

    def compiled():
        prog = lang.compile(text, "fuzz.tl", max_steps=20_000, time_limit=20.0)
        for p in fuzzed.preds if storage else ():
            prog.storage(tl_name(p), storage)
        for name in sorted(fuzzed.loaded):
            prog.add_facts(tl_name(next(p for p in fuzzed.preds if p.name == name)),
                           [loaded_row(row) for row in fuzzed.facts[name]])
        return prog

    with warnings.catch_warnings():
        warnings.simplefilter("error", FixpointLimitWarning)
        warnings.simplefilter("ignore", UndefinedRelationWarning)
        # (a name a domain declares, at a position nothing puts it: the atom never holds, as in clingo)
        warnings.simplefilter("ignore", ConstantNameWarning)
        prog = None if first else compiled().run()
        out = []
        for query, names, _ in asked:
            got = (prog or compiled()).query(query)
            out.append(({()} if got else set()) if not names else
                       {tuple(tag(row[v]) for v in names) for row in got})
    return out


def binds(query, names):
    """Whether a query writes a constant where its atoms' variables would be (a bound argument)."""
    written = [a.strip() for a in query.replace(")", "(").split("(")[1::2] for a in a.split(",") if a.strip()]
    return any(a not in names and a != "_" for a in written)


def check(prog, rng):
    """None when TensorLogic agrees with clingo (or rejects an invalid program as it must), else
    what differs."""
    text, where = tl_program(prog)
    if prog.expect is not None:
        words, rules = prog.expect
        rules = rules if rules is not None else negative_cycles(prog)
        try:
            tensorlogic_answers(prog, text, queries(rng, prog, {}), None, False)
        except TensorLogicTypeError as err:
            lines = {where[id(r)] for r in rules}
            if words in err.message and err.lineno in lines and err.offset and "^" in str(err):
                return None
            return f"expected a located error '{words}' on line {sorted(lines)}, got:\n{err}"
        return f"expected a located error '{words}', got an answer"
    asked = queries(rng, prog, clingo_model(clingo_program(prog), tagged=True))
    problems = []
    bound = [q for q in asked if binds(q[0], q[1])]
    for storage, tensors, first in ((None, False, False), ("sparse", True, False), (None, False, True)):
        these = bound if first else asked
        got = tensorlogic_answers(prog, text, these, storage, tensors, first)
        for (query, _, want), rows in zip(these, got):
            if rows != want:
                problems.append(f"{query} ({storage or 'engine choice'}, {'tensors' if tensors else 'numpy'}"
                                f"{', asked first' if first else ''}): extra {sorted(rows - want, key=repr)}, "
                                f"missing {sorted(want - rows, key=repr)}")
    return "\n".join(problems) or None


def fuzz(seed, programs, out=sys.stdout, limit=-6, make=generate):
    """Runs the programs numbered `programs` of a seed, each made by `make(rng)`; prints each failure
    (the program, clingo's program, what differs); returns how many failed."""
    failures = 0
    for k in programs:
        rng = random.Random(seed * 1_000_003 + k)      # program k alone replays it
        prog = make(rng)
        try:
            problem = check(prog, rng)
        except Exception:           # the fuzzer's finding: a crash, an error on a valid program
            problem = traceback.format_exc(limit=limit)
        if problem:
            failures += 1
            loaded = "".join(f"prog.add_facts({tl_name(p)!r}, {[loaded_row(row) for row in prog.facts[p.name]]})\n"
                             for p in prog.preds if p.name in prog.loaded)
            print(f"=== seed {seed} program {k} (replay: python {sys.argv[0]} {seed} --replay {k})\n"
                  f"{tl_program(prog)[0]}{'--- then, before running' + chr(10) + loaded if loaded else ''}"
                  f"--- clingo\n{clingo_program(prog)}--- problem\n{problem}\n", file=out, flush=True)
    return failures


def main(argv, make=generate):
    """`SEED COUNT` runs programs 0..COUNT-1 of a seed; `SEED --replay K` runs program K alone,
    with the whole traceback of an error (programs made by `make(rng)`)."""
    seed = int(argv[1])
    try:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    except (ValueError, OSError):
        pass
    if argv[2] == "--replay":
        return 1 if fuzz(seed, [int(argv[3])], limit=None, make=make) else 0
    count = int(argv[2])
    failures = fuzz(seed, range(count), make=make)
    print(f"{count} programs, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
