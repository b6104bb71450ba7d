"""The memory-bound kernels of a GPT-2-small training step (batch 8 x 1024 tokens, width 768, 12 heads,
vocabulary 50,304) on one GPU, TensorLogic beside the PyTorch op that does the same work, in one process.

Each side is timed on the GPU's clock (CUDA events of its own library): a few large matmuls are queued first
so that the host, which enqueues the timed calls meanwhile, stays ahead of the GPU and launch overhead is
excluded; the figure is ms per call, the best of three rounds taken alternately. `GB/s` counts the bytes the
op must move at least: for AdamW 26 bytes per parameter for TensorLogic (f16 weight and gradient, f32 exp_avg and
exp_avg_sq, a 16-bit compensation of the weight's rounding; read and written but the gradient) against 14 for
PyTorch's fused AdamW over f16 parameters (its state in f16). The GradScaler row includes TensorLogic's read of
its flag (a host round trip per call, as once per step).

Run: python benchmarks/gpt_kernels.py [--rounds 3] [--device cuda] [--rows all|weight_grads|memory] (--device cpu:
a quick check of the script with small shapes, timed by the host clock; --rows weight_grads: only the linear
layers' weight and bias gradient rows; --rows memory: only the elementwise, bias-sum, AdamW and scaler rows; a
subset does not write the results file; --energy: also each call's energy in millijoules on each side, from the
GPU's energy counter over about 0.3 s of back-to-back calls, idle power included. A step that runs at the board's
power limit is as fast as its energy allows, so the energy of a kernel says what it costs there)"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

import tensorlogic as tl
from tensorlogic import _core
from gpu_power import PowerMeter
from harness import write_results


def param_shapes(T, C, V):
    """GPT-2's parameters: the embeddings, 12 blocks (two layer norms, four linears with biases), ln_f."""
    block = [(C,), (C,), (3 * C, C), (3 * C,), (C, C), (C,), (C,), (C,), (4 * C, C), (4 * C,), (C, 4 * C), (C,)]
    return [(V, C), (T, C)] + block * 12 + [(C,), (C,)]


class Side:
    """One library's device plumbing: events, a busy queue, tensors from numpy."""

    def __init__(self, lib, device):
        self.lib, self.device = lib, device
        self.big = self.tensor(np.random.default_rng(0).standard_normal((8192, 8192)).astype(np.float16))

    def tensor(self, x):
        if self.lib is torch:
            return torch.from_numpy(x).to(self.device)
        return tl.tensor(x, device=self.device)

    def event(self):
        if self.lib is torch:
            return torch.cuda.Event(enable_timing=True)
        return tl.cuda.Event(enable_timing=True, device=self.device)

    def ms(self, fn, iters):
        """Milliseconds per call of fn on the GPU's clock, the host kept ahead by queued matmuls."""
        fn()
        if self.device == "cpu":
            start = time.perf_counter()
            fn()
            return (time.perf_counter() - start) * 1e3
        self.lib.cuda.synchronize()
        for _ in range(4):
            self.big @ self.big
        start, end = self.event(), self.event()
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / iters

    def millijoules(self, fn, meter, ms, seconds=0.3):
        """Millijoules per call of fn (ms per call, measured), over enough back-to-back calls to fill `seconds`."""
        calls = max(10, int(seconds * 1e3 / ms))
        self.lib.cuda.synchronize()
        before = meter.read()[0]
        for _ in range(calls):
            fn()
        self.lib.cuda.synchronize()
        return (meter.read()[0] - before) / calls


def cases(side, rng, B, T, C, H, V):
    """name -> (function, minimum bytes moved, calls per timing) for one side."""
    lib, out = side.lib, {}
    f16 = lambda *shape: (rng.standard_normal(shape, dtype=np.float32) * 2).astype(np.float16)  # noqa: E731

    qkv = side.tensor(f16(B, T, C))
    heads = side.tensor(f16(B, H, T, C // H))
    out[f"heads transpose [{B},{T},{H},{C // H}] -> contiguous [{B},{H},{T},{C // H}]"] = (
        lambda: qkv.view(B, T, H, C // H).transpose(1, 2).contiguous(), 2 * B * T * C * 2, 50)
    out[f"heads merge [{B},{H},{T},{C // H}] -> contiguous [{B},{T},{H},{C // H}]"] = (
        lambda: heads.transpose(1, 2).contiguous(), 2 * B * T * C * 2, 50)
    parts = [side.tensor(f16(B, T, C)) for _ in range(3)]
    out[f"cat 3 x [{B},{T},{C}] along the last dim"] = (lambda: lib.cat(parts, dim=2), 2 * 3 * B * T * C * 2, 30)

    logits_np = f16(B * T, V)
    target_np = rng.integers(0, V, B * T)
    logits = side.tensor(logits_np)
    if lib is torch:
        target = torch.from_numpy(target_np).to(side.device)
        out[f"cross_entropy forward [{B * T},{V}] (none)"] = (
            lambda: F.cross_entropy(logits, target, reduction="none"), B * T * V * 2, 10)
        leaf = logits.detach().requires_grad_()
        loss = F.cross_entropy(leaf, target)
        out[f"cross_entropy backward [{B * T},{V}]"] = (
            lambda: torch.autograd.grad(loss, leaf, retain_graph=True), 2 * B * T * V * 2, 10)
        key = f"cross_entropy backward [{B * T},{V}]"
        out[key + " (statistics recomputed)"] = out[key]
    else:
        target = tl.tensor(target_np.astype(np.int32), device=side.device)
        grad = tl.tensor(np.full(B * T, 1.0 / (B * T), np.float16), device=side.device)
        out[f"cross_entropy forward [{B * T},{V}] (none)"] = (
            lambda: _core.softmax_cross_entropy(logits._a, target._a), B * T * V * 2, 10)
        # training's backward reads the row statistics its forward kept; the second row recomputes them
        stats = _core.softmax_cross_entropy_keeping_stats(logits._a, target._a)[1]
        out[f"cross_entropy backward [{B * T},{V}]"] = (
            lambda: _core.softmax_cross_entropy_backward(logits._a, target._a, grad._a, saved_stats=stats),
            2 * B * T * V * 2, 10)
        out[f"cross_entropy backward [{B * T},{V}] (statistics recomputed)"] = (
            lambda: _core.softmax_cross_entropy_backward(logits._a, target._a, grad._a), 2 * B * T * V * 2, 10)
    del logits_np

    # causal attention at the model's shape, forward and backward (the step's largest kernels after the GEMMs)
    q, k, v, go = (side.tensor(f16(B, H, T, C // H)) for _ in range(4))
    for t in (q, k, v):
        t.requires_grad_()
    out[f"attention forward + backward [{B},{H},{T},{C // H}] causal"] = (
        lambda: lib.autograd.grad(lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
                                  (q, k, v), go), 12 * B * T * C * 2, 10)

    x, g, w, b = side.tensor(f16(B * T, C)), side.tensor(f16(B * T, C)), side.tensor(f16(C)), side.tensor(f16(C))
    if lib is torch:
        _, mean, rstd = torch.ops.aten.native_layer_norm(x, [C], w, b, 1e-5)
        out[f"layer_norm backward [{B * T},{C}] (dx, dw, db)"] = (
            lambda: torch.ops.aten.native_layer_norm_backward(g, x, [C], mean, rstd, w, b, [True, True, True]),
            3 * B * T * C * 2, 50)
    else:
        out[f"layer_norm backward [{B * T},{C}] (dx, dw, db)"] = (
            lambda: _core.norm_backward(False, x._a, g._a, [C], w._a, 1e-5, True, True), 3 * B * T * C * 2, 50)
    return out


def memory_cases(side, rng, B, T, C, V, **_):
    """The step's bandwidth-bound rest: elementwise maps, bias-gradient sums, AdamW and the scaler's check (the
    rows of --rows memory, which skips the cross-entropy's 0.8 GB of logits and finishes in a short GPU run)."""
    lib, out = side.lib, {}
    f16 = lambda *shape: (rng.standard_normal(shape, dtype=np.float32) * 2).astype(np.float16)  # noqa: E731

    # The step's elementwise work: GELU over the MLP's hidden [B*T, 4C] and its backward (grad * gelu'(x), the
    # one kernel both libraries run), the blocks' residual adds and the embeddings' broadcast sum over [B*T, C].
    hidden, hidden_grad = side.tensor(f16(B * T, 4 * C)), side.tensor(f16(B * T, 4 * C))
    out[f"gelu forward [{B * T},{4 * C}]"] = (lambda: F.gelu(hidden) if lib is torch else tl.nn.functional.gelu(hidden),
                                              2 * B * T * 4 * C * 2, 50)
    if lib is torch:
        gelu_backward = lambda: torch.ops.aten.gelu_backward(hidden_grad, hidden)  # noqa: E731
    else:
        gelu_backward = lambda: _core.binary(_core.BinaryOp.gelu_backward, hidden_grad._a, hidden._a)  # noqa: E731
    out[f"gelu backward [{B * T},{4 * C}]"] = (gelu_backward, 3 * B * T * 4 * C * 2, 50)
    residual, branch = side.tensor(f16(B * T, C)), side.tensor(f16(B * T, C))
    out[f"residual add [{B * T},{C}] + [{B * T},{C}]"] = (lambda: residual + branch, 3 * B * T * C * 2, 100)
    tokens, positions = side.tensor(f16(B, T, C)), side.tensor(f16(T, C))
    out[f"embedding sum [{B},{T},{C}] + [{T},{C}] (broadcast)"] = (lambda: tokens + positions, 2 * B * T * C * 2, 100)

    for width in (C, 4 * C):
        grads = side.tensor(f16(B * T, width))
        out[f"bias gradient: sum over the rows of [{B * T},{width}]"] = (
            lambda grads=grads: grads.sum(0), B * T * width * 2, 50)

    shapes = param_shapes(T, C, V)
    params = [side.tensor(f16(*s) * 0.01) for s in shapes]
    numel = sum(int(np.prod(s)) for s in shapes)
    if lib is torch:
        params = [p.requires_grad_() for p in params]
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1, eps=1e-4, fused=side.device == "cuda")
        per = 14
    else:
        params = [p.requires_grad_() for p in params]
        opt = tl.optim.AdamW(params, lr=1e-4, weight_decay=0.1, eps=1e-4)
        per = 26
    for p in params:
        p.grad = side.tensor(f16(*p.shape) * 0.01)
    out[f"AdamW step over {numel / 1e6:.0f} M parameters"] = (opt.step, per * numel, 5)
    # The loss scaler's per-step check: TensorLogic's checks only (the optimizer unscales in f32) and reads its
    # flag back; PyTorch's GradScaler checks and unscales in place, its flag staying on the device.
    grads = [p.grad for p in params]
    if lib is torch:
        found, inv = torch.zeros(1, device=side.device), torch.ones(1, device=side.device)
        out[f"GradScaler inf/NaN check of {numel / 1e6:.0f} M gradients"] = (
            lambda: torch._amp_foreach_non_finite_check_and_unscale_(grads, found, inv), 4 * numel, 5)
    else:
        arrays = [g._a for g in grads]
        out[f"GradScaler inf/NaN check of {numel / 1e6:.0f} M gradients"] = (
            lambda: _core.check_finite_and_unscale(arrays), 2 * numel, 5)
    return out


def weight_grad_cases(side, rng, B, T, C, **_):
    """The weight and bias gradients of each linear of a block (qkv, attention projection, MLP up and down) from
    g [tokens, out] and x [tokens, in]. PyTorch eager runs mm then sum; TensorLogic's one call sums the bias in the
    GEMM's epilogue on CUDA with TL_CUDA_BGRAD=1 (cuBLASLt BGRADB; by default it too runs the GEMM then the sum).
    The "then" rows run both libraries unfused, for the saving."""
    out = {}
    for n_out, n_in in ((3 * C, C), (C, C), (4 * C, C), (C, 4 * C)):
        g = side.tensor((rng.standard_normal((B * T, n_out), dtype=np.float32)).astype(np.float16))
        x = side.tensor((rng.standard_normal((B * T, n_in), dtype=np.float32)).astype(np.float16))
        moved = (B * T * (n_out + n_in) + n_out * n_in + n_out) * 2
        unfused = lambda g=g, x=x: (g.mT @ x, g.sum(0))  # noqa: E731
        fused = unfused if side.lib is torch else (lambda g=g, x=x: _core.linear_weight_bias_grad(g._a, x._a))
        shape = f"g [{B * T},{n_out}], x [{B * T},{n_in}]"
        out[f"dW then db: mm + sum, {shape}"] = (unfused, moved, 20)
        out[f"dW and db: tl one call / torch mm + sum, {shape}"] = (fused, moved, 20)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", choices=["all", "weight_grads", "memory"], default="all")
    parser.add_argument("--energy", action="store_true", help="each call's millijoules too (NVIDIA GPUs)")
    args = parser.parse_args()
    meter = PowerMeter.open() if args.energy and args.device == "cuda" else None
    dims = dict(B=8, T=1024, C=768, H=12, V=50304) if args.device == "cuda" else dict(B=2, T=64, C=64, H=4, V=512)
    sides = {"tl": Side(tl, args.device), "torch": Side(torch, args.device)}
    builders = {"all": [cases, memory_cases, weight_grad_cases], "weight_grads": [weight_grad_cases],
                "memory": [memory_cases]}[args.rows]
    built = {name: {k: v for build in builders for k, v in build(side, np.random.default_rng(1), **dims).items()}
             for name, side in sides.items()}
    best = {name: {k: float("inf") for k in built["tl"]} for name in sides}
    for _ in range(args.rounds):
        for key in built["tl"]:
            for name, side in sides.items():
                fn, _, iters = built[name][key]
                best[name][key] = min(best[name][key], side.ms(fn, iters))
    energy = {name: {key: side.millijoules(built[name][key][0], meter, best[name][key]) for key in built[name]}
              for name, side in sides.items()} if meter else None
    rows = []
    print(f"{'kernel':64} {'tl ms':>9} {'torch ms':>9} {'torch/tl':>8} {'tl GB/s':>8} {'torch GB/s':>10}"
          + (f" {'tl mJ':>8} {'torch mJ':>8}" if energy else ""))
    for key in built["tl"]:
        ours, peer = best["tl"][key], best["torch"][key]
        # the harness's row format (name, tensorlogic, peer, unit, ratio), which the docs' benchmarks page reads
        row = {"name": key, "tensorlogic": ours, "peer": "torch", "torch": peer, "unit": "ms", "ratio": peer / ours,
               "tensorlogic_gbps": built["tl"][key][1] / ours / 1e6, "torch_gbps": built["torch"][key][1] / peer / 1e6}
        if energy:
            row["tensorlogic_mj"], row["torch_mj"] = energy["tl"][key], energy["torch"][key]
        rows.append(row)
        print(f"{key:64} {ours:9.4f} {peer:9.4f} {peer / ours:8.2f} {row['tensorlogic_gbps']:8.0f} "
              f"{row['torch_gbps']:10.0f}" + (f" {row['tensorlogic_mj']:8.2f} {row['torch_mj']:8.2f}" if energy else ""))
    if args.device == "cpu" or args.rows != "all":  # (a subset would replace the results file's full table)
        return
    device = tl.cuda.get_device_name()
    path = write_results(f"gpt_kernels_{device.replace(' ', '_')}", rows, {"torch": torch.__version__,
                                                                          "device": device})
    print(json.dumps({"wrote": path}))


if __name__ == "__main__":
    main()
