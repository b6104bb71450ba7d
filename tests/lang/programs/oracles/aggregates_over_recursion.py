# Oracle for aggregates_over_recursion.tl: the same program in clingo. Recursive min is the least
# value over all derivations: clingo enumerates the derived values (bounded, since a cycle would
# ground forever; the bound is far above every shortest path) and takes the least.
from clingo_model import binding_rows, clingo_model

ORDER = "a b c d e".split()
PROGRAM = """
e(a, b, 3). e(b, c, 4). e(a, c, 9). e(c, d, 1). e(d, b, 2). e(d, e, 7). start(a).
dist_value(X, 0) :- start(X).
dist_value(Y, D + W) :- dist(X, D), e(X, Y, W), D + W <= 100.
dist(X, M) :- dist_value(X, _), M = #min{D : dist_value(X, D)}.
hop_value(X, 0) :- start(X).
hop_value(Y, N + 1) :- hop(X, N), e(X, Y, _), N < 100.
hop(X, M) :- hop_value(X, _), M = #min{N : hop_value(X, N)}.
reach(X, Y) :- e(X, Y, _).
reach(X, Z) :- reach(X, Y), e(Y, Z, _).
out(X, N) :- reach(X, _), N = #count{Y : reach(X, Y)}.
has_tot(X) :- reach(X, Y), e(Y, _, _).
tot(X, S) :- has_tot(X), S = #sum{W, Y, Z : reach(X, Y), e(Y, Z, W)}.
has_longest(Y) :- dist(Y, _), e(_, Y, _).
longest(Y, M) :- has_longest(Y), M = #max{D : dist(Y, D)}.
many(X) :- out(X, N), N >= 4.
few(X) :- reach(X, _), not many(X).
farpair(X, Y) :- dist(X, D1), dist(Y, D2), D1 + 2 < D2 - 1.
heavy(X) :- tot(X, S), out(X, K), S > 3 * K.
slow(X) :- dist(X, D), hop(X, H), D > 4 * H.
"""


def rows(m, name, names, where=lambda r: True, keep=None):
    return binding_rows(m, name, names, ORDER, where, keep) or ["false"]


m = clingo_model(PROGRAM)
out = rows(m, "dist", ["x", "dd"]) + rows(m, "hop", ["x", "h"]) + rows(m, "out", ["x", "k"])
out += rows(m, "tot", ["x", "s"]) + rows(m, "longest", ["y", "dd"], lambda r: r[0] == "e", keep=[1])
out += rows(m, "few", ["x"]) + rows(m, "farpair", ["x", "y"], lambda r: r[0] == "a", keep=[1])
out += rows(m, "heavy", ["x"]) + rows(m, "slow", ["x"])
print("\n".join(out))
