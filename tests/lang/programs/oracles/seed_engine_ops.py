# Oracle for seed_engine_ops.tl: each operation by PyTorch on the CPU in float64, from the inputs as
# the program stores them (f16), printed as the language prints f16 values (rounded where the
# program rounds, away from rounding boundaries).
import numpy as np
import torch
import torch.nn.functional as F
from oracle_format import rnd, show


def t(values, shape=None):
    a = torch.tensor(np.asarray(values, np.float16).astype(np.float64))
    return a if shape is None else a.reshape(shape)


X = t([[0.5, -1.25, 2.0, 0.75], [1.5, 0.25, -0.5, 3.0]])
K = t([[[[0.5, -0.25, 0.0], [1.0, 0.5, -0.5], [0.25, 0.0, 0.75]]]])
print("sum:", show(X.sum(1)), "mean:", show(X.mean(0)))
print("std:", show(rnd(X.std(1), 100)), "var:", show(X.var(0)))
print("max:", show(X.max(1).values), "at", str(X.argmax(1).tolist()).replace(",", ", ").replace(",  ", ", "),
      "min:", show(X.min(0).values))
A = t([1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 2.0, 1.0, -0.5, 1.5, 0.25, 2.0], (2, 2, 3))
B = t([0.5, 1.0, -1.0, 2.0, 0.25, 0.0, 1.0, 1.0, 0.5, -0.5, 2.0, 0.25], (2, 3, 2))
print("bmm:", show(A @ B))
print("mv:", show(X @ t([1.0, 0.0, -1.0, 0.5])))
img = X.reshape(1, 1, 2, 4) * 2
big = torch.cat([img, img * -0.5], 2)
print("conv:", show(F.conv2d(big, K, stride=2, padding=1)))
up = F.conv_transpose2d(t([1.0, -2.0, 0.5, 3.0], (1, 1, 2, 2)), torch.full((1, 1, 2, 2), 0.5, dtype=torch.float64),
                        stride=2)
print("up:", show(up.sum()), tuple(up.shape))
print("pool:", show(F.max_pool2d(big, 2)), show(F.avg_pool2d(big, 2)))
bn = F.batch_norm(X, X.mean(0), X.var(0, correction=0), eps=1e-5)
print("bn:", show(rnd(bn, 100)))
q = torch.tensor(np.float16(0.25) * np.asarray(X.reshape(1, 2, 4), np.float16)).double()   # f16, as the program
print("attention:", show(rnd(F.scaled_dot_product_attention(q, q, q, is_causal=True), 10)))
print("broadcast:", show(t([1.0, -2.0]).broadcast_to(3, 2) + X[0, 0]))
print("in place:", show(torch.relu((X - 1) * 2)))
