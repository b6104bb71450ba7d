# Oracle for components.tl: the same rules in clingo, answers in the order the language prints them
# (the domain's order for names, integers ascending).
from clingo_model import binding_rows, clingo_model

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


def rows(m, name, names, where=lambda row: True, keep=None):
    return binding_rows(m, name, names, ORDER, where, keep)


m = clingo_model(PROGRAM)
out = rows(m, "leader", ["x", "r"]) + rows(m, "edge", ["a", "b"]) + rows(m, "size", ["r", "n"], lambda r: r[1] > 1)
out += rows(m, "acyclic", ["x"]) + rows(m, "reach", ["z", "x"], lambda r: r[0] == "log", [1])
print("\n".join(out))
