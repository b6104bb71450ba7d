# Oracle for link_prediction.tl: DistMult scores trained by Adam (PyTorch's update, written out) on
# the mean binary cross-entropy with logits, in numpy float64 from the same start.
import numpy as np
from oracle_format import show

users = [f"u{k}" for k in range(6)]
facts = {(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (0, 3)}
Y = np.array([[float((a, b) in facts) for b in range(6)] for a in range(6)])
h = lambda x: np.array(x, dtype=np.float16).astype(float)
params = [h([[-0.4, -0.66, -0.12, 0.21], [0.57, 0.05, -0.28, -0.39], [0.37, 0.82, 0.14, -0.62],
             [-0.48, 0.8, 0.1, -0.87], [-0.04, -0.58, -0.31, -0.24], [-0.36, 0.28, -0.03, -0.29]]),
          h([[0.2, 0.41, -0.82, -0.13], [-0.49, -0.09, -0.64, 0.01], [-0.02, -0.15, -0.52, -0.2],
             [-0.55, -0.68, 0.11, -0.55], [0.59, 0.36, -1.0, 0.14], [-0.55, 0.02, 0.02, -0.99]]),
          np.ones(4)]
m = [np.zeros_like(p) for p in params]
v = [np.zeros_like(p) for p in params]
logits = lambda S, D, R: (S * R) @ D.T
for t in range(1, 401):
    S, D, R = params
    G = (1 / (1 + np.exp(-logits(S, D, R))) - Y) / 36          # d loss / d logits
    grads = [G @ (D * R), G.T @ (S * R), ((G @ D) * S).sum(0)]
    for k in range(3):
        m[k] = 0.9 * m[k] + 0.1 * grads[k]
        v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
        params[k] = params[k] - 0.05 * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
z = logits(*params)
loss = np.mean(np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z))))
assert abs(loss - 0.1) > 0.03 and np.abs(z).min() > 0.5, (loss, np.abs(z).min())
pred = {(a, b) for a in range(6) for b in range(6) if z[a, b] > 0}
print("loss below 0.1:", show(bool(loss < 0.1)))
print("\n".join(f"a = {users[a]}, b = {users[b]}" for a, b in sorted(pred - facts)) or "false")
print("\n".join(f"a = {users[a]}, b = {users[b]}" for a, b in sorted(facts - pred)) or "false")
print("\n".join(f"b = {users[b]}" for a, b in sorted(pred) if a == 0))
