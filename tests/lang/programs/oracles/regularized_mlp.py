# Oracle for regularized_mlp.tl: the forward pass and each term of the loss in float64 numpy.
import numpy as np
from oracle_format import rnd, show
x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
t = np.array([0, 1, 1, 0], float)
w1, b1 = np.array([[1.0, -1.0], [-1.0, 1.0], [0.5, 0.5]]), np.array([0.0, 0.0, -0.5])
w2, b2 = np.array([1.0, 1.0, -1.0]), -0.5
h = np.maximum(x @ w1.T + b1, 0)
y = 1 / (1 + np.exp(-(h @ w2 + b2)))
data = ((y - t) ** 2).sum()
penalty = 0.02 * (w1 ** 2).sum() + 0.02 * (w2 ** 2).sum()
print(f"data: {show(rnd(data, 100))} penalty: {show(rnd(penalty, 100))} loss: {show(rnd(data + penalty, 100))}")
print("the loss fell: 1")
print("predictions on the right side: 1")
