"""Contraction plans: for each right side (of an equation, a rule or a query), where each index that
is not on the left side is summed.  The checker computes one plan per right side and stores it on
the checked program; the interpreter only reads it.

Summation rule of an equation (`=`), Einstein's convention per term as in Tensor Logic: an index that
is not on the left side is summed at the innermost place that holds every occurrence of it, among:
the scopes (the whole right side and each function argument: a nonlinearity's argument is a right
side of its own), the terms of a scope (the operands of its sums and differences, through unary
signs: not those of a sum in parentheses inside a product or a power, which is one factor), and
the products (juxtaposed factors, or a chain of `*` and `/`) for the indices that two or more of
their factors carry.  When that place is a sum of terms, each term holding the index sums it on
its own (terms add after their sums, so a term without the index is never repeated along it).
Positions inside brackets and relation atoms are indices.  Hence
`A[i, j] + B[i]` sums j in the first term only, `relu(W[i, j]) X[j]` sums j over the product,
`relu(A[i, j] + B[i])` sums j before relu, `(P[i] - T[i]) ^ 2` and `(W[i, j] - 1) ^ 2` square
before summing, `(X[i, j] X[k, j]) ^ 2` squares the dot product, and `exp(-(X[i, j] - X[k, j]) ^ 2)`
sums j inside exp.

`max=`, `min=`, `avg=` never sum inside: every index absent from the left side is projected by max,
min or mean over the whole right side.  Outside equations (queries, `print`) there is no left side:
an index is summed in a product where at least two factors carry it (`A[i, j] B[j]` sums j) and
every other index is kept; one summed in a product and also used outside it (`A[j] B[j] + C[j]`) is
ambiguous there and rejected.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..syntax import nodes as N


@dataclass
class Plan:
    sum_at: dict = field(default_factory=dict)     # node -> labels summed once it is evaluated
    top: set = field(default_factory=set)           # labels projected after the whole right side
    lhs_vars: tuple = ()                            # labels of the left side, first appearance order
    marked: str | None = None                       # the normalised axis (`i.` on the left)
    owner: object = None                            # the statement (its variables' domains)
    reduce_at: dict = field(default_factory=dict)   # reduction call -> labels it reduces (`max(X[i, j])`)


# Built-ins that, given one indexed argument, reduce its indices that nothing outside holds (`S =
# max(X[i])`, `print(sum(abs(A[i, j] - B[i, j])))`) by their own operation, not by Einstein's sum.
REDUCTIONS = {"sum": "sum", "mean": "avg", "max": "max", "min": "min", "amax": "max", "amin": "min"}


def is_reduction(node) -> bool:
    return isinstance(node, N.Call) and node.kind == "builtin" and node.name in REDUCTIONS and \
        len(node.args) == 1 and not node.kwargs


def var_names(root):
    """Index-variable names under `root` in first-appearance order (not `_`)."""
    out = []
    for n in N.walk(root):
        if isinstance(n, N.Name) and n.role == "var" and n.id != "_" and n.id not in out:
            out.append(n.id)
    return out


def plan(rhs, lhs_items=None, op="=", keep=(), error=None):
    """Contraction plan for a right side.  `lhs_items`: the left side's index items (None outside
    equations); `keep`: labels that must survive (a query's variables); `error(message, span)`
    builds the exception for an ambiguous index outside equations."""
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
    if op != "=":
        p.top = {v for v in var_names(rhs) if v not in lhs_vars}
    elif lhs_items is not None:
        _per_term(rhs, p)
    else:
        _per_product(rhs, p, error)
    return p


def _per_term(rhs, p):
    """An equation's plan: each index absent from the left side is summed at the innermost node
    that holds all its occurrences and is a term or a scope (`_terms`), or a product where it is
    repeated.  Where that node is a sum of terms, each term holding the index sums it on its own
    (terms add after their sums: a term without the index is not repeated along it).  At the
    whole right side that is `top`, except that a product sums its indices itself (one einsum,
    never the outer product and then a sum)."""
    terms = _terms(rhs)
    paths = {}                     # label -> for each occurrence, its nodes outside brackets, outermost first
    stack = [(rhs, (), False)]
    while stack:
        node, above, in_index = stack.pop()
        # Inside brackets and atoms nothing is a term: those positions are indices.
        here = above if in_index else above + (node,)
        if isinstance(node, N.Name) and node.role == "var" and node.id != "_":
            if node.id not in p.lhs_vars:
                paths.setdefault(node.id, []).append(here)
            continue
        inside = in_index or isinstance(node, N.Index) or (isinstance(node, N.Call) and node.kind == "relation")
        stack.extend((child, here, inside) for child in N.iter_children(node))
    repeated = {}
    for v, occurrences in paths.items():
        groups = [occurrences]
        while groups:
            group = groups.pop()
            common = group[0]
            for path in group[1:]:
                common = _common_prefix(common, path)
            reducer = next((k for k in reversed(range(len(common))) if is_reduction(common[k])), None)
            if reducer is not None and not any(_is_product(n) and v in repeated.setdefault(n, _repeated(n))
                                               for n in common[reducer + 1:]):
                p.reduce_at.setdefault(common[reducer], set()).add(v)
                continue
            at = next((n for n in reversed(common) if n in terms or
                       (_is_product(n) and v in repeated.setdefault(n, _repeated(n)))), rhs)
            by_term = {}
            if isinstance(at, N.BinChain) and _is_sum(at) and at in terms:
                # The occurrences lie in two or more of its terms (one alone would be a lower
                # term): grouped by the term, the child of `at` on their paths.
                k = next(d for d, n in enumerate(common) if n is at) + 1
                for path in group:
                    by_term.setdefault(id(path[k]), []).append(path)
            if len(by_term) > 1:
                groups.extend(by_term.values())
            elif at is rhs and not isinstance(rhs, N.Juxt):
                p.top.add(v)
            else:
                p.sum_at.setdefault(at, set()).add(v)


def _is_sum(node):
    return (isinstance(node, N.BinChain) and all(o in ("+", "-") for o in node.ops)) or \
        (isinstance(node, N.Prefix) and all(o in ("+", "-") for o in node.ops))


def _terms(rhs):
    """The scopes (the right side, each function argument) and their terms (the operands of a
    scope's sums and differences, through unary signs), outside brackets and atoms."""
    out = set()
    stack = [(rhs, True, False)]
    while stack:
        node, term, in_index = stack.pop()
        if in_index:
            continue
        if term:
            out.add(node)
        sum_below = term and _is_sum(node)  # once per node: per child it made a chain of n terms cost n^2
        for child in N.iter_children(node):
            if isinstance(node, N.Index) or (isinstance(node, N.Call) and node.kind == "relation"):
                stack.append((child, False, True))
            elif isinstance(node, N.Call):
                stack.append((child, not isinstance(child, N.KwArg), False))
            elif isinstance(node, N.KwArg):
                stack.append((child, True, False))
            else:
                stack.append((child, sum_below, False))
    return out


def _is_product(node):
    return isinstance(node, N.Juxt) or \
        (isinstance(node, N.BinChain) and all(o in ("*", "/") for o in node.ops))


def _repeated(product):
    """The indices that at least two factors of a product carry (Einstein's contraction)."""
    factors = product.factors if isinstance(product, N.Juxt) else product.operands
    seen, out = set(), set()
    for f in factors:
        mine = set(var_names(f))
        out |= seen & mine
        seen |= mine
    return out


def _common_prefix(a, b):
    n = 0
    while n < len(a) and n < len(b) and a[n] is b[n]:
        n += 1
    return a[:n]


def _per_product(rhs, p, error):
    """Outside equations: Einstein's rule per product, every other index kept."""
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
        if isinstance(node, N.Juxt):
            per_factor = [free.get(f, set()) for f in node.factors]
            summed = {v for v in here if v not in p.lhs_vars and
                      sum(v in f for f in per_factor) >= 2}
            if summed:
                p.sum_at[node] = summed
                here = here - summed
        elif is_reduction(node) and here - set(p.lhs_vars):
            p.reduce_at[node] = here - set(p.lhs_vars)
            here = here & set(p.lhs_vars)
        free[node] = here
    p.top = {v for v in free.get(rhs, set()) if v not in p.lhs_vars}
    summed_anywhere = set().union(*p.sum_at.values()) if p.sum_at else set()
    ambiguous = summed_anywhere & p.top
    if ambiguous and error is not None:
        v = sorted(ambiguous)[0]
        raise error(f"index '{v}' is summed inside a product but also used outside it; rename one "
                    f"of them", _free_occurrence(rhs, v, p))


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
