# Oracle for mixed_constants.tl: the same program in clingo; rows in the order of the domain's
# constants (first appearance in the source: a, 1, b, 2, 3, c, 4, 5), N's in numeric order.
from clingo_model import clingo_model

ORDER = ["a", 1, "b", 2, 3, "c", 4, 5]
PROGRAM = """
val(a, 1). val(b, 2). val(3, a). val(c, 3). val(4, 4). val(b, b). val(c, a). val(a, c). val(5, 5).
ints(1..4). n(1..3).
mixed(X) :- val(X, _).
mixed(Y) :- val(_, Y).
same(X) :- val(X, X).
num(X) :- mixed(X), ints(X).
sym(X) :- mixed(X), not num(X).
pair(X, Y) :- mixed(X), mixed(Y), X != Y, val(X, Y).
empty(0, 0) :- #false.
nothing(0) :- #false.
fromempty(X) :- empty(X, Y), mixed(Y).
has_empty(X) :- empty(X, _).
notempty(X) :- mixed(X), not has_empty(X).
notnothing(X) :- mixed(X), not nothing(X).
tri(X, Y, Z) :- val(X, Y), val(Y, Z).
loop(X) :- tri(X, Y, X), X != Y.
sum(X, Y, S) :- n(X), n(Y), S = X + Y, S * 2 > X * Y + 1.
cmp(X, Y) :- n(X), n(Y), X * X < Y + 3, X - Y != 1.
"""


def rows(m, name, names, where=lambda r: True, keep=None):
    """A query's printed bindings: constants ordered by their place in the domain (N's by value)."""
    key = (lambda r: r) if name in ("sum", "cmp") else (lambda r: [ORDER.index(x) for x in r])
    keep = keep if keep is not None else range(len(names))
    got = sorted((r for r in m.get(name, ()) if where(r)), key=key)
    return [", ".join(f"{names[k]} = {r[k]}" for k in keep) for r in got] or ["false"]


m = clingo_model(PROGRAM)
out = rows(m, "same", ["x"]) + rows(m, "num", ["x"]) + rows(m, "sym", ["x"]) + rows(m, "pair", ["x", "y"])
out += rows(m, "fromempty", ["x"])
out.append("true" if ("a",) in m.get("notempty", ()) else "false")
out.append("true" if (5,) in m.get("notnothing", ()) else "false")
out += rows(m, "loop", ["x"])
out += rows(m, "tri", ["x", "y", "z"], lambda r: r[1] == "a", keep=[0, 2])
out += rows(m, "sum", ["x", "y", "s"], lambda r: r[2] == 4, keep=[0, 1])
out += rows(m, "cmp", ["x", "y"], lambda r: r[1] == 3, keep=[0])
out += rows(m, "empty", ["x", "y"])
print("\n".join(out))
