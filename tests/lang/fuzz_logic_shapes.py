"""Program shapes that fuzz_logic.py's random rules seldom make, built on purpose over larger graphs
(3-60 nodes, chains among them, so that recursion takes many rounds and the sorted indexes kept
across rounds are extended many times), checked as fuzz_logic.check checks (TensorLogic sparse and
as the engine chooses, numpy and tensors, queries with constants asked first too, against clingo):

- mutual recursion across three relations, a cycle of joins;
- non-linear recursion and self-joins (`T(x, z) <- T(x, y), T(y, z)`), Andersen-style points-to;
- stratified negation of a recursive relation, also inside a recursion of the stratum above;
- repeated variables in one atom (`T(x, x)`, `E(x, y, x)`), constants in heads and bodies;
- comparisons between variables (the order of names and integers too) inside recursive rules;
- relations with no tuples (declared, no facts), read positively and under `not`;
- a relation read whole twice in its own recursion, filtered by a constant or a repeated variable;
- integers computed into a recursive relation's domain round after round (its domain grows), in
  linear (native) and non-linear (Python) rounds;
- nodes that are names, integers (negative, past f16's, or across clingo's 32-bit range: keys of
  words) or both at one position.

Each program takes 1-3 shapes over shared edge relations and 0-2 of fuzz_logic's random rules.

    python tests/lang/fuzz_logic_shapes.py SEED COUNT
    python tests/lang/fuzz_logic_shapes.py SEED --replay K
"""
from __future__ import annotations

import sys

import fuzz_logic as F

ORDER = ["<", "<=", ">", ">="]
WIDE = 2 * 10 ** 9 - 1


def v(name):
    return ("v", name)


def pos(pred, *args):
    return ("atom", pred, list(args), False)


def neg(pred, *args):
    return ("atom", pred, list(args), True)


class Shaper:
    """A program's nodes (one sort: names, integers or both) and its relations, made as shapes ask."""

    def __init__(self, rng):
        self.rng = rng
        self.sort = rng.choice("sim")
        n = rng.choice([3, 5, 8, 12, 20, 40, 60])
        base = rng.choice([0, -5, 2040]) if self.sort == "i" else 0
        ints = [base + k for k in range(n)]
        self.wide = self.sort == "i" and rng.random() < 0.25
        if self.wide:
            # Ids across clingo's 32-bit range: two positions pass 2^62 keys (keys of words).
            ints = sorted({-WIDE, WIDE} | {rng.randrange(-WIDE, WIDE) for _ in range(n - 2)})
            n = len(ints)
        names = [f"n{k}" for k in range(n)]
        self.nodes = [("i", k) for k in ints] if self.sort == "i" else [("s", k) for k in names] \
            if self.sort == "s" else [("i", k) if k % 2 else ("s", f"n{k}") for k in range(n)]
        self.prog = F.Program([], negatives=True)
        self.prog.symbols = names
        self.edges = {}

    def pred(self, name, arity, level, kind="plain"):
        p = F.Pred(f"{name}{len(self.prog.preds)}", (self.sort,) * arity, level, kind)
        self.prog.preds.append(p)
        return p

    def node(self):
        return self.rng.choice(self.nodes)

    def edge(self, arity=2):
        """An edge relation: a chain through the nodes (deep recursion), random edges, or both; with
        arity 3 some rows repeat their first node last (for `E(x, y, x)`); now and then empty."""
        key = (arity, self.rng.randrange(2))
        if key in self.edges:
            return self.edges[key]
        p = self.pred("e", arity, 0, "edb")
        rows = set()
        if self.rng.random() > 0.1:
            n = len(self.nodes)
            if self.rng.random() < 0.6:
                start = self.rng.randrange(n)
                rows |= {(self.nodes[k], self.nodes[k + 1]) for k in range(start, n - 1)}
            rows |= {(self.node(), self.node()) for _ in range(self.rng.randint(1, 2 * n))}
            if arity == 3:
                rows = {r + ((r[0],) if self.rng.random() < 0.4 else (self.node(),)) for r in rows}
        if rows:
            self.prog.facts[p.name] = sorted(rows)
        self.edges[key] = p
        return p

    def rule(self, head, args, *body):
        self.prog.rules.append(F.Rule(head, list(args), list(body)))

    def compare(self, a, b):
        ops = ORDER + ["==", "!="] if self.rng.random() < 0.7 else ["!="]
        return ("cmp", self.rng.choice(ops), v(a), v(b))


def three_cycle(s, level):
    """A, B and C call one another around a cycle; each may add a comparison."""
    a, b, c = (s.pred(x, 2, level) for x in "abc")
    s.rule(a, [v("x"), v("y")], pos(s.edge(), v("x"), v("y")))
    for head, prev in ((b, a), (c, b), (a, c)):
        extra = [s.compare("x", "z")] if s.rng.random() < 0.3 else []
        s.rule(head, [v("x"), v("z")], pos(prev, v("x"), v("y")), pos(s.edge(), v("y"), v("z")), *extra)
    return c


def nonlinear(s, level):
    """Transitive closure by a self-join of the recursive relation, or same-generation."""
    t = s.pred("t", 2, level)
    e = s.edge()
    s.rule(t, [v("x"), v("y")], pos(e, v("x"), v("y")))
    if s.rng.random() < 0.5:
        s.rule(t, [v("x"), v("z")], pos(t, v("x"), v("y")), pos(t, v("y"), v("z")))
    else:
        s.rule(t, [v("x"), v("y")], pos(e, v("p"), v("x")), pos(e, v("p"), v("y")), s.compare("x", "y"))
        s.rule(t, [v("x"), v("y")], pos(e, v("a"), v("x")), pos(t, v("a"), v("b")), pos(e, v("b"), v("y")))
    return t


def nonlinear_filtered(s, level):
    """A relation read whole twice in its own recursion, the second read filtered by a constant or a
    repeated variable (the filtered rows of each round merged into the index kept across rounds)."""
    t = s.pred("t", 2, level)
    e, c = s.edge(), s.node()
    s.rule(t, [v("x"), v("y")], pos(e, v("x"), v("y")))
    s.rule(t, [v("x"), v("z")], pos(t, v("x"), v("y")), pos(e, v("y"), v("z")), pos(t, v("z"), v("w")))
    if s.rng.random() < 0.5:
        s.rule(t, [v("x"), c], pos(t, v("x"), v("y")), pos(t, v("y"), c))
    else:
        s.rule(t, [v("y"), v("x")], pos(t, v("x"), v("y")), pos(t, v("y"), v("y")))
    return t


def counting_nonlinear(s, level):
    """Steps counted from the first nodes, each step also reading the relation at step 0: the
    rounds run in Python and the integer domain grows while indexes of the relation are kept."""
    d = F.Pred(f"d{len(s.prog.preds)}", (s.sort, "i"), level)
    s.prog.preds.append(d)
    e, limit = s.edge(), s.rng.randint(3, 30)
    s.prog.facts[d.name] = sorted({(s.node(), ("i", 0)) for _ in range(s.rng.randint(1, 3))})
    s.rule(d, [v("y"), ("op", "+", v("k"), ("i", 1))], pos(d, v("x"), v("k")), pos(e, v("x"), v("y")),
           pos(d, v("z"), ("i", 0)), *steps_within(limit))
    return None


def points_to(s, level):
    """p = &a, p = q, p = *q, *p = q (two rules reading the recursive relation twice)."""
    pt = s.pred("pt", 2, level)
    addr, assign, load, store = s.edge(), s.edge(), s.pred("l", 2, 0, "edb"), s.pred("st", 2, 0, "edb")
    for p in (load, store):
        s.prog.facts[p.name] = sorted({(s.node(), s.node()) for _ in range(s.rng.randint(1, len(s.nodes)))})
    s.rule(pt, [v("p"), v("a")], pos(addr, v("p"), v("a")))
    s.rule(pt, [v("p"), v("a")], pos(assign, v("p"), v("q")), pos(pt, v("q"), v("a")))
    s.rule(pt, [v("p"), v("a")], pos(load, v("p"), v("q")), pos(pt, v("q"), v("r")), pos(pt, v("r"), v("a")))
    s.rule(pt, [v("r"), v("a")], pos(store, v("p"), v("q")), pos(pt, v("p"), v("r")), pos(pt, v("q"), v("a")))
    return pt


def negation_above(s, level, below):
    """The pairs a recursive relation below misses, and a recursion that negates it each step."""
    u, w = s.pred("u", 2, level), s.pred("w", 2, level)
    e = s.edge()
    s.rule(u, [v("x"), v("y")], pos(e, v("x"), v("z")), pos(e, v("y"), v("k")), neg(below, v("x"), v("y")))
    s.rule(w, [v("x"), v("y")], pos(u, v("x"), v("y")))
    s.rule(w, [v("x"), v("z")], pos(w, v("x"), v("y")), pos(e, v("y"), v("z")), neg(below, v("z"), v("x")))
    if s.rng.random() < 0.5:
        # A negation whose own variable is quantified inside it: no z with below(x, z).
        s.rule(w, [v("x"), v("x")], pos(e, v("x"), v("y")), neg(below, v("x"), v("z")))
    return w


def repeated(s, level, below):
    """Repeated variables in one atom: cycles through a node, `E(x, y, x)` rows."""
    c = s.pred("cyc", 1, level)
    s.rule(c, [v("x")], pos(below, v("x"), v("x")))
    r = s.pred("r", 2, level)
    s.rule(r, [v("x"), v("y")], pos(s.edge(3), v("x"), v("y"), v("x")))
    s.rule(r, [v("x"), v("z")], pos(r, v("x"), v("y")), pos(below, v("y"), v("z")), pos(c, v("z")))
    return r


def head_constants(s, level):
    """What a fixed node reaches, held with the node as a constant in the head and body."""
    r = s.pred("from", 2, level)
    a, e = s.node(), s.edge()
    s.rule(r, [a, v("y")], pos(e, a, v("y")))
    s.rule(r, [a, v("y")], pos(r, a, v("x")), pos(e, v("x"), v("y")))
    if s.rng.random() < 0.5:
        b = s.node()
        s.rule(r, [v("x"), b], pos(r, v("y"), v("x")), pos(e, v("x"), b))
    return r


def empty(s, level, below):
    """A declared relation with no tuples, read positively in a recursive rule and under `not`."""
    z = s.pred("z", 2, 0, "edb")
    s.prog.declared.add(z.name)
    q = s.pred("q", 2, level)
    s.rule(q, [v("x"), v("y")], pos(below, v("x"), v("y")), neg(z, v("y"), v("x")))
    s.rule(q, [v("x"), v("z")], pos(q, v("x"), v("y")), pos(z, v("y"), v("z")))
    return q


def steps_within(limit):
    """Guards of a count `k + 1`: from below too, since random rules may put any node (an id near
    -2 * 10^9) where the counts are (else two billion rounds to reach the limit)."""
    return [("cmp", ">=", v("k"), ("i", -8)), ("cmp", "<", v("k"), ("i", limit))]


def counting(s, level):
    """Integers computed into a recursive relation round after round: the steps to each node from
    the first nodes, up to a bound (the domain of the second position grows each round)."""
    d = F.Pred(f"d{len(s.prog.preds)}", (s.sort, "i"), level)
    s.prog.preds.append(d)
    e, limit = s.edge(), s.rng.randint(3, 30)
    starts = {s.node() for _ in range(s.rng.randint(1, 3))}
    s.prog.facts[d.name] = sorted((n, ("i", 0)) for n in starts)
    s.rule(d, [v("y"), ("op", "+", v("k"), ("i", 1))], pos(d, v("x"), v("k")), pos(e, v("x"), v("y")),
           *steps_within(limit))
    return None


def generate(rng):
    s = Shaper(rng)
    levels = rng.randint(1, 3)
    made = []
    for _ in range(rng.randint(1, 3)):
        level = rng.randint(1, levels)
        lower = [p for p in made if p.level < level]
        shape = rng.choice(["cycle", "nonlinear", "filtered", "points_to", "head", "count", "count2"] +
                           ["negation", "repeated", "empty"] * bool(lower))
        if shape in ("negation", "repeated", "empty"):
            made.append({"negation": negation_above, "repeated": repeated, "empty": empty}[shape](
                s, level, rng.choice(lower)))
        else:
            made.append({"cycle": three_cycle, "nonlinear": nonlinear, "filtered": nonlinear_filtered,
                         "points_to": points_to, "head": head_constants, "count": counting,
                         "count2": counting_nonlinear}[shape](s, level))
        made = [p for p in made if p is not None]
    prog = s.prog
    plain = [p for p in prog.preds if p.kind == "plain"]
    # (Not with ids near 2 * 10^9: the random rules compute with them, past clingo's 32-bit integers.)
    for _ in range(rng.choices([0, 1, 2], [5, 3, 2])[0] if plain and not s.wide else 0):
        prog.rules.append(F.make_rule(rng, prog, rng.choice(plain)))
    stated = set(prog.facts) | {r.head.name for r in prog.rules}
    prog.declared |= {p.name for p in prog.preds if p.name not in stated or rng.random() < 0.2}
    rng.shuffle(prog.rules)
    return prog


def main(argv):
    """`SEED COUNT` runs programs 0..COUNT-1 of a seed; `SEED --replay K` runs program K alone."""
    return F.main(argv, make=generate)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
