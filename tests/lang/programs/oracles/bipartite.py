# Oracle for bipartite.tl: the same rules in clingo, answers in the order the language prints them
# (names by first appearance, integers ascending).
from clingo_model import binding_rows, clingo_model

ORDER = "ann bob cat dan eve fay gus hal ivy".split()
PROGRAM = """
friend(ann, bob). friend(bob, cat). friend(cat, dan). friend(dan, ann).
friend(eve, fay). friend(fay, gus). friend(gus, eve). friend(hal, ivy).
link(X, Y) :- friend(X, Y).
link(X, Y) :- friend(Y, X).
person(X) :- link(X, _).
odd(X, Y) :- link(X, Y).
odd(X, Z) :- even(X, Y), link(Y, Z).
even(X, Z) :- odd(X, Y), link(Y, Z).
oddcycle(X) :- odd(X, X).
reach(X, X) :- person(X).
reach(X, Z) :- reach(X, Y), link(Y, Z).
num(ann, 1). num(bob, 2). num(cat, 3). num(dan, 4). num(eve, 5). num(fay, 6). num(gus, 7).
num(hal, 8). num(ivy, 9).
comp(X, M) :- person(X), M = #min{N : reach(X, Y), num(Y, N)}.
broken(C) :- comp(X, C), oddcycle(X).
bipartite(C) :- comp(_, C), not broken(C).
degree(X, N) :- person(X), N = #count{Y : link(X, Y)}.
size(C, N) :- comp(_, C), N = #count{X : comp(X, C)}.
"""


def rows(m, name, names, where=lambda row: True, keep=None):
    return binding_rows(m, name, names, ORDER, where, keep)


m = clingo_model(PROGRAM)
out = rows(m, "oddcycle", ["x"]) + rows(m, "bipartite", ["c"]) + rows(m, "size", ["c", "n"])
out += rows(m, "degree", ["x", "n"], lambda r: r[1] == 2, [0])
out.append("true" if ("ann", "cat") in m.get("odd", ()) else "false")
out.append("true" if ("ann", "cat") in m.get("even", ()) else "false")
print("\n".join(out))
