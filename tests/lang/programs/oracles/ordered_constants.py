# Oracle for ordered_constants.tl: the same program in clingo, whose comparisons order every
# constant (integers by value, then names by text); rows in the order of the shelves' keys as the
# source first gives them (zoe, 3, ann, -3, 10, bea), numbers of shelves by value.
from clingo_model import clingo_model

ORDER = ["zoe", 3, "ann", -3, 10, "bea"]
PROGRAM = """
shelf(zoe, 4). shelf(3, 7). shelf(ann, 2). shelf(-3, 5). shelf(10, 1). shelf(bea, 9). shelf(ann, 6).
before(X, Y) :- shelf(X, _), shelf(Y, _), X < Y.
numbered(X) :- shelf(X, _), X < ann.
named(X) :- shelf(X, _), X >= ann.
upto(X) :- shelf(X, _), X <= 3.
past(X) :- shelf(X, _), bea < X.
first(X) :- shelf(X, _), not later(X).
later(Y) :- shelf(X, _), shelf(Y, _), X < Y.
heavy(X, N) :- shelf(X, N), N * 2 > 9, X != 10.
count(K) :- K = #count{Y : before(X, Y), X < 0}.
"""


def rows(m, name, names, where=lambda r: True, keep=None):
    """A query's printed bindings, sorted by the shelves' keys (each by its place in ORDER)."""
    keep = keep if keep is not None else range(len(names))
    key = lambda r: [ORDER.index(x) if x in ORDER and (p == 0 or name == "before") else x for p, x in enumerate(r)]
    got = sorted((r for r in m.get(name, ()) if where(r)), key=key)
    return [", ".join(f"{names[k]} = {r[k]}" for k in keep) for r in got] or ["false"]


m = clingo_model(PROGRAM)
out = rows(m, "before", ["x", "y"], lambda r: r[0] == "ann", keep=[1])
out += rows(m, "before", ["x", "y"], lambda r: r[1] == 3, keep=[0])
for name in ("numbered", "named", "upto", "past", "first"):
    out += rows(m, name, ["x"])
out += rows(m, "heavy", ["x", "n"])
out += [f"k = {k}" for (k,) in m["count"]]
print("\n".join(out))
