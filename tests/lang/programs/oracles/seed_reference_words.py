# Oracle for seed_reference_words.tl: the rules in clingo; rows printed in the order of the
# constants' first appearance in the source; the Boolean lines by hand.
from clingo_model import clingo_model

ORDER = ["ada", "acme", "engineer", "ben", "manager", "cy", "dee", "globex", "eve", "intern", "fay"]
PROGRAM = """
worksat(ada, acme, engineer). worksat(ben, acme, manager). worksat(cy, acme, engineer).
worksat(dee, globex, manager). worksat(eve, globex, intern). worksat(fay, globex, intern).
manages(ben, ada). manages(ben, cy). manages(dee, eve). manages(ada, cy).
colleague(X, Y) :- worksat(X, C, _), worksat(Y, C, _), X != Y.
above(X, Y) :- manages(X, Y).
above(X, Z) :- above(X, Y), manages(Y, Z).
peer(X, Y) :- colleague(X, Y), not above(X, Y), not above(Y, X).
"""


def rows(m, name, names, where, keep):
    got = sorted((r for r in m.get(name, ()) if where(r)), key=lambda r: [ORDER.index(x) for x in r])
    return [", ".join(f"{names[k]} = {r[k]}" for k in keep) for r in got] or ["false"]


m = clingo_model(PROGRAM)
out = rows(m, "worksat", ["who", "c", "r"], lambda r: r[1:] == ("acme", "engineer"), [0])
out += rows(m, "colleague", ["x", "y"], lambda r: r[0] != "ada" and r[1] != "ada", [0, 1])
out += rows(m, "above", ["b", "x"], lambda r: r[0] == "ben", [1])
out += rows(m, "above", ["x", "y"], lambda r: r[1] == "cy", [0])
out += rows(m, "peer", ["x", "y"], lambda r: True, [0, 1])
out += rows(m, "worksat", ["p", "c", "r"], lambda r: r[0] == "dee", [1, 2])
staffed, hiring = True, False
out.append(" ".join(str(v).lower() for v in (staffed and not hiring, staffed or hiring, not staffed)))
out.append("steady" if not hiring and staffed else "changing")
print("\n".join(out))
