# Oracle for attention_tokens.tl: the same attention in float64 numpy (matrix products and a
# row softmax).
import numpy as np
from oracle_format import show, rnd

E = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]], float)
WQ = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], float)
WK = np.array([[1, 0], [1, 2], [0, 1], [0, 0]], float)
WV = np.array([[0.5, 0], [0, 0.5], [0.5, 0.5], [0, 0]])
Q, K, V = E @ WQ, E @ WK, E @ WV
S = Q @ K.T / np.sqrt(2)
A = np.exp(S) / np.exp(S).sum(1, keepdims=True)
O = A @ V
lab = lambda name, v: name + show(v).replace("\n", "\n" + " " * len(name))
out = [lab("Q = ", Q), lab("K = ", K)]
out.append("scores: " + show(rnd(S, 100)))
out.append("attention: " + show(rnd(A, 100)))
out.append("row sums: " + show(rnd(A.sum(1), 100)))
out.append("output: " + show(rnd(O, 100)))
out.append("strongest weight per token: " + show(rnd(A.max(1), 100)))
out.append("cat's output: " + show(rnd(O[1], 100)))
out.append(f"'sat' attends most to token {int(np.argmax(A[2]))}")
print("\n".join(out))
