# Oracle for layer_recurrences.tl: the MLP's layers, Fibonacci and the recurrent net as numpy loops
# in float64 (inputs as float16 stores them), rounded as the program rounds.
import numpy as np

from oracle_format import rnd, show

x0 = np.float16([1, 0.5, -1]).astype(np.float64)
w = np.float16([[[0.5, -0.5, 0], [0, 1, 0.5], [1, 0, -1]],
                [[1, 1, 0], [0, -1, 1], [0.5, 0.25, 0.5]]]).astype(np.float64)
layers = [x0]
for layer in w:
    layers.append(1 / (1 + np.exp(-(layer @ layers[-1]))))
fib = [1, 1]
while len(fib) < 10:
    fib.append(fib[-1] + fib[-2])
u = np.float16([[1, 0], [0, 1], [0.5, 0.25], [-0.8, 0.3]]).astype(np.float64)
wh = np.float16([[0.5, 0], [0.25, 0.5]]).astype(np.float64)
h = [np.float16([0.2, -0.2]).astype(np.float64)]
for t in range(4):
    h.append(np.tanh(wh @ h[-1] + u[t]))
print("layers:", show(rnd(np.array(layers), 1000)))
print("fibonacci:", show(np.array(fib, dtype=np.float64)))
print("hidden:", show(rnd(np.array(h), 100)))
