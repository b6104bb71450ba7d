# Oracle for pagerank.tl: the stationary ranks by float64 numpy power iteration (2000 steps),
# rounded; the top page and the out-degree counted in Python.
import numpy as np
from oracle_format import show, rnd
pages = ["home", "about", "blog", "post1", "post2"]
links = [("home", "about"), ("home", "blog"), ("home", "post1"), ("about", "home"), ("blog", "post1"),
         ("blog", "post2"), ("blog", "home"), ("post1", "blog"), ("post2", "blog"), ("post2", "post1"),
         ("post2", "home")]
M = np.zeros((5, 5))
for a, b in links:
    M[pages.index(b), pages.index(a)] = 1
M /= M.sum(0, keepdims=True)
r = np.zeros(5)
for _ in range(2000):
    r = 0.03 + 0.85 * M @ r
out = ["fixpoint ranks: " + show(rnd(r, 100, margin=0.15)),
       "loop ranks:     " + show(rnd(r, 100, margin=0.15)),
       "the loop agrees with the fixpoint",
       f"total: {show(rnd(r.sum(), 100))}",
       f"top page index: {int(np.argmax(r))}",
       f"n = {sum(1 for a, _ in links if a == 'blog')}"]
print("\n".join(out))
