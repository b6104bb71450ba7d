# Oracle for reach_weights.tl: reachability by breadth-first search in Python, the rules' relations
# as set comprehensions, and Adam (as tl.optim and PyTorch define it) on the summed squared error in
# float64 numpy.
import numpy as np
from oracle_format import show

nodes = "abcdefgh"
edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "f"), ("f", "g"), ("g", "h"), ("h", "f"), ("d", "g")]
sources = ["a", "e"]


def reach(s):
    seen, todo = set(), [s]
    while todo:
        x = todo.pop()
        for a, b in edges:
            if a == x and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


path = {s: reach(s) for s in sources}
print("\n".join(f"s = {s}, n = {len(path[s])}" for s in sources))
unreached = sorted((s, y) for s in sources for y in {a for a, _ in edges} if y not in path[s])
print("\n".join(f"s = {s}, y = {y}" for s, y in unreached))
hits = np.array([sum(y in path[s] for s in sources) for y in nodes], dtype=np.float64)
print("Hits = " + show(hits))
w, m, v = np.zeros(8), np.zeros(8), np.zeros(8)
for t in range(1, 201):
    g = 2 * (w - hits)
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g * g
    w = w - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
loss = ((w - hits) ** 2).sum()
assert (np.abs(w - np.round(w)) < 0.2).all() and loss < 0.005, (w, loss)
print("learned counts: " + show(np.round(w)))
print("loss below 0.01: " + show(float(loss < 0.01)))   # (a comparison of tensors is 0 or 1)
