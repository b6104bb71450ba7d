# Oracle for iris_softmax.tl: softmax regression trained by Adam (PyTorch's update, written out) in
# numpy float64 from the same zero start; predictions by argmax.
import numpy as np
from oracle_format import show

X = np.array([[1.4, 0.2], [1.3, 0.2], [1.5, 0.3], [4.5, 1.5], [4.1, 1.3], [4.7, 1.4], [6.0, 2.5],
              [5.8, 2.2], [5.5, 1.9]], dtype=np.float16).astype(float)
Y = np.repeat(np.eye(3), 3, axis=0)
params = [np.zeros((2, 3)), np.zeros(3)]
m = [np.zeros_like(p) for p in params]
v = [np.zeros_like(p) for p in params]


def forward(W, B, x=X):
    z = x @ W + B
    z = z - z.max(1, keepdims=True)
    return z, np.exp(z) / np.exp(z).sum(1, keepdims=True)


for t in range(1, 301):
    z, p = forward(*params)
    g = (p - Y) / 9                                   # d loss / d logits
    grads = [X.T @ g, g.sum(0)]
    for k in range(2):
        m[k] = 0.9 * m[k] + 0.1 * grads[k]
        v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
        params[k] = params[k] - 0.1 * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
z, p = forward(*params)
loss = -(Y * np.log(p)).sum() / 9
assert abs(loss - 0.2) > 0.05, loss
pred = p.argmax(1)
print("predicted:", "[" + ", ".join(map(str, pred)) + "]")
print("accuracy:", show((pred == Y.argmax(1)).mean()))
print("loss below 0.2:", show(bool(loss < 0.2)))
new = np.array([[1.6, 0.4], [5.0, 1.7]], dtype=np.float16).astype(float)
for k, c in enumerate(forward(*params, new)[1].argmax(1)):
    print("new flower", k, "is class", c)
