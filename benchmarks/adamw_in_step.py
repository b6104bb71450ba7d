"""AdamW in the GPT-2-small training step (benchmarks/gpt_step.py's TensorLogic mode): what its multi-tensor
launches get (parameters, gradients and state slots not aligned for 4-wide accesses, or strided gradients
that the core copies first), the host's waits in scale/backward/step/update, and the device time of the
scaler's step and of AdamW inside the step and on fresh arrays of the same shapes (gpt_kernels.py's AdamW
row), with the device's queue drained first or not (a drained queue shows the host's preparation of the
launches as device time), medians on the GPU's clock; and the host time of the calls.

Run: python benchmarks/adamw_in_step.py [--small] [--device cuda]   (--small: a 2-layer, 64-wide model)"""
import argparse
import statistics
import time

import torch

import gpt_step as g
import tensorlogic as tl
from tensorlogic import _core

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--small", action="store_true")
parser.add_argument("--device", default="cuda" if tl.cuda.is_available() else "cpu")
args = parser.parse_args()
dev, small = args.device, args.small
cfg = dict(vocab=97 if small else 50304, block=16 if small else 1024, layers=2 if small else 12,
           width=64 if small else 768, heads=4 if small else 12, batch=4 if small else 8, lr=6e-4)
weights = g.init_weights(g.build_gpt(torch, **{k: cfg[k] for k in ("vocab", "block", "layers", "width", "heads")}), 0)
corpus = g.synthetic_corpus(cfg["vocab"], 20_000, seed=1)
mode = g.Mode("tl", cfg, weights, dev)
data = [mode.tensors(x, y) for x, y in g.batches(corpus, cfg["batch"], cfg["block"], 6, seed=3)]
for x, y in data[:3]:
    mode.step(x, y)
mode.synchronize()
reads = _core.host_reads(dev)
loss = mode.step(*data[3])
print("host reads in scale/backward/step/update:", _core.host_reads(dev) - reads, "loss", loss.item())
params = [p for group in mode.opt.param_groups for p in group["params"]]
odd = []
for p in params:
    st = mode.opt.state[p]
    ptrs = [p.data_ptr(), p.grad.data_ptr()] + [s.data_ptr() for s in st["slots"]]
    need = [8, 8, 8] + [16] * (len(st["slots"]) - 1)  # f16 weight, gradient, 16-bit compensation; f32 slots
    if any(a % n for a, n in zip(ptrs, need)) or not p.grad.is_contiguous():
        odd.append((tuple(p.shape), [a % 16 for a in ptrs], p.grad.is_contiguous()))
print(f"{len(params)} parameters, {sum(p.numel() for p in params) / 1e6:.1f} M; misaligned or strided: "
      f"{odd[:8]} ({len(odd)})")


def timed(fn, drained):
    """Device milliseconds of fn's work between two events; `drained`: the device's queue emptied first, so
    that the host's time to prepare the launches shows as device idle time inside the interval (as it did
    after the scaler's old flag read)."""
    if not dev.startswith("cuda"):
        fn()
        return float("nan")  # no device clock: the CPU run checks the script only
    if drained:
        tl.cuda.synchronize()
    e0, e1 = tl.cuda.Event(enable_timing=True), tl.cuda.Event(enable_timing=True)
    e0.record()
    fn()
    e1.record()
    return e0, e1


def elapsed(pairs):
    return [p if isinstance(p, float) else p[0].elapsed_time(p[1]) for p in pairs]


def host_ms(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


times = {"in the step, after backward: scaler.step (check + AdamW)": [],
         "in the step, drained first: opt.step (device counts, no flags)": []}
for i in range(5):
    x, y = data[i % len(data)]
    mode.opt.zero_grad(set_to_none=True)
    mode.scaler.scale(mode.forward(x, y)).backward()
    times["in the step, after backward: scaler.step (check + AdamW)"].append(
        timed(lambda: mode.scaler.step(mode.opt), drained=False))
    mode.scaler.update()
    times["in the step, drained first: opt.step (device counts, no flags)"].append(timed(mode.opt.step, drained=True))
fresh = [tl.zeros(*p.shape, device=dev).requires_grad_() for p in params]
for f in fresh:
    f.grad = tl.zeros(*f.shape, device=dev)
opt2 = tl.optim.AdamW(fresh, lr=1e-4, weight_decay=0.1)
scaler2 = tl.amp.GradScaler()
opt2.step()
times["fresh arrays, drained first: opt.step (host counts)"] = [timed(opt2.step, drained=True) for _ in range(5)]
times["fresh arrays, 5 back to back / 5: opt.step (host counts)"] = [
    timed(lambda: [opt2.step() for _ in range(5)], drained=True) for _ in range(3)]
times["fresh arrays, drained first: scaler.step + update"] = [
    timed(lambda: (scaler2.step(opt2), scaler2.update()), drained=True) for _ in range(5)]
if dev.startswith("cuda"):
    tl.cuda.synchronize()
for name, pairs in times.items():
    ms = elapsed(pairs)
    if "back to back" in name:
        ms = [m / 5 for m in ms]
    print(f"{name}: median {statistics.median(ms):.3f} ms, min {min(ms):.3f} ({len(ms)} runs)")
hosts = [host_ms(opt2.step) for _ in range(5)]
hosts += [host_ms(lambda: (scaler2.step(opt2), scaler2.update())) for _ in range(5)]
print(f"host time of the calls (ms): opt.step {statistics.median(hosts[:5]):.3f}, scaler.step + update "
      f"{statistics.median(hosts[5:]):.3f}")
