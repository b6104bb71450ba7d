# Oracle for seed_optimizers.tl: torch.optim's SGD (momentum, Nesterov, weight decay), Adam (AMSGrad)
# and AdamW update rules written out in float64 numpy on the summed squared error of X w - Y (an
# index only on the right sums), from the f16 inputs the program stores; weights printed rounded to
# one decimal (SGD's) or two.
import numpy as np
from oracle_format import rnd, show

X = np.array([[1.0, 0.5], [0.25, -1.0], [2.0, 1.0], [-0.5, 0.75]], np.float16).astype(np.float64)
Y = np.array([1.5, -1.75, 4.0, 0.25], np.float16).astype(np.float64)


def grad(w):
    return 2 * X.T @ (X @ w - Y)


def sgd(w, lr, momentum, weight_decay, steps):
    buf = None
    for _ in range(steps):
        g = grad(w) + weight_decay * w
        buf = g if buf is None else momentum * buf + g
        w = w - lr * (g + momentum * buf)            # Nesterov
    return w


def adam(w, lr, b1, b2, eps, steps, weight_decay=0.0, amsgrad=False):
    m, v, vmax = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grad(w)
        w = w * (1 - lr * weight_decay)               # AdamW's decoupled decay (0 for Adam)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v) if amsgrad else v
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(vmax / (1 - b2 ** t)) + eps)
    return w


ws = sgd(np.zeros(2), 0.05, 0.9, 0.01, 30)
wa = adam(np.array([0.5, -0.5]), 0.1, 0.8, 0.99, 1e-6, 30, amsgrad=True)
ww = adam(np.array([1.0, 1.0]), 0.1, 0.9, 0.999, 1e-8, 40, weight_decay=0.25)
print("sgd:", show(rnd(ws, 10)), "others:", show(np.array([0.5, -0.5])), show(np.array([1.0, 1.0])))
print("adam:", show(rnd(wa, 100)))
print("adamw:", show(rnd(ww, 100)), "sgd kept:", show(rnd(ws, 10)))
