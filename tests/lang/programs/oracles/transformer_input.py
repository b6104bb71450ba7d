# Oracle for transformer_input.tl: one-hot token rows times the embedding table, the sinusoidal
# encoding by numpy over a grid of positions and dimensions, a masked softmax.
import numpy as np
from oracle_format import show, rnd
emb = np.array([[0.1, 0.2, 0.0, 0.3, 0.1, 0.0], [0.5, 0.0, 0.4, 0.1, 0.0, 0.2],
                [0.0, 0.6, 0.1, 0.0, 0.3, 0.1], [0.2, 0.1, 0.0, 0.5, 0.0, 0.4],
                [0.3, 0.0, 0.2, 0.2, 0.6, 0.0]]).astype(np.float16).astype(float)
tokens = [0, 1, 2, 3, 4]                       # the cat sat on mat, positions 0..4
p, d = np.arange(5)[:, None], np.arange(6)[None, :]
posenc = np.where(d % 2 == 0, np.sin(p / 10 ** (d / 6)), np.cos(p / 10 ** ((d - 1) / 6)))
x = emb[tokens] + posenc
scores = x @ x.T / 4 - 100 * (np.arange(5)[None, :] > np.arange(5)[:, None])
att = np.exp(scores - scores.max(1, keepdims=True))
att /= att.sum(1, keepdims=True)
out = att @ x
print("\n".join(["d = 1", "d = 3", "d = 5",
                 "posenc: " + show(rnd(posenc, 100)),
                 "attention: " + show(rnd(att, 100)),
                 "sum of squares of the last output: " + show(rnd((out[4] ** 2).sum(), 100))]))
