# Oracle for components.tl: the same rules in clingo, answers in the order the language prints them
# (the domain's order for names, integers ascending).
from clingo_model import clingo_model

ORDER = "start parse lex eval apply print log fmt".split()
CALLS = [("start", "parse"), ("parse", "lex"), ("lex", "parse"), ("start", "eval"), ("eval", "apply"),
         ("apply", "eval"), ("apply", "log"), ("eval", "print"), ("print", "fmt"), ("fmt", "print"),
         ("log", "fmt")]
PROGRAM = "".join(f"calls({a}, {b}).\n" for a, b in CALLS) + "".join(
    f"fn({f}). rank({f}, {k}).\n" for k, f in enumerate(ORDER)) + """
reach(X, Y) :- calls(X, Y).
reach(X, Z) :- reach(X, Y), calls(Y, Z).
same(X, Y) :- reach(X, Y), reach(Y, X).
same(X, X) :- fn(X).
leader(X, M) :- fn(X), M = #min{R : same(X, Y), rank(Y, R)}.
cyclic(X) :- reach(X, X).
edge(A, B) :- calls(X, Y), leader(X, A), leader(Y, B), A != B.
size(R, N) :- leader(_, R), N = #count{X : leader(X, R)}.
acyclic(X) :- fn(X), not cyclic(X).
"""


def key(row):
    return tuple(ORDER.index(x) if isinstance(x, str) else x for x in row)


def rows(m, name, names, where=lambda r: True, keep=None):
    got = sorted((r for r in m.get(name, ()) if where(r)), key=key)
    keep = keep if keep is not None else range(len(names))
    return [", ".join(f"{names[k]} = {r[k]}" for k in keep) for r in got]


m = clingo_model(PROGRAM)
out = rows(m, "leader", ["x", "r"]) + rows(m, "edge", ["a", "b"]) + rows(m, "size", ["r", "n"], lambda r: r[1] > 1)
out += rows(m, "acyclic", ["x"]) + rows(m, "reach", ["z", "x"], lambda r: r[0] == "log", [1])
print("\n".join(out))
