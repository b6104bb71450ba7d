"""One rule body run on tuples: a plan (which literal next, chosen from what is bound and from the
relations' sizes) and its execution on a frame of bindings (one int64 column per variable).

A frame's rows are the body's bindings found so far, in arrays of the namespace `xp` (arrays.py:
numpy or tensors on the program's device).  A positive atom joins them with its relation through a
sorted index on the positions already bound (a sort-merge join); `not` is an anti-join on the bound
positions (its other variables are existential, so they are projected away first); a comparison
filters; `v == e` with `v` unbound computes `v`.

Arithmetic reads integers: a variable of a position that holds names (and integers) holds indices
of its constants, which arithmetic reads as their integers; a row where one is a name defines no
value and drops, as in clingo (`Q(x + 1) <- P(x)` over P(1), P(a) gives Q(2)).
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field

import numpy as np

from ..check.domains import Domain
from ..constants import INTEGER, clingo_order, constant_key, constant_kind, constant_of
from . import tuples as T
from .rules import Atom, RuleError, Test, binding_var, bound_vars, variables

# A join builds at most about this many output rows at once (see Runner.run).
CHUNK_ROWS = 1 << 18
# What a variable that arithmetic computes holds (`w == y - 1`): integers as they are, which a position
# of names and integers holds as indices of its constants (Runner.cast translates them there).
INTEGERS = Domain("integers", "range", declared=False)
COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}
# clingo's total order of constants (constants.order_key): an ordering holds where the kinds
# (integer, other) differ by its strict form, or where they agree and the values compare.
ORDERING = {"<": operator.lt, "<=": operator.lt, ">": operator.gt, ">=": operator.gt}


def is_numeric(domain) -> bool:
    """Integer domains hold their integers as values; an inferred domain with no constant yet
    becomes one when a rule computes into it."""
    if domain.kind == "inferred" and not domain.members:
        domain.kind, domain.start, domain.stop = "range", 0, 0
    return domain.kind == "range"


def integer_values(xp, col, domain):
    """The integers that a column of indices into a domain of names (and integers) stands for, and
    the mask of the rows that stand for an integer (a name is no number to compute with)."""
    keys = domain.constants()
    ints = [isinstance(k, int) and not isinstance(k, bool) for k in keys]
    values = np.array([k if i else 0 for k, i in zip(keys, ints)], dtype=np.int64)
    return xp.take(xp.asarray(values), col), xp.take(xp.asarray(np.array(ints, dtype=bool)), col)


def clingo_ranks(domain):
    """Each constant's place in clingo's order (integers by value, then names, then strings, each by
    its text), by index, and the indices in that order: min and max over names compare places."""
    keys = domain.constants()
    order = sorted(range(len(keys)), key=lambda i: clingo_order(keys[i]))
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[order] = np.arange(len(keys))
    return ranks, np.array(order, dtype=np.int64)


def extent(domain):
    """(low, size) of the values a position of this domain holds."""
    if domain.kind == "range":
        return domain.start, max(domain.stop - domain.start, 0)
    return 0, domain.size


def encode(domain, key):
    """The value of a constant at a position of `domain`, or None when it is not a member."""
    if domain.kind == "range":
        # Not checked against the bounds: an integer domain may grow after a plan is made; a value
        # outside it matches nothing.
        return key if isinstance(key, int) and not isinstance(key, bool) else None
    return domain.index(key)


@dataclass
class Step:
    kind: str                     # "atom", "not", "test", "assign"
    literal: object
    keep: set = field(default_factory=set)      # variables still needed after this step
    consts: list = field(default_factory=list)  # (position, value) filters of the relation
    equal: list = field(default_factory=list)   # (p, cp, q, cq): T[p] - cp == T[q] - cq
    keys: list = field(default_factory=list)    # (position, frame expression)
    binds: list = field(default_factory=list)   # (position, variable, shift)
    never: bool = False           # a constant outside the domain: the atom matches nothing
    delta: bool = False           # reads the previous round's new tuples
    plain: set = field(default_factory=set)     # variables bound as plain atom arguments
    # Position -> (domain, domain): a key (or an `equal` position's column) whose variable holds
    # indices of the first domain, read at a position of the second.  Rules unify a variable's
    # domains; a query's variable may meet several (Runner.cast).
    casts: dict = field(default_factory=dict)
    var_domain: dict = field(default_factory=dict)  # the plan's: what a key's variables hold
    # A product with every tuple (no keys) whose incoming rows may repeat (variables projected away
    # before it): the rows are made distinct first, or each repeat would be multiplied by the
    # relation (`H(x, y) <- A(x, z), B(y)` with many z per x).
    distinct_first: bool = False
    # An atom read without keys whose match binds variables nothing needs later: its rows are
    # first made distinct over the positions of those that are (`A(x, z)` read as the x of A).
    project: list = None


class Plan:
    """The order of a body's literals for one choice of delta atom."""

    def __init__(self, rule, domains_of, sizes, delta_index=None, var_domain_of=None):
        self.rule = rule
        self.var_domain_of = var_domain_of or (lambda v: None)   # the checker's, for assigned ones
        self.atom_bound = set()      # variables bound as plain arguments of atoms so far
        self.var_domain = {}
        self.keys_after, self.delta_index = 0, delta_index
        for atom in rule.atoms():
            for a, d in zip(atom.args, domains_of(atom.name)):
                if a[0] == "var":
                    self.var_domain.setdefault(a[1], d)
        # Variables the body binds (atoms, assignments); a negation's other ones are its own.
        positive = bound_vars(rule)
        bound, steps = set(), []
        pending = list(enumerate(rule.body))
        for k, (i, lit) in enumerate(list(pending)):
            if isinstance(lit, Atom) and not lit.negated:
                pending[k] = (i, self._shifts_read(lit, domains_of(lit.name), pending))
        while pending:
            pick = None
            for k, (i, lit) in enumerate(pending):
                if isinstance(lit, Test):
                    vl, vr = variables(lit.left), variables(lit.right)
                    if vl | vr <= bound or (lit.op == "==" and _assignable(lit, bound)):
                        pick = k
                        break
                elif lit.negated and {a[1] for a in lit.args if a[0] == "var"} & positive <= bound \
                        and set().union(*[variables(a) for a in lit.args if a[0] != "var"]) <= bound:
                    pick = k
                    break
            if pick is None:
                best = None
                for k, (i, lit) in enumerate(pending):
                    if isinstance(lit, Test) or lit.negated or not _computable(lit, bound):
                        continue
                    shared = sum(1 for a in lit.args if variables(a) and variables(a) <= bound)
                    score = (i != delta_index, shared == 0, -shared, sizes(lit.name, i == delta_index))
                    if best is None or score < best[0]:
                        best = (score, k)
                pick = best[1] if best is not None else self._keys_after(pending, bound, domains_of)
            i, lit = pending.pop(pick)
            steps.append(self._step(i, lit, bound, positive, domains_of, i == delta_index))
        needed = set(variables_of_head(rule))
        for step in reversed(steps):
            step.keep = set(needed)
            needed |= _uses(step)
        if rule.aggregate is not None:
            # An aggregate ranges over the distinct bindings of the whole body: nothing is
            # projected away before it.
            every = set().union(*[_binds(s) for s in steps])
            for step in steps:
                step.keep |= every
        for k, step in enumerate(steps):
            product = step.kind == "atom" and not step.keys and not _semi(step)
            step.distinct_first = product and k > 0 and not _distinct(steps[:k])
            if product and any(v not in step.keep for _, v, _ in step.binds):
                step.project = [p for p, v, _ in step.binds if v in step.keep]
        self.steps = steps
        self.exact = rule.aggregate is None and _distinct(steps) and \
            all(a[0] in ("var", "const", "num") for a in rule.head_args)

    def _step(self, i, lit, bound, positive, domains_of, delta):
        if isinstance(lit, Test):
            if lit.op == "==" and _assignable(lit, bound):
                var, expr = _assignable(lit, bound)
                bound.add(var)
                # The variable holds what it copies (in a query, of another domain than its atoms').
                if expr[0] == "var":
                    self.var_domain[var] = self.var_domain.get(expr[1])
                elif expr[0] == "op":
                    dom = self.var_domain.get(var) or self.var_domain_of(var)
                    self.var_domain[var] = dom if dom is not None and is_numeric(dom) else INTEGERS
                elif var not in self.var_domain:
                    self.var_domain[var] = self.var_domain_of(var)
                # A constant is assigned as its index in the variable's domain of names.
                dom = self.var_domain[var]
                dom = dom if expr[0] in ("const", "num") and dom is not None and not is_numeric(dom) else None
                return Step("assign", (var, expr, dom))
            # Constants order as in clingo (Runner._ordered), computed integers among them.
            return Step("test", lit)
        step = Step("not" if lit.negated else "atom", lit, delta=delta, plain=set(self.atom_bound),
                    var_domain=self.var_domain)
        doms = domains_of(lit.name)
        first = {}
        for p, (a, d) in enumerate(zip(lit.args, doms)):
            if a[0] in ("const", "num"):
                v = encode(d, a[1])
                if v is None:
                    step.never = True
                else:
                    step.consts.append((p, v))
                continue
            var = binding_var(a)
            shift = _shift(a) if var is not None else 0
            if a[0] == "op" and not is_numeric(d):
                # A computed key: the position holds indices of its constants (the integer's, if any).
                step.casts[p] = (INTEGERS, d)
            if var is not None and var not in bound:
                if lit.negated and var not in positive:
                    if var in first:
                        q, cq = first[var]
                        step.equal.append((p, shift, q, cq))
                        if domains_differ(d, doms[q]):
                            step.casts[p] = (d, doms[q])
                    else:
                        first[var] = (p, shift)
                    continue
                if var in first:
                    q, cq = first[var]
                    step.equal.append((p, shift, q, cq))
                    if domains_differ(d, doms[q]):
                        step.casts[p] = (d, doms[q])
                else:
                    first[var] = (p, shift)
                    step.binds.append((p, var, shift))
                    self.var_domain[var] = d
                continue
            if a[0] == "var" and domains_differ(self.var_domain.get(a[1]), d):
                step.casts[p] = (self.var_domain[a[1]], d)
            step.keys.append((p, a))
        if not lit.negated:
            bound |= {v for _, v, _ in step.binds}
            self.atom_bound |= {v for _, v, s in step.binds if s == 0}
        return step

    def _keys_after(self, pending, bound, domains_of):
        """No order binds the variables of a computed argument first (`P(x, 2 * x)`, or
        `E(x, 5 - y), E(5 - x, y)`): the first atom pending reads each such argument as a fresh
        variable, which a test compares with the argument once its variables are bound
        (`P(x, k), k == 2 * x`).  Returns the atom's place in `pending`."""
        atoms = [(k, item) for k, item in enumerate(pending) if isinstance(item[1], Atom) and not item[1].negated]
        k, (i, lit) = min(atoms, key=lambda a: a[1][0] != self.delta_index)
        args = list(lit.args)
        for p, a in enumerate(args):
            if a[0] == "op" and binding_var(a) is None and not variables(a) <= bound:
                domain = domains_of(lit.name)[p]
                self.keys_after += 1
                args[p] = ("var", f"_#key{self.keys_after}")
                self.var_domain[args[p][1]] = domain
                pending.append((-self.keys_after, Test("==", args[p], a, lit.span)))
        pending[k] = (i, dataclasses.replace(lit, args=args))
        return k

    def _shifts_read(self, lit, domains, pending):
        """`P(x + 1)` binds x from a position of names (and integers): the atom reads the position
        as a fresh variable k and a test computes x == k - 1 (from k's integers; a name defines
        nothing).  Returns the atom as planned."""
        args = list(lit.args)
        for p, (a, d) in enumerate(zip(args, domains)):
            if a[0] == "op" and binding_var(a) is not None and not is_numeric(d):
                self.keys_after += 1
                args[p] = ("var", f"_#key{self.keys_after}")
                self.var_domain[args[p][1]] = d
                pending.append((-self.keys_after, Test("==", ("var", binding_var(a)),
                                                       ("op", "-", args[p], ("num", _shift(a))), lit.span)))
        return dataclasses.replace(lit, args=args) if args != lit.args else lit


def held_names(domain):
    """The first names a domain holds, for an error saying why it is not one of integers."""
    names = [m for m in domain.members if isinstance(m, str)]
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def not_integers(domain):
    """Why a head position cannot take numbers a rule computes (the names that are there)."""
    names = held_names(domain)
    return f"holds names ({names}), not only integers" if names else "is not an integer domain"



def domains_differ(a, b):
    """Whether a variable's values in domain `a` must be translated to be read in domain `b` (two
    integer ranges hold values alike)."""
    return a is not None and b is not None and a is not b and not (a.kind == b.kind == "range")


def _computable(atom, bound):
    """Whether the atom's computed arguments (arithmetic other than `v + c`, such as `-y` or `x * y`) use
    only bound variables: they are keys looked up, not bindings, so their variables come first (where
    no order allows that, Plan._keys_after turns some into tests)."""
    return all(variables(a) <= bound for a in atom.args if a[0] != "var" and binding_var(a) is None)


def _shift(arg):
    """c for an argument `v + c`, `c + v` or `v - c` (-c), 0 for `v`: the position holds v + c."""
    if arg[0] == "var":
        return 0
    if arg[2][0] == "num":
        return arg[2][1]
    return arg[3][1] if arg[1] == "+" else -arg[3][1]


def variables_of_head(rule):
    out = set()
    for a in rule.head_args:
        out |= variables(a)
    if rule.aggregate is not None:
        out |= variables(rule.aggregate.term)
    return out


def _assignable(test, bound):
    for side, other in ((test.left, test.right), (test.right, test.left)):
        if side[0] == "var" and side[1] not in bound and variables(other) <= bound:
            return side[1], other
    return None


def _uses(step):
    if step.kind == "assign":
        return variables(step.literal[1])
    if step.kind == "test":
        return variables(step.literal.left) | variables(step.literal.right)
    return set().union(*[variables(e) for _, e in step.keys]) if step.keys else set()


def _binds(step):
    if step.kind == "assign":
        return {step.literal[0]}
    return {v for _, v, _ in step.binds}


def _semi(step) -> bool:
    """A positive atom none of whose new variables is needed later: it only tests that a match exists
    (a semi-join), so each binding stays one row (`Q(x) <- A(x), A(y)` is A, not A × A)."""
    return step.kind == "atom" and not any(v in step.keep for _, v, _ in step.binds)


def _distinct(steps) -> bool:
    """Whether the last step's rows are distinct bindings: no step drops a variable bound before it
    (two rows differing only there would become one), and every join's matched tuple is determined by
    the row (each position a constant, a key or a kept variable), relations being sets."""
    cols = set()
    for step in steps:
        if step.kind == "atom" and not _semi(step):
            covered = {p for p, _ in step.consts} | {p for p, _ in step.keys} | \
                {e[0] for e in step.equal} | {p for p, v, _ in step.binds if v in step.keep}
            if covered != set(range(len(step.literal.args))):
                return False
        if not cols <= step.keep:
            return False
        cols = (cols | _binds(step)) & step.keep
    return True


# ---- execution ----------------------------------------------------------------------------------
class Frame:
    """Bindings: one column per variable (arrays of the namespace `xp`), n rows."""

    def __init__(self, xp, columns, n):
        self.xp, self.columns, self.n = xp, columns, n

    def rows(self, a, b):
        return Frame(self.xp, {v: c[a:b] for v, c in self.columns.items()}, b - a)

    def keep(self, names):
        return Frame(self.xp, {v: c for v, c in self.columns.items() if v in names}, self.n)


def distinct(frame):
    """The frame's distinct rows (each column's values keyed over its own range)."""
    xp, names = frame.xp, sorted(frame.columns)
    if not names:
        return Frame(xp, {}, min(frame.n, 1))
    cols = [frame.columns[v] for v in names]
    lows = [xp.low(c) for c in cols]
    _, first = T.unique_first(xp, T.pack(xp, cols, lows, [xp.high(c) - lo + 1 for c, lo in zip(cols, lows)]))
    return Frame(xp, {v: xp.take(c, first) for v, c in zip(names, cols)}, len(first))


@dataclass
class Split:
    """A join whose output passes CHUNK_ROWS rows: the probe's row bounds of its pieces, the
    output's total rows, and whether every probe row gives as many (a join without keys)."""
    bounds: list
    total: int
    even: bool = False


def _space(step, ext):
    """How many keys a step's index may hold (the product of its key positions' extents), None
    where they are keys of words."""
    sizes = [ext[p][1] for p, _ in step.keys]
    return int(np.prod(sizes, dtype=object)) if T.radix_fits(sizes) else None


def _bounds(xp, counts):
    """Row bounds that split a probe into pieces of about CHUNK_ROWS output rows each (at least
    one probe row per piece)."""
    n, ends = len(counts), np.asarray(xp.numpy(xp.cumsum(counts)))
    cuts = np.searchsorted(ends, np.arange(CHUNK_ROWS, int(ends[-1]), CHUNK_ROWS))
    bounds = np.unique(np.concatenate([[0], cuts, [n]])).tolist()
    return Split(bounds if len(bounds) > 2 else [0, n // 2, n], int(ends[-1]))


class IntegerOverflow(RuleError):
    """A rule's integer arithmetic past 64 bits (a RuleError without a place until a caller that
    knows the rule gives it one)."""

    def __init__(self, message, span=None):
        super().__init__(message, span)


_INT64_MIN = -(1 << 63)


def _overflowed(xp, op, a, b, out):
    """The rows where `a op b` (+, - or *) wrapped around in int64: a sum whose sign differs from
    both operands', a difference from the minuend's where the operands' signs differ, a product
    that division does not take back (or -1 times the smallest int64)."""
    if op == "+":
        return ((a ^ out) & (b ^ out)) < 0
    if op == "-":
        return ((a ^ b) & (a ^ out)) < 0
    plain = (a != 0) & (a != -1)
    divisor = xp.where(plain, a, xp.full(len(a), 1))   # (no division by 0, nor of the smallest by -1)
    return (plain & ((out // divisor) != b)) | ((a == -1) & (b == _INT64_MIN))


def evaluate(expr, frame, encode_const=None, var_domain=None):
    """Values of an expression over a frame's rows and the mask of rows where it is defined
    (division by zero, or a name where arithmetic reads a variable of `var_domain`'s domains of
    names, defines nothing). Raises IntegerOverflow where a sum, difference or product of 64-bit
    integers wraps around (clingo's integers are 32-bit; a wrapped value would be a wrong answer,
    not a value)."""
    kind = expr[0]
    if kind == "var":
        return frame.columns[expr[1]], None
    if kind in ("num", "const"):
        v = encode_const(expr[1]) if encode_const is not None else expr[1]
        if v is None or isinstance(v, str):
            # A name outside the domain (or among integers) is no value there: it defines nothing.
            return frame.xp.full(frame.n, 0), frame.xp.flags(frame.n, False)
        return frame.xp.full(frame.n, v), None
    a, ma = _operand(expr[2], frame, var_domain)
    b, mb = _operand(expr[3], frame, var_domain)
    mask = ma if mb is None else (mb if ma is None else ma & mb)
    op = expr[1]
    if op in ("+", "-", "*"):
        with np.errstate(over="ignore"):
            out = a + b if op == "+" else a - b if op == "-" else a * b
            wrapped = _overflowed(frame.xp, op, a, b, out)
        if mask is not None:
            wrapped = wrapped & mask
        if frame.xp.count(wrapped):
            row = int(frame.xp.numpy(frame.xp.nonzero(wrapped))[0])
            x, y = int(frame.xp.numpy(a)[row]), int(frame.xp.numpy(b)[row])
            raise IntegerOverflow(f"{x} {op} {y} does not fit in a 64-bit integer (the rule's arithmetic "
                                  f"would wrap around to a wrong value)")
        return out, mask
    ok = b != 0
    safe = frame.xp.where(ok, b, 1)
    # clingo's / and \ (Soufflé's too) truncate toward zero: floor division is one lower where the signs
    # differ and the division is inexact
    floor = a // safe
    up = ((a - floor * safe) != 0) & ((a < 0) ^ (safe < 0))
    quotient = frame.xp.where(up, floor + 1, floor)
    out = quotient if op == "/" else a - quotient * safe
    return out, ok if mask is None else mask & ok


def _operand(expr, frame, var_domain):
    """An operand of arithmetic: a variable over names (and integers) as its integers."""
    if expr[0] == "var" and var_domain:
        d = var_domain.get(expr[1])
        if d is not None and not is_numeric(d):
            return integer_values(frame.xp, frame.columns[expr[1]], d)
    return evaluate(expr, frame, None, var_domain)


def apply_mask(frame, mask):
    if mask is None:
        return frame
    xp = frame.xp
    rows = xp.nonzero(mask)
    return Frame(xp, {v: xp.take(c, rows) for v, c in frame.columns.items()}, len(rows))


class Runner:
    """Executes plans; keeps the sorted indexes of relations that do not change during a
    component's evaluation (keyed by the table's identity and the step's shape)."""

    def __init__(self, extents_of, xp, planned=None):
        self.extents_of = extents_of         # relation name -> [(low, size)] per position
        self.xp = xp
        self.indexes = {}
        # planned(plan, rows, exact): told, before a split last join runs, how many of the rule's
        # distinct head tuples (Plan.exact) it gives, so that a result past memory stops there
        # (Logic.planned raises); `exact` where every split above was even, else at least as many.
        self.planned = planned

    def run(self, plan, table_of):
        """The body's bindings as frames: one, or several when a join's output would pass
        CHUNK_ROWS rows (its probe rows are split, so that peak memory stays bounded);
        `table_of(step)` gives the tuples a step reads."""
        return self._steps(plan, 0, Frame(self.xp, {}, 1), table_of, 1.0)

    def _steps(self, plan, start, frame, table_of, scale):
        """`scale`: how many times this frame's rows the whole body's are at this point, where
        every split above gave each probe row as many rows (None where not)."""
        for k in range(start, len(plan.steps)):
            step = plan.steps[k]
            if frame.n == 0:
                break
            if step.kind == "assign":
                var, expr, dom = step.literal
                values, mask = evaluate(expr, frame, None if dom is None else (lambda key: encode(dom, key)),
                                        plan.var_domain)
                frame.columns[var] = values
                frame = apply_mask(frame, mask)
            elif step.kind == "test":
                frame = self._test(step, frame, plan)
            else:
                if step.distinct_first and frame.n > 1:
                    frame = distinct(frame)
                out = self._atom(step, frame, table_of(step))
                if isinstance(out, Split):
                    if self.planned is not None and k == len(plan.steps) - 1 and plan.exact:
                        whole = scale is not None and out.even
                        self.planned(plan, round(out.total * scale) if whole else out.total, whole)
                    for a, b in zip(out.bounds[:-1], out.bounds[1:]):
                        part = scale * frame.n / (b - a) if scale is not None and out.even else None
                        yield from self._steps(plan, k, frame.rows(a, b), table_of, part)
                    return
                frame = out
            frame = frame.keep(step.keep)
        yield frame

    def _test(self, step, frame, plan):
        t = step.literal
        dom = None
        for side in (t.left, t.right):
            if side[0] == "var":
                dom = plan.var_domain.get(side[1])
        if t.op in ORDERING and self._names_take_part(t, plan):
            return apply_mask(frame, self._ordered(t, frame, plan))
        enc = (lambda key: encode(dom, key)) if dom is not None and not is_numeric(dom) else None
        for side in (t.left, t.right):
            v = side[1] if side[0] not in ("const", "num") or enc is None else enc(side[1])
            if side[0] in ("const", "num") and (v is None or isinstance(v, str)):
                # A name outside the domain (or among integers) equals none of its values.
                return frame if t.op == "!=" else apply_mask(frame, frame.xp.flags(frame.n, False))
        a, ma = evaluate(t.left, frame, enc, plan.var_domain)
        b, mb = evaluate(t.right, frame, enc, plan.var_domain)
        da, db = (plan.var_domain.get(side[1]) if side[0] == "var" else INTEGERS if side[0] == "op" else None
                  for side in (t.left, t.right))
        # Values of different domains compare in one: computed integers (`y - 1 == x`) and a
        # variable's in a domain of names and integers, as indices there (integers go to the names'
        # domain, where what it lacks is no index).
        if domains_differ(db, da) and (da.kind != "range" or db.kind == "range"):
            b = self.cast(b, db, da)
        elif domains_differ(da, db):
            a = self.cast(a, da, db)
        mask = COMPARE[t.op](a, b)
        for m in (ma, mb):
            if m is not None:
                mask = mask & m
        return apply_mask(frame, mask)

    @staticmethod
    def _names_take_part(t, plan):
        for side in (t.left, t.right):
            if side[0] == "var":
                d = plan.var_domain.get(side[1])
                if d is not None and not is_numeric(d):
                    return True
            elif side[0] == "const" and isinstance(side[1], str):
                return True
        return False

    def _ordered(self, t, frame, plan):
        """The rows where an ordering holds in clingo's total order (`x < y` over names and integers,
        `n < "b"`): each side as (kind, value) columns, kind 0 for an integer (its value) and 1 for a
        name or a string (its place among them in clingo's order)."""
        xp = self.xp
        doms = [plan.var_domain.get(s[1]) if s[0] == "var" else None for s in (t.left, t.right)]
        names = {constant_key(s[1]) for s in (t.left, t.right) if s[0] == "const" and constant_kind(s[1]) != INTEGER}
        for d in doms:
            if d is not None and not is_numeric(d):
                names.update(constant_key(c) for c in d.constants() if constant_kind(c) != INTEGER)
        place = {k: i for i, k in enumerate(sorted(names, key=lambda k: clingo_order(constant_of(k))))}
        sides, defined = [], None
        for s, d in zip((t.left, t.right), doms):
            if s[0] == "op":
                col, m = evaluate(s, frame, None, plan.var_domain)
                sides.append((xp.full(frame.n, 0), col))
                defined = m if defined is None else (defined if m is None else defined & m)
            elif s[0] != "var":
                name = constant_kind(s[1]) != INTEGER
                sides.append((xp.full(frame.n, int(name)), xp.full(frame.n, place[constant_key(s[1])] if name else s[1])))
            elif d is None or is_numeric(d):
                col = frame.columns[s[1]]
                sides.append((xp.full(frame.n, 0), col))
            else:
                keys = d.constants()
                kinds = np.array([constant_kind(k) != INTEGER for k in keys], dtype=np.int64)
                values = np.array([place[constant_key(k)] if constant_kind(k) != INTEGER else k for k in keys], dtype=np.int64)
                col = frame.columns[s[1]]
                sides.append((xp.take(xp.asarray(kinds), col), xp.take(xp.asarray(values), col)))
        (ka, va), (kb, vb) = sides
        holds = ORDERING[t.op](ka, kb) | ((ka == kb) & COMPARE[t.op](va, vb))
        return holds if defined is None else holds & defined

    def _index(self, step, table):
        """The table's rows passing the step's constant and equality filters, and their
        `T.RunIndex` by the step's key positions.  A table that is an earlier one with rows appended
        (`T.Appended`: a relation of the component running to a fixpoint) adds the new rows to the
        earlier one's index."""
        lineage = None
        if isinstance(table, T.Appended):
            table, lineage = table.rows, table.lineage
        sig = (id(step), step.delta)
        hit = self.indexes.get(sig)
        ext = self.extents_of(step.literal.name)
        # The entry keeps its step alive: a query's plan dies after it, and a later step reusing its
        # id must not read its index. Keys are packed by the domains' extents: a domain grown since
        # (a rule computed new integers into it) packs them anew.
        # The entry holds the selected rows as `T.Growing` (None where the step selects nothing:
        # its rows are the table's).
        if hit is not None and hit[0] is step and hit[4] == ext and \
                (hit[1] is table or (lineage is not None and hit[5] is lineage)):
            _, before, selected, index, _, _ = hit
            if before is not table:
                index = self._extended(step, table, before, selected, index, ext)
                self.indexes[sig] = (step, table, selected, index, ext, lineage)
            return (table if selected is None else selected.rows()), index
        rows = self._selected(step, table)
        index = T.RunIndex.of(self.xp, self._keys(step, rows, ext), _space(step, ext)) if step.keys else None
        if not step.delta:
            selects = step.consts or step.equal or step.project is not None
            selected = T.Growing(self.xp, rows.shape[1], rows) if selects else None
            self.indexes[sig] = (step, table, selected, index, ext, lineage)
        return rows, index

    def _selected(self, step, table):
        """The rows passing the step's constant and equality filters (distinct where the step
        projects)."""
        xp, rows = self.xp, table
        if step.consts or step.equal:
            mask = xp.flags(len(table), True)
            for p, v in step.consts:
                mask = mask & (table[:, p] == v)
            for p, cp, q, cq in step.equal:
                col = self.cast(table[:, p], *step.casts[p]) if p in step.casts else table[:, p]
                mask = mask & ((col - cp) == (table[:, q] - cq))
            rows = T.compress(xp, table, mask)
        if step.project is not None and len(rows) > 1:
            ext = self.extents_of(step.literal.name)
            _, first = T.unique_first(xp, T.pack(xp, [rows[:, p] for p in step.project],
                                                 [ext[p][0] for p in step.project], [ext[p][1] for p in step.project]))
            rows = xp.take(rows, first)
        return rows

    def _keys(self, step, rows, ext):
        """The packed keys of rows at the step's key positions."""
        pos = [p for p, _ in step.keys]
        return T.pack(self.xp, [rows[:, p] for p in pos], [ext[p][0] for p in pos], [ext[p][1] for p in pos])

    def _extended(self, step, table, before, selected, index, ext):
        """The index of `table`, whose first rows are the table `before`, from that of `before`:
        the rows after them selected, appended to the `selected` rows (a `T.Growing`, or None where
        the step selects nothing) and added to the index (a projecting step's rows may then repeat
        one of an earlier round: still far fewer than unprojected)."""
        added = self._selected(step, table[len(before):])
        first = len(before) if selected is None else selected.n
        if selected is not None:
            selected.extend(added)
        if index is None or len(added) == 0:
            return index
        return index.appended(self._keys(step, added, ext), first)

    def _probe(self, step, frame):
        """The frame's keys into the step's index, the mask of rows whose keys can match (inside
        the positions' domains), and the mask of rows whose keys are defined (None: all)."""
        ext = self.extents_of(step.literal.name)
        cols, defined = [], None
        for p, expr in step.keys:
            v, m = evaluate(expr, frame, None, step.var_domain)
            cols.append(self.cast(v, *step.casts[p]) if p in step.casts else v)
            if m is not None:
                defined = m if defined is None else defined & m
        lows = [ext[p][0] for p, _ in step.keys]
        sizes = [ext[p][1] for p, _ in step.keys]
        mask = defined
        # A plain variable bound by an atom holds values of this position's domain already.
        if step.casts or not all(e[0] == "var" and e[1] in step.plain for _, e in step.keys):
            inside = T.in_range(cols, lows, sizes)
            mask = inside if mask is None else mask & inside
        return T.pack(self.xp, cols, lows, sizes), mask, defined

    def _atom(self, step, frame, table):
        xp = self.xp
        if step.kind == "not":
            return self._anti(step, frame, table)
        if step.never:
            return Frame(xp, {}, 0)
        rows, index = self._index(step, table)
        if _semi(step):
            if index is None:
                return frame if len(rows) else Frame(xp, {}, 0)
            key, mask, _ = self._probe(step, frame)
            found = T.RunIndex.counts(index.ranges(key)) > 0
            return apply_mask(frame, found if mask is None else found & mask)
        if index is None and not frame.columns and frame.n == 1:
            # The first atom of a body: its rows are the bindings.
            cols = {}
            for p, var, shift in step.binds:
                if var in step.keep:
                    cols[var] = rows[:, p] - shift if shift else rows[:, p]
            return Frame(xp, cols, len(rows))
        if index is None:
            n, m = frame.n, len(rows)
            if n * m > CHUNK_ROWS and n > 1:
                split = _bounds(xp, xp.full(n, m))
                split.even = True
                return split
            pairs = xp.arange(n * m)
            fi, ti = pairs // m, pairs % m
        else:
            key, mask, _ = self._probe(step, frame)
            ranges = index.ranges(key, mask)
            counts = T.RunIndex.counts(ranges)
            if frame.n > 1 and xp.total(counts) > CHUNK_ROWS:
                return _bounds(xp, counts)
            fi, ti = index.expand(ranges)
        cols = {v: xp.take(c, fi) for v, c in frame.columns.items() if v in step.keep}
        if step.binds:
            matched = xp.take(rows, ti)
            for p, var, shift in step.binds:
                if var in step.keep:
                    cols[var] = matched[:, p] - shift if shift else matched[:, p]
        return Frame(xp, cols, len(fi))

    def cast(self, col, src, dst):
        """Values of domain `src` as `dst` holds them (a value `dst` lacks becomes one below its
        extent: it matches nothing there)."""
        xp = self.xp
        missing = extent(dst)[0] - 1
        if src.kind != "range":
            coded = [encode(dst, key) for key in src.constants()]
            return xp.take(xp.asarray(np.array([missing if c is None else c for c in coded], dtype=np.int64)), col)
        # Integers (`v - 1` binds v outside its atom's range): the members of `dst` that are integers.
        pairs = sorted((k, i) for i, k in enumerate(dst.constants()) if isinstance(k, int) and not isinstance(k, bool))
        if not pairs:
            return xp.full(len(col), missing)
        keys = xp.asarray(np.array([k for k, _ in pairs], dtype=np.int64))
        at = xp.searchsorted(keys, col)
        at = xp.where(at == len(pairs), 0, at)
        hit = xp.take(keys, at) == col
        return xp.where(hit, xp.take(xp.asarray(np.array([i for _, i in pairs], dtype=np.int64)), at), missing)

    def _anti(self, step, frame, table):
        """`not A(...)`: the rows with no match; a row where a computed argument is undefined
        (division by zero) is dropped, as everywhere else."""
        xp = self.xp
        defined = None
        if step.keys:
            key, mask, defined = self._probe(step, frame)
        if not step.never:
            rows, index = self._index(step, table)
            if index is None:
                return Frame(xp, {}, 0) if len(rows) else frame
            hit = index.contains(key)
            keep = ~(hit if mask is None else hit & mask)
            return apply_mask(frame, keep if defined is None else keep & defined)
        return apply_mask(frame, defined)
