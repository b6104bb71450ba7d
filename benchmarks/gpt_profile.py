"""Where the GPT-2-small training step's time goes: TensorLogic's profiler (device times per op) and
PyTorch's (eager f16, the same model and batches) over the same steps, each table sorted by device time.
Writes both tables to benchmarks/results/gpt_profile_<device>.txt.

With --kernels, every mode (ours included) runs under PyTorch's profiler instead, whose CUPTI tracing records
every kernel of the process with its own device time: a table of kernels per mode and their total per step,
free of the launch gaps that our profiler's event pairs include when the host is behind. With --gaps as well,
the GPU's idle time between those kernels: in all, by size, and the largest gaps with the kernels around them,
each marked "host" where the next kernel's launch call began only after the previous kernel had ended (the GPU
waited for the host) and "device" where the launch was queued in time (the GPU's own start-up between kernels).

Run: python benchmarks/gpt_profile.py [--steps 2] [--rows 40] [--small] [--device cuda] [--modes tl,eager]
[--kernels [--gaps]] (any of gpt_step.py's modes: tl_compile profiles the model under tl.compile)"""
import argparse
import json
import os
import tempfile

import torch

import gpt_step
import tensorlogic as tl
from harness import RESULTS


def idle_gaps(trace_path, steps, largest=15):
    """The GPU's idle time between consecutive kernels (and memsets/copies) of a Chrome trace of PyTorch's profiler,
    and who was late for each gap: the host (the next launch call started after the previous kernel ended) or the
    device."""
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    launches = {e["args"]["correlation"]: e["ts"] for e in events
                if e.get("cat") == "cuda_runtime" and "correlation" in e.get("args", {})}
    work = sorted((e for e in events if e.get("cat") in ("kernel", "gpu_memset", "gpu_memcpy")), key=lambda e: e["ts"])
    gaps = []
    for before, after in zip(work, work[1:]):
        end = before["ts"] + before["dur"]
        gap = after["ts"] - end
        if gap <= 0:
            continue
        launched = launches.get(after.get("args", {}).get("correlation"))
        late = "host" if launched is not None and launched > end else "device"
        gaps.append((gap, late, before["name"][:60], after["name"][:60]))
    span = work[-1]["ts"] + work[-1]["dur"] - work[0]["ts"] if work else 0.0
    total = sum(g[0] for g in gaps)
    by_size = {}
    for lo, hi in ((0, 2), (2, 5), (5, 20), (20, 1e12)):
        chosen = [g for g in gaps if lo <= g[0] < hi]
        by_size[f"{lo}-{hi if hi < 1e12 else 'inf'} us"] = (len(chosen) / steps, sum(g[0] for g in chosen) / steps / 1000)
    host = sum(g[0] for g in gaps if g[1] == "host")
    lines = [f"GPU span per step {span / steps / 1000:.3f} ms, idle between kernels {total / steps / 1000:.3f} ms "
             f"({host / steps / 1000:.3f} ms waiting on the host)",
             "idle gaps per step by size: " + ", ".join(f"{k}: {n:.0f} gaps {ms:.3f} ms" for k, (n, ms) in by_size.items()),
             f"largest {largest} gaps (us, who was late, kernel before -> kernel after):"]
    lines += [f"  {g:8.1f} {late:6} {a} -> {b}" for g, late, a, b in sorted(gaps, reverse=True)[:largest]]
    return "\n".join(lines)


def profiled_tables(name, cfg, weights, corpus, steps, rows, device, kernels=False, gaps=False):
    mode = gpt_step.Mode(name, cfg, weights, device)
    data = [mode.tensors(x, y) for x, y in gpt_step.batches(corpus, cfg["batch"], cfg["block"], 4 + steps, seed=3)]
    for x, y in data[:4]:
        mode.step(x, y)
    mode.synchronize()
    ours = name.startswith("tl") and not kernels
    profiler = tl.profiler if ours else torch.profiler
    activities = [profiler.ProfilerActivity.CPU] + ([profiler.ProfilerActivity.CUDA] if device != "cpu" else [])
    with profiler.profile(activities=activities) as prof:
        for x, y in data[4:]:
            mode.step(x, y)
        mode.synchronize()
    sort_key = ("self_device_time_total" if ours else "self_cuda_time_total") if device != "cpu" else \
        "self_cpu_time_total"
    averages = prof.key_averages()
    table = averages.table(sort_by=sort_key, row_limit=rows)
    if not kernels:
        return table
    device_us = sum(e.self_device_time_total for e in averages if e.device_type == torch.autograd.DeviceType.CUDA)
    launches = sum(e.count for e in averages if e.device_type == torch.autograd.DeviceType.CUDA)
    text = f"kernels' device time per step {device_us / steps / 1000:.3f} ms, {launches / steps:.0f} kernels\n{table}"
    if gaps:
        with tempfile.TemporaryDirectory() as folder:
            trace = os.path.join(folder, "trace.json")
            prof.export_chrome_trace(trace)
            text += "\n" + idle_gaps(trace, steps)
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--small", action="store_true", help="a 2-layer, 128-wide model for a quick check")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--modes", default="tl,eager")
    parser.add_argument("--kernels", action="store_true", help="every mode under PyTorch's CUPTI-based profiler")
    parser.add_argument("--gaps", action="store_true", help="with --kernels: the GPU's idle time between kernels")
    args = parser.parse_args()
    cfg = dict(vocab=50304, block=1024, layers=12, width=768, heads=12, batch=8, lr=6e-4)
    if args.small:
        cfg.update(vocab=512, block=64, layers=2, width=128, heads=4, batch=4)
    shape = {k: cfg[k] for k in ("vocab", "block", "layers", "width", "heads")}
    weights = gpt_step.init_weights(gpt_step.build_gpt(torch, **shape), 0)
    corpus = gpt_step.synthetic_corpus(cfg["vocab"], 200_000, seed=1)
    text = []
    for name in args.modes.split(","):
        table = profiled_tables(name, cfg, weights, corpus, args.steps, args.rows, args.device, args.kernels,
                                  args.gaps)
        text.append(f"== {name}, {args.steps} steps\n{table}")
        print(text[-1], flush=True)
    device_name = tl.cuda.get_device_name().replace(" ", "_") if args.device != "cpu" else "cpu"
    path = os.path.join(RESULTS, f"gpt_profile{'_small' if args.small else ''}{'_kernels' if args.kernels else ''}_{device_name}.txt")
    with open(path, "w") as f:
        f.write("\n".join(text))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
