# Oracle for kernel_machines.tl: the kernels by numpy broadcasting over (query, support vector,
# feature), summed over the feature axis where the program's term says.
import numpy as np
from oracle_format import show, rnd
sv = np.array([[0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 0]], float)
label = np.array([-1, -1, 1, 1], float)
alpha = np.array([0.5, 1.0, 1.5, 1.0])
q = np.array([[0.7, 0.3, 0.0], [0.0, 0.7, 0.1], [0.5, 0.8, 0.9]])
q = q.astype(np.float16).astype(float)            # the program's tensors hold f16
bias = -0.55
gauss = np.exp(-((q[:, None, :] - sv[None, :, :]) ** 2).sum(-1) / 2)
poly = (q @ sv.T + 1) ** 2
score_g = gauss @ (alpha * label) + bias
score_p = poly @ (alpha * label) / 10 + bias
lab = lambda name, v: name + show(v).replace("\n", "\n" + " " * len(name))
out = ["gauss: " + show(rnd(gauss, 100)),
       "poly (to a quarter): " + show(rnd(poly, 4)),
       "scores: " + show(rnd(score_g, 100)) + " " + show(rnd(score_p, 100)),
       lab("ClassG = ", (score_g > 0).astype(float)),
       lab("Norm2 = ", (sv ** 2).sum(1)),
       f"Trace = {(sv * sv).sum():g}"]
print("\n".join(out))
