# Oracle for seed_engine_ops.tl: each operation written out in float64 numpy (loops for the
# convolutions and pooling), from the inputs as the program stores them (f16), printed as the
# language prints f16 values (rounded where the program rounds, away from rounding boundaries).
import numpy as np
from oracle_format import rnd, show


def t(values, shape=None):
    a = np.asarray(values, np.float16).astype(np.float64)
    return a if shape is None else a.reshape(shape)


def conv2d(x, k, stride, padding):
    x = np.pad(x, padding)
    n = (x.shape[0] - k.shape[0]) // stride + 1, (x.shape[1] - k.shape[1]) // stride + 1
    return np.array([[(x[i * stride:i * stride + k.shape[0], j * stride:j * stride + k.shape[1]] * k).sum()
                      for j in range(n[1])] for i in range(n[0])])


def pool(x, reduce):
    return np.array([[reduce(x[i:i + 2, j:j + 2]) for j in range(0, x.shape[1], 2)] for i in range(0, x.shape[0], 2)])


def softmax(v):
    e = np.exp(v - v.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


X = t([[0.5, -1.25, 2.0, 0.75], [1.5, 0.25, -0.5, 3.0]])
K = t([[0.5, -0.25, 0.0], [1.0, 0.5, -0.5], [0.25, 0.0, 0.75]])
print("sum:", show(X.sum(1)), "mean:", show(X.mean(0)))
print("std:", show(rnd(X.std(1, ddof=1), 100)), "var:", show(X.var(0, ddof=1)))
print("max:", show(X.max(1)), "at", "[" + ", ".join(str(i) for i in X.argmax(1)) + "]", "min:", show(X.min(0)))
A = t([1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 2.0, 1.0, -0.5, 1.5, 0.25, 2.0], (2, 2, 3))
B = t([0.5, 1.0, -1.0, 2.0, 0.25, 0.0, 1.0, 1.0, 0.5, -0.5, 2.0, 0.25], (2, 3, 2))
print("bmm:", show(A @ B))
print("mv:", show(X @ t([1.0, 0.0, -1.0, 0.5])))
big = np.concatenate([X * 2, X * 2 * -0.5])          # the 4 x 4 image
print("conv:", show(conv2d(big, K, 2, 1).reshape(1, 1, 2, 2)))
small = t([1.0, -2.0, 0.5, 3.0], (2, 2))
up = np.kron(small, np.full((2, 2), 0.5))             # stride 2 with a 2 x 2 kernel: the copies do not overlap
print("up:", show(up.sum()), (1, 1) + up.shape)
print("pool:", show(pool(big, np.max).reshape(1, 1, 2, 2)), show(pool(big, np.mean).reshape(1, 1, 2, 2)))
print("bn:", show(rnd((X - X.mean(0)) / np.sqrt(X.var(0) + 1e-5), 100)))
q = (np.float16(0.25) * X.astype(np.float16)).astype(np.float64)   # f16, as the program stores it
scores = q @ q.T / np.sqrt(4) + np.triu(np.full((2, 2), -np.inf), 1)
print("attention:", show(rnd((softmax(scores) @ q).reshape(1, 2, 4), 10)))
print("broadcast:", show(np.broadcast_to(t([1.0, -2.0]), (3, 2)) + X[0, 0]))
print("in place:", show(np.maximum((X - 1) * 2, 0)))
