# Oracle for transformer_block.tl: the block in float64 numpy (the weights' integer patterns are
# exact in f16; the sinusoidal table is rounded to f16 as the program stores it).
import sys
import numpy as np
from oracle_format import show, rnd
pos = np.arange(4)[:, None]
rate = 10000.0 ** (-(np.arange(0, 8, 2) / 8))
X = np.zeros((4, 8)); X[:, 0::2] = np.sin(pos * rate); X[:, 1::2] = np.cos(pos * rate)
X = X.astype(np.float16).astype(float)
pat = lambda n, m, s, shape: ((np.arange(n) % m - (m // 2)) * s).reshape(shape)
WQ, WK, WV = pat(64, 5, 0.25, (8, 8)), pat(64, 3, 0.25, (8, 8)), pat(64, 7, 0.5, (8, 8))
W1, W2 = pat(128, 5, 0.125, (8, 16)), pat(128, 3, 0.25, (16, 8))
mask = np.triu(np.ones((4, 4)), 1) * -10000
S = (X @ WQ) @ (X @ WK).T / np.sqrt(8) + mask
A = np.exp(S - S.max(1, keepdims=True)); A /= A.sum(1, keepdims=True)
ln = lambda z: (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + 1e-5)
res = ln(A @ (X @ WV) + X)
y = ln(res + np.maximum(res @ W1, 0) @ W2)
print("raw", A, y, file=sys.stderr)
out = ["attention:", show(rnd(A, 100, margin=0.1)), "output shape: (4, 8)", "each output row has mean 0",
       "output row 2: " + show(rnd(y[2], 10, margin=0.1)), "output row 3: " + show(rnd(y[3], 10, margin=0.1)),
       f"position 3 attends most to {int(np.argmax(A[3]))}"]
print("\n".join(out))
