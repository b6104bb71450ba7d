# Oracle for embedding_reasoning.tl: the grandparent rule in clingo; the program's claim is that the
# embedded relations reproduce it, so the thresholded tensor is that relation.
from clingo_model import clingo_model
from oracle_format import show

people = "ada ben cy dot eli fay".split()
m = clingo_model("parent(ada, ben). parent(ben, cy). parent(cy, dot). parent(ada, eli). parent(eli, fay).\n"
                 "grand(X, Z) :- parent(X, Y), parent(Y, Z).\n")
grand = m["grand"]
print("parent recovered: true")
print("grandparent recovered: true")
label = "G2[a, c] = "
table = show([[float((a, c) in grand) for c in people] for a in people])
print(label + table.replace("\n", "\n" + " " * len(label)))
print("\n".join(f"x = {a}, z = {c}" for a in people for c in people if (a, c) in grand))
