"""gpt_step.py's TensorLogic step, eager (`tl`) beside tl.compile (`tl_compile`, no fusions: the default) and tl.compile
with its linear+residual fusion (`tl_compile_fused`, options={"epilogue_fusion": True}), alternating in one process: per mode the wall time per step, the host
time to enqueue one step (the step's Python returns before the device finishes where nothing waits), the host
reads of tensor values during the step (Tensor.numpy, through which item/tolist/bool go; each a synchronisation),
the peak memory above the model's over the first steps (the capture included) and over the later ones, and for
the compiled modes the number of ops in the replayed forward and how many of them are fusions.

Run: python benchmarks/compile_probe.py [--small] [--device cuda] [--steps 10]"""
import argparse
import json
import time

import numpy as np
import torch

import tensorlogic as tl
from gpt_step import Mode, batches, init_weights, build_gpt, synthetic_corpus
from harness import write_results


class HostReads:
    """Counts Tensor.numpy calls (every host read of a tensor's values goes through it)."""

    def __enter__(self):
        self.count, self._numpy = 0, tl.Tensor.numpy
        original = self._numpy

        def numpy(t, *, force=False):
            self.count += 1
            return original(t, force=force)

        tl.Tensor.numpy = numpy
        return self

    def __exit__(self, *exc):
        tl.Tensor.numpy = self._numpy
        return False


def make(name, cfg, weights, device):
    mode = Mode("tl_compile" if name.startswith("tl_compile") else name, cfg, weights, device)
    if name == "tl_compile_fused":
        mode.forward = tl.compile(mode.model, options={"epilogue_fusion": True})
    return mode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--modes", default="tl,tl_compile,tl_compile_fused")
    args = parser.parse_args()
    cfg = dict(vocab=50304, block=1024, layers=12, width=768, heads=12, batch=8, lr=6e-4)
    if args.small:
        cfg.update(vocab=512, block=64, layers=2, width=128, heads=4, batch=4)
    shape = {k: cfg[k] for k in ("vocab", "block", "layers", "width", "heads")}
    weights = init_weights(build_gpt(torch, **shape), 0)
    corpus = synthetic_corpus(cfg["vocab"], 200_000, seed=1)
    rows = []
    for name in args.modes.split(","):
        tl.memory.reset_peak_stats(args.device)
        base = tl.memory.stats(args.device)["active_bytes"]
        mode = make(name, cfg, weights, args.device)
        data = [mode.tensors(x, y) for x, y in batches(corpus, cfg["batch"], cfg["block"], args.steps + 3, seed=3)]
        model_bytes = tl.memory.stats(args.device)["active_bytes"] - base
        for x, y in data[:3]:  # the capture (tl_compile), the optimizer's state, warm-up
            mode.step(x, y)
        mode.synchronize()
        first_peak = tl.memory.stats(args.device)["peak_active_bytes"] - base
        tl.memory.reset_peak_stats(args.device)
        enqueue, wall = [], []
        with HostReads() as reads:
            for x, y in data[3:]:
                start = time.perf_counter()
                mode.step(x, y)
                enqueue.append(time.perf_counter() - start)
                mode.synchronize()
                wall.append(time.perf_counter() - start)
        row = {"mode": name, "wall_ms": 1e3 * float(np.median(wall)), "enqueue_ms": 1e3 * float(np.median(enqueue)),
               "host_reads_per_step": reads.count / args.steps, "model_and_data_gb": model_bytes / 1e9,
               "peak_first_steps_gb": first_peak / 1e9,
               "peak_later_steps_gb": (tl.memory.stats(args.device)["peak_active_bytes"] - base) / 1e9}
        if name.startswith("tl_compile"):
            row["eager_reasons"] = mode.forward.eager_reasons
            (prog,) = mode.forward._compiled.cache.values()  # the replayed program: its ops, the fused ones
            row["program_ops"] = len(prog.steps)
            row["fused_ops"] = sum(step[5].__module__ == "tensorlogic.compile_fusion" for step in prog.steps)
        rows.append(row)
        print(json.dumps(row), flush=True)
        del mode, data
    device_name = tl.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    path = write_results(f"compile_probe{'_small' if args.small else ''}_{device_name.replace(' ', '_')}", rows,
                         {"config": cfg, "device": device_name})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
