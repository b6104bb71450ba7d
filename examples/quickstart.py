"""A first look at TensorLogic: float16 tensors on the best device present, real work, checked numbers.

Run: python examples/quickstart.py"""
import numpy as np

import tensorlogic as tl

print("devices:", tl.available_devices(), "default:", tl.get_default_device())

tl.manual_seed(0)
x = tl.randn(512, 256)          # float16, like every float tensor in TensorLogic
w = tl.randn(256, 128) * 0.05
b = tl.zeros(128)

h = tl.relu(x @ w + b)          # matmul accumulates in f32 and rounds once to f16
p = tl.softmax(h, dim=1)
print("h:", h.shape, h.dtype, "row sums of softmax:", p.sum(dim=1)[:4].tolist())

# The same computation in numpy float32 on the same f16 inputs, as a check.
ref = np.maximum(x.numpy().astype(np.float32) @ w.numpy().astype(np.float32), 0)
print("max |h - numpy| =", float(np.abs(h.numpy().astype(np.float32) - ref).max()))

# A relation is a 0/1 tensor: one step of reachability is a join (einsum) followed by a step.
edges = tl.tensor([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=tl.float16)
two_hops = (tl.einsum("xy,yz->xz", edges, edges) > 0).float()
print("two-hop pairs:", [(int(i), int(j)) for i, j in zip(*np.nonzero(two_hops.numpy()))])

print("memory:", {k: v for k, v in tl.memory.stats().items() if k in ("active_bytes", "cached_bytes")})
