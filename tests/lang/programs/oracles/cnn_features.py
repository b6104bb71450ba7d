# Oracle for cnn_features.tl: the valid convolution and the 2x2 max pooling as explicit loops.
import numpy as np
from oracle_format import show
img = np.array([[[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [1, 1]],
                [[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [1, 0]],
                [[0, 0], [0, 0], [1, 1], [1, 1], [0, 0], [0, 1]],
                [[0, 1], [0, 1], [1, 0], [1, 0], [1, 1], [0, 0]],
                [[1, 1], [0, 0], [0, 0], [1, 0], [1, 0], [0, 1]],
                [[0, 0], [1, 1], [0, 1], [0, 0], [1, 0], [1, 0]]], float)
col = [[1, 0], [0, 0], [-1, 0]]
filt = np.array([[col, col, col],
                 [[[0, 0.5], [0, 0.5], [0, 0.5]], [[0, 0]] * 3, [[0, -0.5], [0, -0.5], [0, -0.5]]]], float)
bias = np.array([-0.5, 0.25])
wd = np.array([[[1, -1], [0.5, 0.5]], [[-1, 1], [2, -0.5]]])
feat = np.zeros((2, 4, 4))
for o in range(2):
    for x in range(4):
        for y in range(4):
            feat[o, x, y] = max((filt[o] * img[x:x + 3, y:y + 3]).sum() + bias[o], 0)
pooled = np.array([[[feat[o, 2 * a:2 * a + 2, 2 * b:2 * b + 2].max() for b in range(2)] for a in range(2)]
                   for o in range(2)])
lab = lambda name, v: name + show(v).replace("\n", "\n" + " " * len(name))
print("\n".join(["features: " + show(feat), lab("Pooled = ", pooled),
                 f"Logit = {show((pooled * wd).sum())}", lab("Fired = ", (feat > 0).sum((1, 2)))]))
