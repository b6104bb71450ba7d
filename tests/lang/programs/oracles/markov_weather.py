# Oracle for markov_weather.tl: the chain's distributions by numpy matrix products in float64, the
# power iteration in the same loop, max-product by numpy; rounded values are checked to lie away
# from rounding boundaries.
import numpy as np
from oracle_format import rnd, show

T = np.array([[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.2, 0.4, 0.4]], dtype=np.float16).astype(float)
p = [np.array([0.0, 0.0, 1.0])]
for _ in range(7):
    p.append(p[-1] @ T)
p = np.array(p)
print("p(sun) by day:", show(rnd(p[:, 0], 1000, margin=0.1)))
print("expected rainy days in a week:", show(rnd(p[:, 2].sum(), 100)))
pi, change, steps = np.array([1.0, 0.0, 0.0]), 1.0, 0
while change > 0.001:
    nxt = pi @ T
    change = np.abs(nxt - pi).max()
    pi, steps = nxt, steps + 1
print("stationary:", show(rnd(pi, 100)), "after", steps, "steps")
best = [T[2]]                                  # the start is rain
for _ in range(2):
    best.append((best[-1][:, None] * T).max(axis=0))
print("most likely sky in 3 days:", int(best[2].argmax()), "with", show(rnd(best[2].max(), 1000)))
for k, s in enumerate(["sun", "cloud", "rain"]):
    print(s, show(rnd(p[7, k], 100)))
