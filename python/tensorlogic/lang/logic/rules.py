"""Rules as the tuple engine sees them (atoms, tests, head terms and aggregates) and the safety check
that the checker runs on every rule.

Safety (LANGUAGE.md §3): a variable is bound by a positive body atom where it is an argument on its
own or shifted by a constant (`Fib(n - 1, a)` binds `n`), or by `v == e` once `e` is bound.  Every
head variable, every variable of a comparison and of an arithmetic argument must be bound.  A
variable that appears only under `not` is quantified inside the negation: `not S(x, p, p)` holds
when there is no `p` with `S(x, p, p)`.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..check.strata import is_recursive
from ..syntax import nodes as N

AGGREGATES = ("count", "sum", "min", "max", "avg")
ORDER_OPS = ("<", "<=", ">", ">=")


# Expressions are tuples: ("var", name), ("const", key) for a domain constant (a name or a string, or
# an integer at an atom position), ("num", int), ("op", op, left, right) with op in + - * / %.
@dataclass
class Atom:
    name: str
    args: list
    negated: bool
    span: object
    node: object = None


@dataclass
class Test:
    op: str                 # == != < <= > >=
    left: tuple
    right: tuple
    span: object


@dataclass
class Aggregate:
    fn: str
    position: int
    term: tuple
    span: object


@dataclass
class Rule:
    head: str
    head_args: list         # expressions; the aggregate's position holds None
    aggregate: Aggregate | None
    body: list              # Atom and Test in source order
    span: object
    node: object = None
    fresh: int = 0

    @property
    def plain_vars(self):
        """Variables that are arguments on their own of a positive atom."""
        if not hasattr(self, "_plain"):
            self._plain = {a[1] for atom in self.atoms() for a in atom.args if a[0] == "var"}
        return self._plain

    def atoms(self, negated=False):
        return [b for b in self.body if isinstance(b, Atom) and b.negated == negated]


def variables(expr) -> set:
    if expr is None:
        return set()
    if expr[0] == "var":
        return {expr[1]}
    if expr[0] == "op":
        return variables(expr[2]) | variables(expr[3])
    return set()


def binding_var(expr):
    """The variable an atom argument binds: `v`, `v + c`, `v - c`, `c + v` (None otherwise)."""
    if expr[0] == "var":
        return expr[1]
    if expr[0] == "op" and expr[1] in "+-":
        left, right = expr[2], expr[3]
        if left[0] == "var" and right[0] == "num":
            return left[1]
        if expr[1] == "+" and left[0] == "num" and right[0] == "var":
            return right[1]
    return None


class RuleError(Exception):
    def __init__(self, message, span):
        super().__init__(message)
        self.message, self.span = message, span


def lower(rule: N.Rule) -> Rule | None:
    """The tuple engine's form of a checked rule; None when its body reads tensors (only the dense
    path runs it).  Raises RuleError for an argument no engine can compute."""
    out = Rule(rule.head.name, [], None, [], rule.span, rule)
    for k, a in enumerate(rule.head.args):
        if isinstance(a, N.Call) and a.name in AGGREGATES:
            if out.aggregate is not None:
                raise RuleError("a head holds at most one aggregate", a.span)
            if len(a.args) != 1 or a.kwargs:
                raise RuleError(f"{a.name} takes one argument, like {a.name}(y)", a.span)
            out.aggregate = Aggregate(a.name, k, _expr(a.args[0], out), a.span)
            out.head_args.append(None)
        else:
            out.head_args.append(_expr(a, out))
    return out if lower_body(rule.body, out) else None


def lower_body(literals, out) -> bool:
    """Appends the literals to `out.body`; False when one reads tensors."""
    for lit in literals:
        e, negated = lit.expr, lit.negated
        if isinstance(e, N.Prefix) and e.ops == ["!"]:
            e, negated = e.operand, not negated
        if isinstance(e, N.Compare):
            if negated:
                raise RuleError("write the opposite comparison instead of `not`", lit.span)
            out.body.append(Test(e.op, _expr(e.left, out), _expr(e.right, out), e.span))
        elif isinstance(e, N.Call) and e.kind == "relation":
            out.body.append(Atom(e.name, [_expr(a, out) for a in e.args], negated, lit.span, e))
        elif isinstance(e, N.Index) and isinstance(e.base, N.Name) and len(e.groups) == 1 and \
                all(isinstance(i, N.Idx) for i in e.groups[0]) and e.base.role == "value":
            out.body.append(Atom(e.base.id, [_expr(i.expr, out) for i in e.groups[0]], negated,
                                 lit.span, e))
        else:
            return False
    return True


def _expr(a, rule):
    if isinstance(a, N.Name):
        if a.role == "var":
            if a.id == "_":
                rule.fresh += 1
                return ("var", f"_#{rule.fresh}")
            return ("var", a.id)
        if a.role == "const":
            return ("const", a.key)
        raise RuleError(f"'{a.id}' is a value; rules hold variables and constants", a.span)
    if isinstance(a, N.Str):
        return ("const", a.constant)
    if isinstance(a, N.Num):
        if not a.is_int:
            raise RuleError(f"rules compute with integers, not {a.text}", a.span)
        return ("num", a.value)
    if isinstance(a, N.Prefix) and all(op in "+-" for op in a.ops):
        inner = _expr(a.operand, rule)
        if a.ops.count("-") % 2 == 0:
            return inner
        return ("num", -inner[1]) if inner[0] == "num" else ("op", "-", ("num", 0), inner)
    if isinstance(a, N.BinChain) and all(op in "+-*/%" for op in a.ops):
        acc = _expr(a.operands[0], rule)
        for op, b in zip(a.ops, a.operands[1:]):
            acc = ("op", op, acc, _expr(b, rule))
        return acc
    raise RuleError("an atom's arguments are variables, constants and integer arithmetic "
                    "(+ - * / %)", a.span)


def bound_vars(rule: Rule) -> set:
    """The variables the body binds: by positive atoms, then by `v == e` once e is bound."""
    bound = set()
    for atom in rule.atoms():
        for a in atom.args:
            v = binding_var(a)
            if v is not None:
                bound.add(v)
    changed = True
    while changed:
        changed = False
        for t in rule.body:
            if isinstance(t, Test) and t.op == "==":
                for side, other in ((t.left, t.right), (t.right, t.left)):
                    if side[0] == "var" and side[1] not in bound and variables(other) <= bound:
                        bound.add(side[1])
                        changed = True
    return bound


def bound_order(rule: Rule):
    """Checks safety; returns the set of variables bound positively.  Raises RuleError at the first
    unsafe use."""
    bound = bound_vars(rule)
    for t in rule.body:
        if isinstance(t, Test):
            _require(variables(t.left) | variables(t.right), bound, t.span, "comparison")
        else:
            for a in t.args:
                if (t.negated and a[0] != "var") or (not t.negated and binding_var(a) is None):
                    _require(variables(a), bound, t.span, "argument")
    for k, a in enumerate(rule.head_args):
        _require(variables(a), bound, rule.node.head.args[k].span if rule.node else rule.span,
                 "head")
    if rule.aggregate is not None:
        _require(variables(rule.aggregate.term), bound, rule.aggregate.span, "aggregate")
    return bound


def _require(names, bound, span, where):
    missing = sorted(v for v in names - bound)
    if missing:
        v = missing[0]
        shown = "_" if v.startswith("_#") else v
        what = {"head": "a head variable", "comparison": "a variable of a comparison",
                "argument": "a variable of an arithmetic argument",
                "aggregate": "a variable of an aggregate"}[where]
        raise RuleError(f"'{shown}' is {what} but no positive atom of the body binds it "
                        f"(unsafe rule)", span)


def is_dense_rule(rule: Rule) -> bool:
    """Whether the dense (einsum) path computes this rule: atoms of plain variables and constants,
    `==`/`!=` between them, and negations whose variables are all bound positively."""
    if rule.aggregate is not None or any(a[0] not in ("var", "const") for a in rule.head_args):
        return False
    positive = {a[1] for atom in rule.atoms() for a in atom.args if a[0] == "var"}
    for b in rule.body:
        if isinstance(b, Test):
            if b.op not in ("==", "!=") or any(s[0] not in ("var", "const") for s in (b.left, b.right)):
                return False
            # A variable only a comparison binds (`w == x`) has no axis to range over.
            if any(s[0] == "var" and s[1] not in positive for s in (b.left, b.right)):
                return False
        else:
            if any(a[0] not in ("var", "const") for a in b.args):
                return False
            if b.negated and any(a[0] == "var" and a[1] not in positive for a in b.args):
                return False
    return True


def check_rules(checker, graph, order):
    """Checks every rule the tuple engine can express for safety, and that only min and max
    aggregate through recursion (located errors)."""
    recursive = {m for comp in order if is_recursive(graph, comp) for m in comp}
    for rel in checker.relations.values():
        for r in rel.rules:
            try:
                low = lower(r)
                if low is not None:
                    bound_order(low)
            except RuleError as err:
                raise checker.error(err.message, err.span) from None
            if low is not None and low.aggregate and low.aggregate.fn not in ("min", "max") and \
                    rel.name in recursive:
                raise checker.error(f"'{rel.name}' is defined through itself with "
                                    f"{low.aggregate.fn}: only min and max aggregate recursively",
                                    r.span)
