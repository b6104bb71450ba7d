# Oracle for course_planner.tl: the same program in clingo (an undefined atom under `not` is false
# there; several #sum rules each sum their own body), its answers printed in the language's
# order: rows by the declared order of the domains, integers ascending.
from clingo_model import clingo_model

STUDENTS = ["ann", "bob", "cid"]
COURSES = ["calc1", "calc2", "calc3", "linalg", "prog", "ml", "dl"]
PROGRAM = """
is_student(ann; bob; cid).
is_course(calc1; calc2; calc3; linalg; prog; ml; dl).
prereq(calc1, calc2). prereq(calc2, calc3). prereq(calc2, ml). prereq(linalg, ml). prereq(prog, ml).
prereq(ml, dl).
passed(ann, calc1). passed(ann, calc2). passed(ann, linalg). passed(bob, prog). passed(bob, calc1).
worth(calc1, 5). worth(calc2, 5). worth(calc3, 5). worth(linalg, 4). worth(prog, 4). worth(ml, 6).
worth(dl, 6).
transfer(bob, linalg, 4). transfer(cid, prog, 3).
requires(C, P) :- prereq(P, C).
requires(C, P) :- requires(C, Q), prereq(P, Q).
blocked(S, C) :- is_student(S), requires(C, P), not passed(S, P), not waived(S, P).
eligible(S, C) :- is_student(S), is_course(C), not blocked(S, C), not passed(S, C).
has_passed(S) :- passed(S, _).
num_passed(S, N) :- has_passed(S), N = #count{C : passed(S, C)}.
num_passed(S, 0) :- is_student(S), not has_passed(S).
credits(S, K) :- passed(S, _), K = #sum{W, C : passed(S, C), worth(C, W)}.
credits(S, K) :- transfer(S, _, _), K = #sum{W, C : transfer(S, C, W)}.
has_prereq(C) :- prereq(_, C).
chain_value(C, 0) :- is_course(C), not has_prereq(C).
chain_value(C, N + 1) :- prereq(P, C), chain_value(P, N).
chain(C, N) :- chain_value(C, _), N = #max{M : chain_value(C, M)}.
next_level(C, N + 1) :- chain(C, N).
"""


def key(row):
    return tuple(STUDENTS.index(v) if v in STUDENTS else COURSES.index(v) if v in COURSES else v for v in row)


m = clingo_model(PROGRAM)
out = []
for name, names, keep in [("eligible", "sc", None), ("num_passed", "sn", None), ("credits", "sk", None),
                          ("chain", "cn", lambda r: r[1] >= 2)]:
    for row in sorted((r for r in m[name] if keep is None or keep(r)), key=key):
        out.append(", ".join(f"{n} = {v}" for n, v in zip(names, row)))
out += [f"m = {n}" for c, n in sorted(m["next_level"]) if c == "dl"]
out += [f"p = {p}" for c, p in sorted(m["requires"], key=key) if c == "dl"]
print("\n".join(out))
