# Oracle for soft_rules.tl: scores as sums over Python sets of friends, groundings counted by
# enumerating pairs, the crisp rules as set comprehensions.
import numpy as np
from oracle_format import show, rnd
people = ["ann", "bob", "cat", "dan", "eve"]
friends = {("ann", "bob"), ("bob", "ann"), ("bob", "cat"), ("cat", "bob"), ("cat", "dan"), ("dan", "cat"),
           ("ann", "eve")}
smokes = {"ann", "cat"}
score = np.array([1.5 * (x in smokes) + sum(0.8 * (y in smokes) - 0.3 for a, y in friends if a == x)
                  for x in people])
risk = 1 / (1 + np.exp(-(score - 0.75)))
violated = sum(1 for x, y in friends if x in smokes and y not in smokes)
starts = [y for y in people if any(x in smokes and b == y for x, b in friends) and y not in smokes]
alone = [x for x in people if not any(a == x for a, _ in friends)] or None
out = ["score: " + show(rnd(score, 100)), "risk: " + show(rnd(risk, 100)),
       f"violated: {violated} satisfied: {len(friends) - violated}"]
out += [f"y = {y}" for y in starts] or ["false"]
out += [f"x = {x}" for x in alone] if alone else ["false"]
print("\n".join(out))
