# Oracle for gnn_layer.tl: the symmetric adjacency matrix, degrees by row sums and Python counts,
# the layer by numpy matrix products.
import numpy as np
from oracle_format import show, rnd
nodes = ["a", "b", "c", "d", "e"]
edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "c")]
adj = np.zeros((5, 5))
for x, y in edges:
    adj[nodes.index(x), nodes.index(y)] = adj[nodes.index(y), nodes.index(x)] = 1
f16 = lambda a: np.array(a, float).astype(np.float16).astype(float)
x = f16([[1, 0], [0, 1], [1, 1], [0.5, 0], [0, 0.5]])
wp, wagg = f16([[1, -0.5], [0.5, 1]]), f16([[0.5, 0], [0, 0.5]])
wself, wout = f16([[1, 0.25], [-0.25, 1]]), f16([1, -1])
z = np.maximum(x @ wp.T, 0)
agg = adj @ z
emb = np.maximum(agg @ wagg.T + x @ wself.T, 0)
y = 1 / (1 + np.exp(-emb @ wout))
deg = adj.sum(1)
lab = lambda name, v: name + show(v).replace("\n", "\n" + " " * len(name))
out = [f"x = {n}, k = {int(k)}" for n, k in zip(nodes, deg)]
out += [lab("DegPlus = ", deg + 1), "emb: " + show(emb), "y: " + show(rnd(y, 100)),
        lab("MeanAgg = ", agg / (deg + 1)[:, None])]
print("\n".join(out))
