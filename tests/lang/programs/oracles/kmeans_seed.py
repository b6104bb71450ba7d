# Oracle for kmeans_seed.tl: Lloyd's iterations in numpy (asserting no distance ties, so argmin is
# the same in any precision), stopping when the centers stop moving.
import numpy as np
from oracle_format import show, rnd
p = np.array([[0, 0], [0.5, 0.25], [0.25, 0.75], [5, 5], [5.5, 4.75], [4.5, 5.25], [0, 5], [0.25, 5.5]])
c = np.array([[0, 0], [1, 3], [4, 4]], float)


def dist(c):
    d = ((p[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    s = np.sort(d, 1)
    assert (s[:, 1] - s[:, 0] > 0.05).all(), "a distance tie"
    return d


iters = 0
for it in range(10):
    a = dist(c).argmin(1)
    m = (a[:, None] == np.arange(3)).astype(float)
    new = (m.T @ p) / np.maximum(m.sum(0), 1)[:, None]
    moved = np.abs(new - c).sum()
    c, iters = new, it + 1
    if moved == 0:
        break
d = dist(c)
print("\n".join([f"iterations {iters}", "assignment: [" + ", ".join(str(int(k)) for k in d.argmin(1)) + "]",
                 "centers (to an eighth): " + show(rnd(c, 8)), "inertia: " + show(rnd(d.min(1).sum(), 100))]))
