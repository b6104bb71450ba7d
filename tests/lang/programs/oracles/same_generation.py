# Oracle for same_generation.tl: the same program in clingo, answers in the order the language
# prints them (names by first appearance, integers ascending).
from clingo_model import clingo_model

ORDER = "bea al cy dot eli fay gus hal".split()
PROGRAM = """
par(bea, al). par(cy, al). par(dot, bea). par(eli, cy). par(fay, dot). par(gus, eli). par(hal, cy).
person(X) :- par(X, _).
person(Y) :- par(_, Y).
sg(X, X) :- person(X).
sg(X, Y) :- par(X, P), sg(P, Q), par(Y, Q).
cousin(X, Y) :- sg(X, Y), X != Y, par(X, P), par(Y, Q), P != Q.
up(X, Y, 1) :- par(X, Y).
up(X, Z, N + 1) :- up(X, Y, N), par(Y, Z).
nsg(X, N) :- sg(X, Y), X != Y, N = #count{Z : sg(X, Z), X != Z}.
"""


def rows(m, name, names, where=lambda r: True, keep=None):
    got = [r for r in m.get(name, ()) if where(r)]
    got.sort(key=lambda r: tuple(ORDER.index(x) if isinstance(x, str) else x for x in r))
    keep = keep or range(len(names))
    return [", ".join(f"{names[k]} = {r[k]}" for k in keep) for r in got]


m = clingo_model(PROGRAM)
out = rows(m, "sg", "xy", lambda r: r[0] == "dot", [1]) + rows(m, "sg", "xy", lambda r: r[0] == "gus", [1])
out += rows(m, "cousin", "xy") + rows(m, "up", "xan", lambda r: r[0] == "gus", [1, 2]) + rows(m, "nsg", "xn")
print("\n".join(out))
