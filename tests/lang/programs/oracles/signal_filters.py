# Oracle for signal_filters.tl: the valid correlation, differences, pooling and shift by numpy slicing.
import numpy as np
from oracle_format import show, rnd
s = np.array([0, 0, 1, 3, 5, 5, 5, 4, 2, 0, 0, 1], float)
smooth = np.array([s[i:i + 3].sum() / 3 for i in range(10)])
diff = s[1:] - s[:-1]
lab = lambda name, v: name + show(v).replace("\n", "\n" + " " * len(name))
out = ["smooth: " + show(rnd(smooth, 10)),
       lab("Diff = ", diff), lab("Rising = ", (diff > 0).astype(float)),
       lab("Pool = ", s.reshape(3, 4).max(1)), lab("Mean4 = ", s.reshape(3, 4).mean(1)),
       f"shift length: {len(s) - 2} first: {s[2]:g}",
       f"first peak at {int(np.argmax(s))} value {s[np.argmax(s)]:g}",
       f"rising steps: {int((diff > 0).sum())} = {int((diff > 0).sum())}"]
print("\n".join(out))
