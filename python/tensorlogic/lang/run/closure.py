"""Closure-shaped recursion on dense relations by repeated squaring.

`P(x, z) <- P(x, y), E(y, z)` (or `P(x, z) <- E(x, y), P(y, z)`) makes P = P0 E* (or E* P0): the
semi-naive rounds need as many rounds as the longest path, each one product; squaring R = I + E
(R <- step(R R)) reaches E* in log2 of that many products of size N x N x N.  Which wins depends on
the graph (a random graph's closure takes a few cheap sparse rounds, a long chain thousands), so the
rounds run first and hand over to squaring once the time they took passes squaring's estimated
cost (at most about twice the better of the two: the ski-rental rule).  `explain` says which ran.
"""
from __future__ import annotations

import math
import time

from ..engine import tl
from ..logic.rules import Atom, RuleError, lower
from .builtins import step

class Closure:
    """The squaring plan of one component, when it is closure-shaped."""

    def __init__(self, edge, transpose, right, n):
        self.edge, self.transpose, self.right, self.n = edge, transpose, right, n
        self.squares = None         # [R after 0, 1, ... squarings] once the first one ran

    def worth(self, rt, spent):
        """Whether squaring would cost less than the `spent` seconds of rounds so far.  The first
        squaring is timed (matmul speed depends on size and machine) only once the rounds took
        longer than the finish could take at 10^11 multiply-adds per second (timed twice: other
        processes' load adds noise)."""
        depth = math.ceil(math.log2(self.n + 1)) + 1
        if spent < depth * self.n ** 3 / 1e11:
            return False
        if self.squares is None:
            e = rt.derived(self.edge)
            r = step((e.t() if self.transpose else e) + tl.eye(self.n, dtype=tl.float16))
            self.seconds = float("inf")
            for _ in range(2):
                start = time.perf_counter()
                self.squares = [r, step(r @ r)]
                self.seconds = min(self.seconds, time.perf_counter() - start)
        return spent > depth * self.seconds

    def finish(self, rt, known, span):
        """P from the tuples `known` so far (P0 and the paths of the rounds run): known E* or
        E* known, E* by squaring; returns (P, the squarings run)."""
        r, nxt = self.squares
        squarings = 1
        while (nxt - r).abs().sum().item() != 0:
            rt.budget.tick(span)
            r, nxt = nxt, step(nxt @ nxt)
            squarings += 1
        return step(known @ r if self.right else r @ known), squarings


def closure_plan(model, members, recursive_rules):
    """A Closure when the component is one binary relation over one domain whose one recursive
    rule is `P(x, z) <- P(x, y), E(y, z)` or `P(x, z) <- E(x, y), P(y, z)` (E any binary relation
    over that domain, either orientation), else None."""
    if len(members) != 1:
        return None
    name = members[0]
    rel = model.relations[name]
    rules = recursive_rules[name]
    if rel.arity != 2 or rel.domains[0] is not rel.domains[1] or len(rules) != 1:
        return None
    try:
        low = lower(rules[0])
    except RuleError:
        return None
    if low is None or low.aggregate is not None or len(low.body) != 2 or \
            not all(isinstance(a, Atom) and not a.negated for a in low.body):
        return None
    args = [a for atom in low.body for a in atom.args] + low.head_args
    if any(a is None or a[0] != "var" for a in args):
        return None
    own = [a for a in low.body if a.name == name]
    edges = [a for a in low.body if a.name != name and a.name in model.relations]
    if len(own) != 1 or len(edges) != 1:
        return None
    p, e = [a[1] for a in own[0].args], [a[1] for a in edges[0].args]
    x, z = (a[1] for a in low.head_args)
    edge_rel = model.relations[edges[0].name]
    if edge_rel.arity != 2 or any(d is not rel.domains[0] for d in edge_rel.domains) or \
            len({x, z} | set(p) | set(e)) != 3:
        return None
    if p[0] == x and p[1] != z and set(e) == {p[1], z}:            # P(x, y), E(y, z)
        return Closure(edges[0].name, e[0] == z, True, rel.domains[0].size)
    if p[1] == z and p[0] != x and set(e) == {x, p[0]}:            # E(x, y), P(y, z)
        return Closure(edges[0].name, e[0] != x, False, rel.domains[0].size)
    return None
