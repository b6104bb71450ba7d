# Oracle for xor_network.tl: float64 numpy forward pass and hand-written backprop, plain SGD.
import sys

import numpy as np
from oracle_format import show, rnd

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
T = np.array([0, 1, 1, 0], float)
W1 = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.5]]); b1 = np.array([0.0, 0.0, -0.5])
W2 = np.array([1.0, 1.0, -1.0]); b2 = 0.0

def fwd():
    h = np.tanh(X @ W1 + b1)
    return h, 1 / (1 + np.exp(-(h @ W2 + b2)))

def loss():
    return np.mean((fwd()[1] - T) ** 2)

out = [f"epoch 0 loss {show(rnd(loss(), 1000))}"]
for r in range(4):
    for _ in range(100):
        h, p = fwd()
        dp = 2 * (p - T) / 4
        dz = dp * p * (1 - p)
        gW2 = h.T @ dz; gb2 = dz.sum()
        dh = np.outer(dz, W2) * (1 - h ** 2)
        gW1 = X.T @ dh; gb1 = dh.sum(0)
        W1 -= 0.5 * gW1; b1 -= 0.5 * gb1; W2 -= 0.5 * gW2; b2 -= 0.5 * gb2
    print("raw loss", loss(), file=sys.stderr)
    out.append(f"epoch {100 * (r + 1)} loss {show(rnd(loss(), 1000, margin=0.05))}")
p = fwd()[1]
print("raw p", p, file=sys.stderr)
out.append(f"outputs {show(rnd(p, 10))}")
out.append(f"classes {show((p > 0.5).astype(float))}")
print("\n".join(out))
