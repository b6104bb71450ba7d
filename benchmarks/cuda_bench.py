"""TensorLogic's CUDA backend side by side with PyTorch on the same GPU, in one run.

Kernel timings of TensorLogic come from tests/gpu's native driver (`cuda_kernels bench`, which calls the
backend directly, so ops whose Python bindings are not wired yet are measured too); Python-level
numbers (small-op latency, 2^28 add/relu through tl.Tensor, attention, memory flatness) come from this
process.
Both sides are timed the same way: a host clock around many queued calls, synchronised at both ends.
Writes benchmarks/results/cuda_<gpu>_<date>.json and prints a table with the ratios against the bars.
"""
import argparse
import datetime
import importlib
import json
import os
import statistics
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F

import tensorlogic as tl
from tensorlogic import _core
from harness import measure

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(fn, iters, sync):
    """Milliseconds per call over one timing of `iters` calls, after 3 warm-up calls."""
    return measure(fn, repeat=1, number=iters, warmup=3, sync=sync) * 1e3


def torch_numbers():
    sync = torch.cuda.synchronize
    dev = "cuda"
    out = {}
    x = torch.randn(8192, 4096, device=dev, dtype=torch.float16)
    w = torch.randn(4096, device=dev, dtype=torch.float16)
    b = torch.randn(4096, device=dev, dtype=torch.float16)
    out["softmax"] = timed(lambda: torch.softmax(x, -1), 200, sync)
    out["log_softmax"] = timed(lambda: torch.log_softmax(x, -1), 200, sync)
    out["layer_norm"] = timed(lambda: F.layer_norm(x, (4096,), w, b, 1e-5), 200, sync)
    if hasattr(F, "rms_norm"):
        out["rms_norm"] = timed(lambda: F.rms_norm(x, (4096,), w, 1e-5), 200, sync)
    out["sum_rows"] = timed(lambda: x.sum(-1), 200, sync)
    del x
    n = 1 << 28
    a = torch.randn(n, device=dev, dtype=torch.float16)
    c = torch.randn(n, device=dev, dtype=torch.float16)
    out["add"] = timed(lambda: a + c, 50, sync)
    out["relu"] = timed(lambda: torch.relu(a), 50, sync)
    out["sum"] = timed(lambda: a.sum(), 50, sync)
    del a, c
    for size in (1024, 4096, 8192):
        p = torch.randn(size, size, device=dev, dtype=torch.float16)
        q = torch.randn(size, size, device=dev, dtype=torch.float16)
        out[f"matmul {size}"] = timed(lambda: p @ q, {1024: 200, 4096: 50, 8192: 20}[size], sync)
    xs = torch.randn(4096, 4096, device=dev, dtype=torch.float16)
    ws = torch.randn(4096, 4096, device=dev, dtype=torch.float16)
    bs = torch.randn(4096, device=dev, dtype=torch.float16)
    out["linear_bias_relu 4096"] = timed(lambda: torch.relu(F.linear(xs, ws, bs)), 50, sync)
    out["mlp_train_step"] = mlp_step_ms(torch, dev, torch.float16)
    out.update(attention_ms(torch, F.scaled_dot_product_attention, sync))
    return out


def tl_python_numbers():
    sync = tl.cuda.synchronize
    out = {}
    n = 1 << 28
    tile = np.random.default_rng().standard_normal(1 << 20).astype(np.float16)
    a = tl.Tensor(np.tile(tile, n >> 20), device="cuda")
    c = tl.Tensor(np.tile(tile[::-1].copy(), n >> 20), device="cuda")
    out["add (python)"] = timed(lambda: a + c, 50, sync)
    out["relu (python)"] = timed(lambda: _core.unary(_core.UnaryOp.relu, a._a, 0.0, 0.0), 50, sync)
    del a, c
    s1 = tl.Tensor(np.ones(16, np.float16), device="cuda")
    s2 = tl.Tensor(np.ones(16, np.float16), device="cuda")
    out.update(attention_ms(tl, tl.scaled_dot_product_attention, sync))
    try:
        out["mlp_train_step"] = mlp_step_ms(tl, "cuda")
    except Exception as e:  # the training stack is other engineers' work: report, keep benchmarking
        out["mlp_train_step_error"] = f"{type(e).__name__}: {e}"
    # 100k small ops: active bytes must come back to where they started
    before = tl.memory.stats("cuda")["active_bytes"]
    y = s1 + s2
    for _ in range(100000):
        y = y + s2
    del y
    sync()
    after = tl.memory.stats("cuda")
    out["memory_100k_small_ops"] = {"active_before": before, "active_after": after["active_bytes"],
                                     "cached": after["cached_bytes"], "peak": after["peak_active_bytes"]}
    return out


def mlp_step_ms(lib, device, dtype=None, iters=20):
    """One training step of a 1024 -> 4096 -> 1024 MLP on a batch of 4096 with Adam (SPEC §9)."""
    nn = lib.nn
    functional = importlib.import_module(lib.__name__ + ".nn.functional")
    model = nn.Sequential(nn.Linear(1024, 4096), nn.ReLU(), nn.Linear(4096, 1024)).to(device)
    if dtype is not None:
        model = model.to(dtype=dtype)
    opt = lib.optim.Adam(model.parameters(), lr=1e-4)
    kw = {"device": device} if dtype is None else {"device": device, "dtype": dtype}
    x, y = lib.randn(4096, 1024, **kw), lib.randn(4096, 1024, **kw)
    sync = torch.cuda.synchronize if lib is torch else tl.cuda.synchronize

    def step():
        opt.zero_grad()
        loss = functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()

    return timed(step, iters, sync)


def small_add_latency():
    """Per-op latency of a 16-element add from Python: queued (host clock around 20000 calls, synchronised
    at both ends) and to completion (each add followed by a synchronize). The two libraries alternate in
    7 rounds and the medians are kept, so a noisy moment of the host hits both sides alike."""
    ts = [torch.randn(16, device="cuda", dtype=torch.float16) for _ in range(2)]
    ls = [tl.randn(16, device="cuda") for _ in range(2)]
    sides = {"torch": (lambda: ts[0] + ts[1], torch.cuda.synchronize),
             "tl": (lambda: ls[0] + ls[1], tl.cuda.synchronize)}
    samples = {}
    for _ in range(7):
        for lib, (fn, sync) in sides.items():
            samples.setdefault((lib, "small_add_latency"), []).append(timed(fn, 20000, sync))
            samples.setdefault((lib, "small_add_to_completion"), []).append(
                timed(lambda: (fn(), sync()), 2000, sync))
    return {key: statistics.median(v) for key, v in samples.items()}


ATTENTION_SHAPE = (4, 16, 2048)  # batch, heads, sequence length


def attention_ms(lib, sdpa, sync):
    """scaled_dot_product_attention on f16 [B, H, L, d], d in (64, 128): the forward, causal or not, and
    forward + backward (causal; the gradients of q, k and v)."""
    out = {}
    kw = {"device": "cuda"} if lib is tl else {"device": "cuda", "dtype": torch.float16}
    for d in (64, 128):
        q, k, v = (lib.randn(*ATTENTION_SHAPE, d, **kw) for _ in range(3))
        for causal in (False, True):
            out[f"attention d{d}" + (" causal" if causal else "")] = timed(lambda: sdpa(q, k, v, is_causal=causal), 30, sync)
        for x in (q, k, v):
            x.requires_grad_()
        grad = lib.randn(*ATTENTION_SHAPE, d, **kw)
        out[f"attention fwd+bwd d{d} causal"] = timed(lambda: sdpa(q, k, v, is_causal=True).backward(grad), 10, sync)
        del q, k, v, grad
    return out


def native_numbers(binary):
    proc = subprocess.run([binary, "bench"], check=True, capture_output=True, text=True)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            key = r["op"] if r["op"] in ("softmax", "log_softmax", "layer_norm", "rms_norm", "sum_rows", "add", "relu", "sum") else f"{r['op']} {r['size']}"
            out[key] = r["ms"]
    return out


# op -> (required torch_ms / tl_ms, what the bar is)
BARS = {
    "matmul 1024": 0.9, "matmul 4096": 0.95, "matmul 8192": 0.95,
    "add": 0.95, "relu": 0.95, "sum": 0.95,
    "softmax": 2.0, "layer_norm": 1.3, "small_add_latency": 1.0, "small_add_to_completion": 1.0,
    "mlp_train_step": 1.0,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--native", required=True, help="path of the cuda_kernels driver (tests/gpu)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()

    native = native_numbers(args.native)
    python = tl_python_numbers()
    ref = torch_numbers()
    for (lib, op), ms in small_add_latency().items():
        (ref if lib == "torch" else python)[op] = ms
    rows = []
    for op, torch_ms in ref.items():
        tl_ms = python.get(op) if op in python else native.get(op)
        if tl_ms is None:
            continue
        speedup = torch_ms / tl_ms
        bar = BARS.get(op)
        rows.append({"op": op, "tl_ms": tl_ms, "torch_ms": torch_ms, "speedup_vs_torch": speedup, "bar": bar,
                     "meets_bar": None if bar is None else speedup >= bar})
    for op in ("add (python)", "relu (python)"):
        base = op.split()[0]
        rows.append({"op": op, "tl_ms": python[op], "torch_ms": ref[base], "speedup_vs_torch": ref[base] / python[op],
                     "bar": BARS[base], "meets_bar": ref[base] / python[op] >= BARS[base]})
    mem = python["memory_100k_small_ops"]
    result = {
        "gpu": torch.cuda.get_device_name(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "method": "host clock around N queued calls, synchronised before and after, after 3 warm-up calls; "
                  "small-add latency: medians of 7 alternating rounds (see small_add_latency)",
        "results": rows,
        "memory_100k_small_ops": mem,
        "memory_flat": mem["active_before"] == mem["active_after"],
    }
    if "mlp_train_step_error" in python:
        result["mlp_train_step_error"] = python["mlp_train_step_error"]
        print("mlp_train_step failed on tl:", python["mlp_train_step_error"])
    os.makedirs(args.out, exist_ok=True)
    name = "cuda_{}_{}.json".format(result["gpu"].replace(" ", "_"), result["date"][:10])
    with open(os.path.join(args.out, name), "w") as f:
        json.dump(result, f, indent=1)
    print(f"{'op':26s} {'tl ms':>10s} {'torch ms':>10s} {'speedup':>8s} {'bar':>5s}")
    for r in rows:
        bar = "" if r["bar"] is None else f"{r['bar']:.2f}" + ("" if r["meets_bar"] else " MISS")
        print(f"{r['op']:26s} {r['tl_ms']:10.4f} {r['torch_ms']:10.4f} {r['speedup_vs_torch']:8.3f} {bar}")
    for r in rows:
        if r["op"].startswith("attention"):  # forward 4 B H L^2 d flops, backward 2.5 times that; causal half
            d = int(r["op"].split()[-2 if "causal" in r["op"] else -1][1:])
            flops = 4 * ATTENTION_SHAPE[0] * ATTENTION_SHAPE[1] * ATTENTION_SHAPE[2] ** 2 * d / (2 if "causal" in r["op"] else 1)
            flops *= 3.5 if "bwd" in r["op"] else 1
            print(f"{r['op']:26s} TFLOP/s: tl {flops / r['tl_ms'] / 1e9:.1f}, torch {flops / r['torch_ms'] / 1e9:.1f}")
    print("memory after 100k small ops:", mem, "flat" if result["memory_flat"] else "NOT FLAT")
    print("wrote", os.path.join(args.out, name))


if __name__ == "__main__":
    main()
