# Oracle for reach_depth.tl: the same program in clingo (recursive max/min as #max/#min over the
# path lengths, bounded by the number of nodes since the graph from the start has no cycle), its
# answers printed in the language's order: names by first appearance, integers ascending.
from clingo_model import clingo_model

ORDER = "s a b c d e f g".split()
PROGRAM = """
edge(s, a). edge(s, b). edge(a, c). edge(b, c). edge(c, d). edge(a, d). edge(e, f). edge(f, e).
edge(d, g). edge(b, g).
start(s).
reach(X, Y) :- edge(X, Y).
reach(X, Z) :- reach(X, Y), edge(Y, Z).
nreach(X, K) :- reach(X, _), K = #count{Y : reach(X, Y)}.
len(X, 0) :- start(X).
len(Y, N + 1) :- len(X, N), edge(X, Y), N < 8.
far(X, M) :- len(X, _), M = #max{N : len(X, N)}.
near(X, M) :- len(X, _), M = #min{N : len(X, N)}.
node(X) :- edge(X, _).
node(Y) :- edge(_, Y).
unreached(X) :- node(X), not reach(s, X), not start(X).
cyclic(X) :- reach(X, X).
longer(X) :- far(X, N), near(X, M), N > M.
"""


def rows(m, name, names):
    key = lambda row: tuple(ORDER.index(v) if isinstance(v, str) else v for v in row)
    return [", ".join(f"{n} = {v}" for n, v in zip(names, row)) for row in sorted(m.get(name, ()), key=key)]


m = clingo_model(PROGRAM)
out = rows(m, "nreach", "xk") + rows(m, "far", "xn") + rows(m, "near", "xn") + rows(m, "longer", "x") + \
    rows(m, "unreached", "x") + rows(m, "cyclic", "x")
print("\n".join(out))
