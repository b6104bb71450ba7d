# Oracle for f16_edges.tl: each value computed in float64 from the float16 inputs and stored as
# float16 (sums accumulate wider, as PyTorch's float16 sum does, then round once).
import numpy as np

from oracle_format import show

np.seterr(all="ignore")
X = np.float16([60000, 65504, 0.0001, -65504]).astype(np.float64)
ints = np.float16([2048, 2049, 2050, 4097]).astype(np.float64)
Z = np.float16([1, 0, -1]).astype(np.float64)


def h(v):
    """Stored as float16 (an overflow is inf)."""
    return np.asarray(v, dtype=np.float64).astype(np.float16).astype(np.float64)


logits = h(X)
soft = np.exp(logits - logits.max())
print("X:", show(X))
print("ints:", show(ints))
print("twice:", show(h(X * 2)))
print("exp:", show(h(np.exp(h(X / 1000)))))
print("log:", show(h(np.log(Z))))
print("1/z:", show(h(1 / Z)))
print("z/z:", show(h(Z / Z)))
print("sum:", show(h(X.sum())))
print("softmax:", show(h(soft / soft.sum())))
print("sig:", show(h(1 / (1 + np.exp(-X)))))
print("0.1 + 0.2 =", show(h(h(X[2] * 1000) + 0.2)))
