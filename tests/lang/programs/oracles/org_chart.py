# Oracle for org_chart.tl: the same rules in clingo, answers in the order the language prints them
# (names by first appearance, integers ascending).
from clingo_model import binding_rows, clingo_model

ORDER = "ceo cto cfo dev1 dev2 intern acct".split()
PROGRAM = """
manages(ceo, cto). manages(ceo, cfo). manages(cto, dev1). manages(cto, dev2). manages(dev1, intern).
manages(cfo, acct).
salary(ceo, 300). salary(cto, 200). salary(cfo, 180). salary(dev1, 120). salary(dev2, 110).
salary(intern, 40). salary(acct, 90).
under(M, E) :- manages(M, E).
under(M, E) :- under(M, X), manages(X, E).
teamsize(M, N) :- under(M, _), N = #count{E : under(M, E)}.
budget(M, B) :- under(M, _), B = #sum{S, E : under(M, E), salary(E, S)}.
reached(ceo, 0).
reached(E, L + 1) :- reached(M, L), manages(M, E).
level(E, L) :- reached(E, _), L = #min{K : reached(E, K)}.
peer(A, B) :- manages(M, A), manages(M, B), A != B.
frugal(M) :- budget(M, B), salary(M, S), B < S.
hasreport(M) :- manages(M, _).
leaf(E) :- salary(E, _), not hasreport(E).
maxlevel(L) :- L = #max{K : level(_, K)}.
"""


def rows(m, name, names, where=lambda row: True, keep=None):
    return binding_rows(m, name, names, ORDER, where, keep)


m = clingo_model(PROGRAM)
out = rows(m, "teamsize", ["m", "n"]) + rows(m, "budget", ["m", "b"]) + rows(m, "level", ["e"], lambda r: r[1] == 2)
out += rows(m, "peer", ["a", "x"], lambda r: r[0] == "dev1", [1]) + rows(m, "frugal", ["m"]) + rows(m, "leaf", ["e"])
out += rows(m, "maxlevel", ["l"])
out.append("true" if ("ceo", "intern") in m["under"] else "false")
print("\n".join(out))
