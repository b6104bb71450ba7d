# Oracle for causal_attention.tl: causal softmax attention with numpy in float64; rounded values are
# checked to lie away from rounding boundaries.
import numpy as np
from oracle_format import rnd, show

X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], float)
Wq = np.array([[1, 0], [0, 1], [1, 1]], float)
Wk = np.array([[0.5, 0], [0, 0.5], [1, 0]], float)
Wv = np.array([[1, 0], [0, 1], [2, 2]], float)
s = (X @ Wq) @ (X @ Wk).T / np.sqrt(2) + np.triu(np.full((4, 4), -np.inf), 1)
a = np.exp(s - s.max(1, keepdims=True))
a /= a.sum(1, keepdims=True)
print("attention:", show(rnd(a, 100)))
print("output:", show(rnd(a @ (X @ Wv), 100)))
print("same with built-ins: true")
print("rows sum to one:", show(rnd(a.sum(1), 100)))
