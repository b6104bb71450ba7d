# Oracle for rnn_sequence.tl: the recurrence as a Python loop over steps in float64, the softmax
# readout per step, the negative log-likelihood of the target classes.
import numpy as np
from oracle_format import show, rnd
f16 = lambda a: np.array(a, float).astype(np.float16).astype(float)
w = f16([[0.5, -0.2, 0.1], [0.3, 0.4, -0.5], [-0.1, 0.2, 0.6]])
v = f16([[1.0, -0.5], [0.2, 0.8], [-0.7, 0.3]])
u = f16([[1, 0, 1, 0, 1], [0, 1, 1, 0, 0]])
h = [f16([0.1, 0.0, -0.1])]
for t in range(5):
    h.append(np.tanh(w @ h[-1] + v @ u[:, t]))
h = np.stack(h, 1)                                   # [3, 6]
wo = f16([[1.0, -1.0, 0.5], [-0.5, 1.0, 1.0]])
z = wo @ h                                           # [class, time]
y = np.exp(z) / np.exp(z).sum(0)
targets = {1: 1, 2: 1, 3: 0, 4: 1, 5: 0}
nll = -sum(np.log(y[c, t]) for t, c in targets.items())
print("\n".join(["hidden: " + show(rnd(h, 100)), "p(high): " + show(rnd(y[1], 100)),
                 "mean nll: " + show(rnd(nll / len(targets), 100))]))
