# Oracle for matrix_completion.tl: Adam on the masked squared error of the rank-1 product u v^T in
# float64 numpy (tl.optim's and PyTorch's Adam), and the unobserved cells by a comprehension.
import numpy as np

from oracle_format import rnd, show

rows, cols = ["r0", "r1", "r2", "r3"], ["c0", "c1", "c2"]
observed = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 1), (2, 2), (3, 0), (3, 1)}
mask = np.array([[1.0 if (a, b) in observed else 0.0 for b in range(3)] for a in range(4)])
M = np.float16([[1, 2, 3], [2, 0, 6], [0, 1, 1.5], [3, 6, 0]]).astype(np.float64)
params = [np.float16([0.5, 0.5, 0.5, 0.5]).astype(np.float64), np.float16([0.5, 0.4, 0.3]).astype(np.float64)]
m = [np.zeros(4), np.zeros(3)]
v = [np.zeros(4), np.zeros(3)]
lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
for step in range(1, 401):
    u, w = params
    err = mask * (np.outer(u, w) - M)
    grads = [2 * err @ w, 2 * err.T @ u]
    for k, g in enumerate(grads):
        m[k] = b1 * m[k] + (1 - b1) * g
        v[k] = b2 * v[k] + (1 - b2) * g * g
        params[k] = params[k] - lr * (m[k] / (1 - b1 ** step)) / (np.sqrt(v[k] / (1 - b2 ** step)) + eps)
approx = np.outer(*params)
loss = (mask * (approx - M) ** 2).sum()
assert abs(loss - 0.01) > 0.003, loss
out = [f"a = {rows[a]}, b = {cols[b]}" for a in range(4) for b in range(3) if (a, b) not in observed]
out.append(f"predicted: {show(rnd(approx, 10, margin=0.1))}")
out.append(f"fit below 0.01: {1 if loss < 0.01 else 0}")
print("\n".join(out))
