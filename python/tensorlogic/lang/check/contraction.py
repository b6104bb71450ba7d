"""Contraction plans: for each right side (of an equation, a rule or a query), which indices each
product sums and which survive to be projected onto the left side.  The checker computes one plan
per right side and stores it on the checked program; the interpreter only reads it.

Summation rule (Einstein's, per product): an index that is not on the left side is summed in a
product (juxtaposed factors) where at least two of the factors carry it, so `relu(W[i, j] X[j] + B[i])`
sums j before relu and `A[n, d] U[d, e] + C[n, d] V[d, e]` sums d in each product separately.  An
index that no product sums survives up to the whole right side and is projected there: by sum for
`=` (so `(P[i] - Y[i]) ^ 2` squares before summing i), by max, min or mean for `max=`, `min=`,
`avg=` (which never sum inside products).  Outside equations (queries, `print`) surviving indices are
kept.  An index both summed in a product and surviving elsewhere (`A[j] B[j] + C[j]`) is ambiguous and
rejected.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..syntax import nodes as N


@dataclass
class Plan:
    sum_at: dict = field(default_factory=dict)     # Juxt node -> set of labels summed there
    top: set = field(default_factory=set)           # labels projected after the whole right side
    lhs_vars: tuple = ()                            # labels of the left side, first appearance order
    marked: str | None = None                       # the normalised axis (`i.` on the left)


def var_names(root):
    """Index-variable names under `root` in first-appearance order (not `_`)."""
    out = []
    for n in N.walk(root):
        if isinstance(n, N.Name) and n.role == "var" and n.id != "_" and n.id not in out:
            out.append(n.id)
    return out


def plan(rhs, lhs_items=None, op="=", keep=(), error=None):
    """Contraction plan for a right side.  `lhs_items`: the left side's index items (None outside
    equations); `keep`: labels that must survive (a rule's head variables); `error(message, span)`
    builds the exception for an ambiguous index."""
    lhs_vars = []
    marked = None
    for item in lhs_items or ():
        for v in var_names(item.expr):
            if v not in lhs_vars:
                lhs_vars.append(v)
        if item.marked and isinstance(item.expr, N.Name):
            marked = item.expr.id
    for v in keep:
        if v not in lhs_vars:
            lhs_vars.append(v)
    p = Plan(lhs_vars=tuple(lhs_vars), marked=marked)
    free = {}                      # node -> labels free in that subtree
    # Post-order without recursion: children before parents.
    order, stack = [], [rhs]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(N.iter_children(node))
    for node in reversed(order):
        if isinstance(node, N.Name) and node.role == "var" and node.id != "_":
            free[node] = {node.id}
            continue
        kids = [free.get(c, set()) for c in N.iter_children(node)]
        here = set().union(*kids) if kids else set()
        if isinstance(node, N.Juxt) and op == "=":
            per_factor = [free.get(f, set()) for f in node.factors]
            summed = {v for v in here if v not in lhs_vars and
                      sum(v in f for f in per_factor) >= 2}
            if summed:
                p.sum_at[node] = summed
                here = here - summed
        free[node] = here
    p.top = {v for v in free.get(rhs, set()) if v not in lhs_vars}
    summed_anywhere = set().union(*p.sum_at.values()) if p.sum_at else set()
    ambiguous = summed_anywhere & p.top
    if ambiguous and error is not None:
        v = sorted(ambiguous)[0]
        raise error(f"index '{v}' is summed inside a product but also used outside it; rename one "
                    f"of them", _free_occurrence(rhs, v, p))
    return p


def _free_occurrence(rhs, v, p):
    """Span of an occurrence of `v` that no enclosing product sums."""
    stack = [(rhs, False)]
    while stack:
        node, covered = stack.pop()
        covered = covered or (isinstance(node, N.Juxt) and v in p.sum_at.get(node, ()))
        if isinstance(node, N.Name) and node.role == "var" and node.id == v and not covered:
            return node.span
        stack.extend((c, covered) for c in N.iter_children(node))
    return rhs.span


def conjunction(literals, span, always_product=False):
    """The product of a rule's or query's literals, `not A` read as `!A` (1 - A); a single literal
    stands alone unless `always_product`."""
    factors = [N.Prefix(span=l.span, ops=["!"], operand=l.expr) if l.negated else l.expr
               for l in literals]
    if len(factors) == 1 and not always_product:
        return factors[0]
    return N.Juxt(span=span, factors=factors)
