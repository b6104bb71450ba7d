# Oracle for smokers.tl: the mean-field fixpoint by iteration in numpy float64, the hard rule by
# reachability in Python; rounded values are checked to lie away from rounding boundaries.
import numpy as np
from oracle_format import rnd, show

people = "anna bob chris dana ed".split()
friends = [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]
F = np.zeros((5, 5))
for a, b in friends:
    F[a, b] = 1
prior = np.array([2.0, -1.0, -1.0, -2.0, -2.0])
s = np.zeros(5)
for _ in range(500):
    s = 1 / (1 + np.exp(-(prior + 1.5 * F @ s)))
print("p(smokes):", show(rnd(s, 100)))
print("p(cancer):", show(rnd(1 - (1 - 0.4 * s) * 0.99, 100)))
smoker, todo = {0}, [0]
while todo:
    x = todo.pop()
    for a, b in friends:
        if a == x and b not in smoker and people[b] in ("bob", "chris"):
            smoker.add(b)
            todo.append(b)
print("\n".join(f"x = {people[k]}" for k in sorted(smoker)))
