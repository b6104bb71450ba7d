# Oracle for multihead_attention.tl: numpy einsums in float64 over the f16-rounded inputs.
import numpy as np
from oracle_format import show, rnd
f16 = lambda a: np.array(a, float).astype(np.float16).astype(float)
X = f16([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]])
WQ = f16([[[0.1, 0.2, 0.0, -0.1], [0.3, 0.0, 0.1, 0.2]], [[-0.2, 0.1, 0.4, 0.0], [0.0, 0.2, -0.1, 0.3]]])
WK = f16([[[0.2, -0.1, 0.1, 0.0], [0.1, 0.1, 0.1, 0.1]], [[0.3, 0.0, -0.2, 0.1], [0.0, -0.3, 0.2, 0.2]]])
WV = f16([[[1, 0, 0, 0], [0, 1, 0, 0]], [[0, 0, 1, 0], [0, 0, 0, 1]]])
Q, K, V = (np.einsum("hkd,pd->hpk", W, X) for W in (WQ, WK, WV))
scores = np.einsum("hpk,hqk->hpq", Q, K) / np.sqrt(2)
scores = np.where(np.tril(np.ones((3, 3))) > 0, scores, -np.inf)
comp = np.exp(scores - scores.max(-1, keepdims=True))
comp /= comp.sum(-1, keepdims=True)
attn = np.einsum("hpq,hqk->hpk", comp, V)
print("weights: " + show(rnd(comp, 100)))
print("merged: " + show(rnd(attn.transpose(1, 0, 2), 100)))
