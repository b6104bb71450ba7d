# Oracle for seed_embeddings.tl: SGD on the summed squared error of each row's score E[p] . W, from
# rows of ones, in float64 numpy; the embedded relation sum over Likes of outer(E[x], E[y]), read
# back at (ann, bob). Printed rounded to two decimals, away from rounding boundaries.
import numpy as np
from oracle_format import rnd, show

W = np.array([0.5, -0.25])
target = np.array([1.0, -0.5, 0.25])
E = np.ones((3, 2))
print("table:", (3, 2), "ann starts at", show(E[0]))
for _ in range(20):
    E = E - 0.5 * 2 * np.outer(E @ W - target, W)
print("ann:", show(rnd(E[0], 100)), "cid:", show(rnd(E[2], 100)))
print("scores:", show(rnd(E @ W, 100)))
emb_likes = np.outer(E[0], E[1]) + np.outer(E[1], E[2])
print("affinity of ann for bob:", show(rnd(E[0] @ emb_likes @ E[1], 100)))
