# Oracle for next_word.tl: the masked cross-entropy of a log-softmax over E O, its gradient written
# out, Adam as tl.optim and PyTorch define it, in float64 numpy; then the rule by a comprehension.
import numpy as np

from oracle_format import rnd, show

words = ["the", "cat", "dog", "sat", "ran"]
nxt = [("the", "cat"), ("the", "dog"), ("cat", "sat"), ("dog", "ran"), ("sat", "the"), ("ran", "the")]
mask = np.zeros((5, 5))
for a, b in nxt:
    mask[words.index(a), words.index(b)] = 1
params = [np.float16([[0.1, 0.2], [-0.2, 0.1], [0.3, -0.1], [0.0, 0.3], [-0.1, -0.2]]).astype(np.float64),
          np.float16([[0.2, -0.1, 0.1, 0.0, 0.3], [-0.2, 0.1, 0.2, -0.3, 0.1]]).astype(np.float64)]
m = [np.zeros_like(p) for p in params]
v = [np.zeros_like(p) for p in params]
lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


for step in range(1, 201):
    E, O = params
    G = mask.sum(axis=1, keepdims=True) * softmax(E @ O) - mask      # d loss / d logits
    for k, g in enumerate([G @ O.T, E.T @ G]):
        m[k] = b1 * m[k] + (1 - b1) * g
        v[k] = b2 * v[k] + (1 - b2) * g * g
        params[k] = params[k] - lr * (m[k] / (1 - b1 ** step)) / (np.sqrt(v[k] / (1 - b2 ** step)) + eps)
P = softmax(params[0] @ params[1])
assert (np.abs(P - 0.4) > 0.05).all(), P
print("p(. | the):", show(rnd(P[0], 10, margin=0.1)))
print("p(. | cat):", show(rnd(P[1], 10, margin=0.1)))
print("\n".join(f"w = {a}, v = {b}" for a, b in sorted(nxt, key=lambda p: (words.index(p[0]), words.index(p[1])))
                if P[words.index(a), words.index(b)] > 0.4))
