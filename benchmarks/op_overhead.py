"""Per-op host overhead: the Python layer, bindings and autograd recording of a GPT step's ops, beside PyTorch's
(issue 18, item 4).

Every op runs on tiny CPU tensors (4 x 4: kernel time is negligible, so what is timed is the host work around
it) in three forms: forward with no input requiring grad, forward recording a graph, and forward + backward
(the op's output summed, then backward through the engine). Then zero_grad and AdamW's step over 150 small
parameters, and a whole tiny GPT training step (2 layers, width 32, vocabulary 64, batch 2, sequence 8).
TensorLogic (float16) and PyTorch (float32, its usual CPU dtype) run in the same process, alternating, both at
one thread; each figure is the best of `--repeat` rounds of `--number` calls in process CPU time
(time.process_time: preemption by other processes is not counted). Ratio = PyTorch's time / ours (> 1: ours
is faster). Run at low load, e.g. `chrt -f 10 python benchmarks/op_overhead.py`; the load average and
the scheduling policy are recorded.

Run: python benchmarks/op_overhead.py [--repeat 15] [--number 2000] [--only linear,add] [--no-write]"""
import argparse
import gc
import math
import os
import time

import numpy as np
import torch

import tensorlogic as tl
from gpt_step import build_gpt
from harness import measure_pair, write_results


def _tensors(lib, rng, requires_grad):
    """The inputs every op draws from, the same values for both libraries."""
    def floats(*shape):
        values = rng.standard_normal(shape).astype(np.float16)
        t = tl.tensor(values) if lib is tl else torch.tensor(values.astype(np.float32))
        return t.requires_grad_(requires_grad)

    def ints(high, *shape):
        values = rng.integers(0, high, shape)
        return tl.tensor(values.astype(np.int32)) if lib is tl else torch.tensor(values, dtype=torch.int64)

    return {"x": floats(4, 4), "y": floats(4, 4), "w": floats(4, 4), "b": floats(4), "x3": floats(1, 4, 12),
            "q": floats(1, 2, 4, 4), "k": floats(1, 2, 4, 4), "v": floats(1, 2, 4, 4), "table": floats(16, 4),
            "idx": ints(16, 2, 4), "target": ints(4, 4)}


def _ops(lib):
    """name -> fn(t) running the op once on the tensors t; the first output is what backward starts from."""
    F = lib.nn.functional
    return {
        "linear": lambda t: F.linear(t["x"], t["w"], t["b"]),
        "view": lambda t: t["x"].view(2, 8),
        "reshape": lambda t: t["x"].reshape(8, 2),
        "split": lambda t: t["x3"].split(4, dim=2),
        "transpose": lambda t: t["q"].transpose(1, 2),
        "transpose+contiguous": lambda t: t["q"].transpose(1, 2).contiguous(),
        "add": lambda t: t["x"] + t["y"],
        "layer_norm": lambda t: F.layer_norm(t["x"], (4,), t["w"][0], t["b"]),
        "gelu": lambda t: F.gelu(t["x"]),
        "sdpa": lambda t: F.scaled_dot_product_attention(t["q"], t["k"], t["v"], is_causal=True),
        "embedding": lambda t: F.embedding(t["idx"], t["table"]),
        "cross_entropy": lambda t: F.cross_entropy(t["x"], t["target"]),
    }


def _backward(op):
    def run(t):
        out = op(t)
        first = out[0] if isinstance(out, tuple) else out
        first.sum().backward()
    return run


def _optimizer(lib, rng, n=150):
    """AdamW over n small parameters (a GPT's count) with gradients set, as the GPT step uses it: (fill the
    gradients, zero_grad, step)."""
    params = []
    for i in range(n):
        shape = (4, 4) if i % 2 else (4,)
        values = rng.standard_normal(shape).astype(np.float16)
        p = lib.nn.Parameter(tl.tensor(values) if lib is tl else torch.tensor(values.astype(np.float32)))
        params.append(p)
    opt = lib.optim.AdamW(params, lr=1e-3, weight_decay=0.1)

    def fill():
        for p in params:
            p.grad = lib.ones_like(p)

    fill()
    return fill, lambda: opt.zero_grad(set_to_none=True), opt.step


def _gpt_step(lib):
    vocab, block, batch = 64, 8, 2
    model = build_gpt(lib, vocab=vocab, block=block, layers=2, width=32, heads=2)
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, vocab, (batch, block)), rng.integers(0, vocab, (batch, block))
    if lib is tl:
        model.positions = tl.arange(block, dtype=tl.int32)
        x, y = tl.tensor(x.astype(np.int32)), tl.tensor(y.astype(np.int32))
    else:
        model.positions = torch.arange(block)
        x, y = torch.tensor(x), torch.tensor(y)
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)

    def step():
        opt.zero_grad(set_to_none=True)
        model(x, y).backward()
        opt.step()

    return step


def _pair(ours, peer, repeat, number):
    gc.collect()
    t_ours, t_peer = measure_pair(ours, peer, repeat=repeat, number=number, warmup=3, clock=time.process_time)
    return {"tensorlogic": t_ours * 1e6, "torch": t_peer * 1e6, "peer": "torch", "unit": "us", "ratio": t_peer / t_ours}


def run(repeat, number, only=None):
    rows = []
    ops_tl, ops_torch = _ops(tl), _ops(torch)
    rng_tl, rng_torch = np.random.default_rng(1), np.random.default_rng(1)
    plain = (_tensors(tl, rng_tl, False), _tensors(torch, rng_torch, False))
    grad = (_tensors(tl, rng_tl, True), _tensors(torch, rng_torch, True))
    for name in ops_tl:
        if only and name not in only:
            continue
        ours, peer = ops_tl[name], ops_torch[name]
        forms = {"no_grad": (lambda: ours(plain[0]), lambda: peer(plain[1])),
                 "record": (lambda: ours(grad[0]), lambda: peer(grad[1])),
                 "forward_backward": (lambda: _backward(ours)(grad[0]), lambda: _backward(peer)(grad[1]))}
        for form, (a, b) in forms.items():
            n = number // 4 if form == "forward_backward" else number
            row = {"name": f"{name} {form}", "op": name, "form": form, **_pair(a, b, repeat, n)}
            rows.append(row)
            print(f"{row['name']:36s} ours {row['tensorlogic']:8.2f} us   torch {row['torch']:8.2f} us   "
                  f"ratio {row['ratio']:.2f}", flush=True)
    if not only or "optimizer" in only:
        opt_tl, opt_torch = _optimizer(tl, np.random.default_rng(2)), _optimizer(torch, np.random.default_rng(2))
        # The step first (with gradients), then zero_grad: after its first call it walks parameters whose
        # gradients are gone, which is its per-step Python cost once the step's gradients were dropped.
        for name, i in (("adamw step 150 params", 2), ("zero_grad 150 params", 1)):
            row = {"name": name, "op": name, "form": "optimizer", **_pair(opt_tl[i], opt_torch[i], repeat, 20)}
            rows.append(row)
            print(f"{name:36s} ours {row['tensorlogic']:8.2f} us   torch {row['torch']:8.2f} us   "
                  f"ratio {row['ratio']:.2f}", flush=True)
    step = None
    if not only or "gpt" in only:
        step = {"name": "gpt step (2 layers, width 32)", **_pair(_gpt_step(tl), _gpt_step(torch), repeat, 5)}
        print(f"{step['name']:36s} ours {step['tensorlogic']:8.1f} us   torch {step['torch']:8.1f} us   "
              f"ratio {step['ratio']:.2f}")
    geomean = math.exp(sum(math.log(r["ratio"]) for r in rows) / len(rows)) if rows else None
    if geomean:
        print(f"geometric mean of PyTorch time / ours over {len(rows)} per-op rows: {geomean:.3f}")
    return rows, step, geomean


def _load():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--only", default="", help="comma-separated op names (and 'optimizer', 'gpt')")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    tl.set_num_threads(1)
    torch.set_num_threads(1)
    policy = {os.SCHED_FIFO: "fifo", os.SCHED_RR: "rr"}.get(os.sched_getscheduler(0), "other")
    load_before = _load()
    rows, step, geomean = run(args.repeat, args.number, set(filter(None, args.only.split(","))))
    extra = {"load_before": load_before, "load_after": _load(), "scheduling": policy, "geomean": geomean,
             "torch": torch.__version__, "clock": "process_time, best of repeat"}
    print(f"load average before {load_before}, after {extra['load_after']}, scheduling {policy}")
    if not args.no_write and not args.only:
        print("wrote", write_results("op_overhead", rows + ([step] if step else []), extra))


if __name__ == "__main__":
    main()
