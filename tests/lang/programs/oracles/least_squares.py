# Oracle for least_squares.tl: the normal equations solved with numpy.linalg, gradient descent
# run twice (float64, and with every value rounded to f16 as the engine stores it) to bound the
# gap, and Adam with cosine annealing re-implemented in float64 after torch.optim's formulas.
import sys
import numpy as np
from oracle_format import show, rnd
x = np.arange(6.0); y = np.array([-0.5, 0.5, 3, 5.5, 6.5, 9])
A = np.stack([x, np.ones(6)], 1)
sol = np.linalg.solve(A.T @ A, A.T @ y)
h = np.float16
def gd(dtype):
    w = np.zeros(2, dtype); Af, yf = A.astype(dtype), y.astype(dtype)
    for _ in range(400):
        r = (Af @ w - yf).astype(dtype)
        g = ((Af.T @ r).astype(dtype) * dtype(2.0 / 6.0)).astype(dtype)
        w = (w - dtype(0.05) * g).astype(dtype)
    return w.astype(float)
gaps = [np.abs(gd(t) - sol).max() for t in (np.float64, np.float32, h)]
print("raw sol", sol, "gd gaps", gaps, file=sys.stderr)
assert max(gaps) < 0.04
w, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
for t in range(1, 301):
    lr = 0.1 * (1 + np.cos(np.pi * (t - 1) / 300)) / 2
    g = 2 * A.T @ (A @ w - y) / 6
    m = 0.9 * m + 0.1 * g; v = 0.999 * v + 0.001 * g * g
    w = w - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
loss = ((A @ w - y) ** 2).sum() / 6
print("raw adam", w, loss, file=sys.stderr)
out = [f"normal equations: {show(rnd(sol[0], 100))} {show(rnd(sol[1], 100))}",
       "gram matrix: " + show(A.T @ A).replace("\n", "\n"),
       "gradient descent agrees within 0.05",
       "learned: " + show(rnd(w, 10)), "loss below 0.5" if loss < 0.5 else "?"]
print("\n".join(out))
