"""Per-step time of a small 3-layer MLP training step (batch 32, Adam) on the CPU: TensorLogic f16 against
PyTorch float32 in the same run. The layers are small, so the step time is dominated by per-op and per-step
Python overhead (autograd graph, optimizer loop), which is what this measures (SPEC §9 style ratio).

Run: python benchmarks/mlp_step.py [--steps N]"""
import argparse
import json
import time

import numpy as np
import torch

import tensorlogic as tl
from harness import write_results
import tensorlogic.nn.functional as F


def _time(step, steps):
    for _ in range(10):
        step()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def tensorlogic_step(x, y, dims):
    model = tl.nn.Sequential(tl.nn.Linear(dims[0], dims[1]), tl.nn.ReLU(), tl.nn.Linear(dims[1], dims[2]), tl.nn.ReLU(),
                             tl.nn.Linear(dims[2], dims[3]))
    opt = tl.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = tl.tensor(x), tl.tensor(y)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(tx), ty).backward()
        opt.step()

    return step


def torch_step(x, y, dims):
    model = torch.nn.Sequential(torch.nn.Linear(dims[0], dims[1]), torch.nn.ReLU(), torch.nn.Linear(dims[1], dims[2]),
                                torch.nn.ReLU(), torch.nn.Linear(dims[2], dims[3]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = torch.tensor(x.astype(np.float32)), torch.tensor(y.astype(np.int64))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(tx), ty).backward()
        opt.step()

    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    dims = (32, 64, 64, 10)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, dims[0])).astype(np.float16)
    y = rng.integers(0, dims[3], 32).astype(np.int32)
    ours = _time(tensorlogic_step(x, y, dims), args.steps)
    theirs = _time(torch_step(x, y, dims), args.steps)
    result = {"name": "MLP training step (32-64-64-10, batch 32, Adam)", "tensorlogic": ours, "torch_float32": theirs,
              "unit": "s", "peer": "torch_float32", "ratio": theirs / ours, "target": 1 / 1.5}
    result["meets_target"] = result["ratio"] >= result["target"]
    path = write_results("mlp_step", [result], {"torch": torch.__version__})
    print(json.dumps(result))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
