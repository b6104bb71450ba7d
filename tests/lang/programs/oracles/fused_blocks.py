# Oracle for fused_blocks.tl: each block in float64 numpy (X, W and B rounded to f16 as the program
# stores them), rounded to one decimal away from rounding boundaries (f16 holds about three digits).
import numpy as np
from oracle_format import rnd, show

X = np.array([[0.5, -1.0, 0.25, 2.0], [1.4, 0.3, -0.6, 1.1], [-2.0, 0.75, 1.25, -0.25]], np.float16).astype(float)
W = np.array([[0.125, 0.25, -0.375, 0.5], [0.5, -0.625, 0.75, 0.875],
              [-0.875, 1.0, 0.2, 0.25], [0.375, 0.5, -0.5, 0.625]], np.float16).astype(float)
B = np.array([0.1, -0.2, 0.3, -0.4], np.float16).astype(float)   # as the program stores it
target = np.eye(4)[[0, 2, 3]]
erf = np.vectorize(__import__("math").erf)
gelu = 0.5 * X * (1 + erf(X / np.sqrt(2)))
ln = (X - X.mean(1, keepdims=True)) / np.sqrt(X.var(1, keepdims=True) + 1e-5)
bn = (X - X.mean(0)) / np.sqrt(X.var(0) + 1e-5)
logits = X @ W + B
logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
ce = -(logp * target).sum(1)
print("res:", show(rnd(np.maximum(X @ W + B + X, 0)[0], 10)), "ffn:", show(rnd((gelu @ W + B)[0], 10)))
print("ln:", show(rnd((ln @ W)[0], 10)), "bn:", show(rnd(bn[0], 10)))
print("ce:", show(rnd(ce, 10)), "loss:", show(rnd(ce.mean(), 10)))
print("rows of P sum to 1: true")
