# Oracle for logistic_regression.tl: float64 numpy gradient descent on the mean cross-entropy
# (gradient X^T (p - y) / n), accuracy counted in Python.
import sys

import numpy as np
from oracle_format import show, rnd

X = np.array([[0.0, 0.2], [0.4, 0.1], [0.2, 0.5], [0.8, 0.6], [0.9, 0.8], [0.7, 1.0], [1.0, 0.6], [0.3, 0.4]])
X = X.astype(np.float16).astype(float)
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1], float)
w, b = np.zeros(2), 0.0
p = lambda: 1 / (1 + np.exp(-(X @ w + b)))
loss = lambda: -np.mean(Y * np.log(p()) + (1 - Y) * np.log(1 - p()))
acc = lambda: float(np.mean((p() > 0.5) == (Y == 1)))
out = [f"start: loss {show(rnd(loss(), 100))} accuracy {acc():g}"]
for r in range(4):
    for _ in range(20):
        g = p() - Y
        w, b = w - 0.5 * X.T @ g / 8, b - 0.5 * g.mean()
    print("raw", loss(), p(), file=sys.stderr)
    out.append(f"round {r + 1} loss {show(rnd(loss(), 100))} accuracy {acc():g}")
print("raw w b", w, b, file=sys.stderr)
out.append(f"W = {show(rnd(w, 10, margin=0.04))} B = {show(rnd(b, 10))}")
out.append(f"predicted: {show((p() > 0.5).astype(float))}")
print("\n".join(out))
