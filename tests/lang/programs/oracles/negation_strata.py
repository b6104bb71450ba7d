# Oracle for negation_strata.tl: the same program in clingo, answers in the domain's order.
from clingo_model import clingo_model

ORDER = "a b c d e f".split()
PROGRAM = """
node(a; b; c; d; e; f).
edge(a, b). edge(b, c). edge(d, e). edge(e, d). edge(c, a). edge(b, f). edge(c, d).
start(a).
reach(X) :- start(X).
reach(Y) :- reach(X), edge(X, Y).
unreached(X) :- node(X), not reach(X).
has_out(X) :- edge(X, _).
sink(X) :- node(X), not has_out(X).
to_sink(X) :- sink(X).
to_sink(X) :- edge(X, Y), to_sink(Y).
stuck(X) :- node(X), not to_sink(X).
trapped(X) :- stuck(X), not unreached(X).
nstuck(N) :- N = #count{X : stuck(X)}.
safe(X) :- reach(X), not stuck(X), not sink(X).
"""


def rows(m, name, var):
    got = sorted(m.get(name, ()), key=lambda r: ORDER.index(r[0]) if isinstance(r[0], str) else r[0])
    return [f"{var} = {r[0]}" for r in got] or ["false"]


m = clingo_model(PROGRAM)
out = rows(m, "unreached", "x") + rows(m, "sink", "x") + rows(m, "stuck", "x") + rows(m, "trapped", "x") + \
    rows(m, "nstuck", "n") + rows(m, "safe", "x")
out.append("true" if ("d",) in m.get("trapped", ()) else "false")
print("\n".join(out))
