# Oracle for hmm_forward.tl: the forward and Viterbi recursions as Python loops in float64.
import numpy as np
from oracle_format import show, rnd
f16 = lambda a: np.array(a, float).astype(np.float16).astype(float)
init, trans = f16([0.6, 0.4]), f16([[0.7, 0.3], [0.4, 0.6]])
emit = f16([[0.1, 0.4, 0.5], [0.6, 0.3, 0.1]])
seq = [0, 1, 2, 0, 0]
alpha, delta = [init * emit[:, seq[0]]], [init * emit[:, seq[0]]]
for o in seq[1:]:
    alpha.append((alpha[-1] @ trans) * emit[:, o])
    delta.append((delta[-1][:, None] * trans).max(0) * emit[:, o])
alpha, delta = np.array(alpha), np.array(delta)
filtered = alpha / alpha.sum(1, keepdims=True)
print("\n".join(["likelihood: " + show(rnd(alpha[4].sum(), 10000)),
                 "filtered p(rainy): " + show(rnd(filtered[:, 0], 100)),
                 "viterbi p(rainy): " + show(rnd(delta[:, 0] / delta.sum(1), 100)),
                 "best path probability: " + show(rnd(delta[4].max(), 100000))]))
