"""A GPT-2-small training step (12 layers, 768 wide, 12 heads, sequence 1024, vocabulary 50,304, batch 8,
AdamW) on one GPU: TensorLogic f16 beside PyTorch eager f16, PyTorch automatic mixed precision (f16
autocast, f32 master weights) and torch.compile of the same model, in one process. Mode `tl_compile` is
TensorLogic's step with the model under tl.compile (its forward replayed without Python dispatch); mode
`tl_graphed` wraps the model with tl.cuda.make_graphed_callables (its forward and backward each one CUDA graph,
captured at the first step with that step's batch as the static inputs; the optimizer and the loss scaler run
eagerly around them, as with torch.cuda.make_graphed_callables).

The model is written once (`build_gpt`) over either library's `nn`, so both run the same program. TensorLogic
trains with tl.amp.GradScaler, as AMP does with PyTorch's: without loss scaling the cross-entropy gradient
over 50,304 classes averaged over 8,192 tokens (~2e-9 per non-target class) rounds to zero in f16 and the loss
rises (see tl.amp's module doc). Reported
per mode: ms per step, peak allocated memory, model TFLOP/s (the 6N + attention count of the PaLM paper's
appendix); then the loss over `--curve-steps` steps on a synthetic corpus for TensorLogic, PyTorch eager f16 (when
among the modes) and AMP from the same initial weights and the same batches, and each one's largest and median
relative difference from AMP's: PyTorch's own f16 run shows how far f16 alone moves the curve.

Timing: every mode is built and measured once in turn (its peak memory above what the process held before it was
built), then all stay alive and `--rounds` - 1 more rounds time them in turn, round after round: a mode's time is
the median of its rounds, so a drift of the GPU's speed over the run (PyTorch's own time moved up to 12% between
runs) reaches every mode alike. Each mode's rounds are reported too. On an NVIDIA GPU each mode also reports its
joules per step and, per round, the share of the round that the driver held the clock down at the board's power
limit (NVML's counters, `gpu_power.py`): a step that keeps the GPU busier can reach the limit where a slower one
does not, and then every kernel of it runs at a lower clock.

Run: python benchmarks/gpt_step.py [--small] [--device cuda] [--modes tl,tl_compile,tl_graphed,eager,amp,compile]
[--steps 20] [--rounds 3] [--curve-steps 200]"""
import argparse
import json
import time

import numpy as np
import torch

import tensorlogic as tl
from gpu_power import PowerMeter
from harness import write_results


def build_gpt(lib, vocab, block, layers, width, heads):
    """The GPT of nanoGPT's shape (pre-norm blocks, exact GELU, tied embedding), over `lib` (torch or tl)."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.c_attn, self.c_proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.c_fc, self.mlp_proj = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)
            self.gelu = nn.GELU()

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
            q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))
            return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block, width)
            self.h = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(width)
            self.lm_head = nn.Linear(width, vocab, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(self.positions[: idx.shape[1]])
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    return GPT()


def init_weights(model, seed):
    """GPT-2's initialisation (normal 0.02, zero biases, LayerNorm weights 1), drawn with numpy so both libraries
    get the same."""
    rng = np.random.default_rng(seed)

    def value(name, shape):
        if len(shape) > 1:
            return rng.standard_normal(shape) * 0.02
        return np.ones(shape) if ".ln_" in f".{name}" and name.endswith(".weight") else np.zeros(shape)

    return {name: value(name, tuple(p.shape)).astype(np.float16) for name, p in model.state_dict().items()}


def synthetic_corpus(vocab, tokens, seed):
    """A learnable stream: each token follows its predecessor through a fixed random map, with 10% noise."""
    rng = np.random.default_rng(seed)
    successor = rng.integers(0, vocab, vocab)
    out = np.empty(tokens, np.int64)
    out[0] = 0
    noise = rng.random(tokens) < 0.1
    random_tokens = rng.integers(0, vocab, tokens)
    for i in range(1, tokens):
        out[i] = random_tokens[i] if noise[i] else successor[out[i - 1]]
    return out


def batches(corpus, batch, block, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        starts = rng.integers(0, len(corpus) - block - 1, batch)
        x = np.stack([corpus[s:s + block] for s in starts])
        y = np.stack([corpus[s + 1:s + block + 1] for s in starts])
        yield x, y


class Mode:
    """One way of training: a model, an optimizer step and the library's device plumbing."""

    def __init__(self, name, cfg, weights, device):
        self.name, self.cfg, self.device = name, cfg, device
        lib = tl if name.startswith("tl") else torch
        model = build_gpt(lib, cfg["vocab"], cfg["block"], cfg["layers"], cfg["width"], cfg["heads"])
        if name.startswith("tl"):
            model.load_state_dict({k: tl.tensor(v) for k, v in weights.items()})
            model.to(device)
            model.positions = tl.arange(cfg["block"], dtype=tl.int32, device=device)
            self.opt = tl.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.1)
            self.scaler = tl.amp.GradScaler()
        else:
            model.load_state_dict({k: torch.tensor(v.astype(np.float32)) for k, v in weights.items()})
            model.to(device)
            if name != "amp":
                model.half()
            model.positions = torch.arange(cfg["block"], device=device)
            self.opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.1,
                                         eps=1e-8 if name == "amp" else 1e-4, fused=device.startswith("cuda"))
            self.scaler = torch.amp.GradScaler(device.split(":")[0], enabled=(name == "amp"))
        self.model = model
        self.forward = {"compile": torch.compile, "tl_compile": tl.compile}.get(name, lambda m: m)(model)
        self.to_graph = name == "tl_graphed"  # graphed at the first step: make_graphed_callables needs sample inputs

    def tensors(self, x, y):
        if self.name.startswith("tl"):
            return tl.tensor(x.astype(np.int32), device=self.device), tl.tensor(y.astype(np.int32), device=self.device)
        return torch.tensor(x, device=self.device), torch.tensor(y, device=self.device)

    def step(self, x, y):
        """One training step; returns the loss tensor (not read back; both scalers keep their inf/NaN flag on
        the device)."""
        self.opt.zero_grad(set_to_none=True)
        if self.to_graph:
            self.forward = tl.cuda.make_graphed_callables(self.model, (x.clone(), y.clone()))
            self.to_graph = False
        lib = tl if self.name.startswith("tl") else torch
        with lib.autocast(self.device.split(":")[0], dtype=lib.float16, enabled=(self.name == "amp")):
            loss = self.forward(x, y)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        return loss

    def synchronize(self):
        if self.name.startswith("tl"):
            tl.cuda.synchronize() if self.device.startswith("cuda") else None
        elif self.device.startswith("cuda"):
            torch.cuda.synchronize()


def memory_mark(name, device):
    """Resets the peak of the allocator that mode `name` uses and returns what it holds now (None off CUDA)."""
    if not device.startswith("cuda"):
        return None
    memory = tl.cuda if name.startswith("tl") else torch.cuda
    memory.reset_peak_memory_stats()
    return memory.memory_allocated()


def peak_since(name, device, mark):
    """The peak allocated by mode `name`'s allocator since memory_mark, above what it held then."""
    if mark is None:
        return None
    memory = tl.cuda if name.startswith("tl") else torch.cuda
    return memory.max_memory_allocated() - mark


def model_flops_per_step(cfg, params):
    """6N per token for the matmuls of forward and backward, plus attention's 12 L H d T per token."""
    tokens = cfg["batch"] * cfg["block"]
    attention = 12 * cfg["layers"] * cfg["width"] * cfg["block"]
    return (6 * params + attention) * tokens


def time_mode(mode, data, steps, warmup, meter):
    """Seconds per step, and with a power meter the joules per step and the share of the round the clock was held
    down for power (None without one)."""
    for x, y in data[:warmup]:
        mode.step(x, y)
    mode.synchronize()
    before = meter.read() if meter else None
    start = time.perf_counter()
    for x, y in data[warmup:warmup + steps]:
        mode.step(x, y)
    mode.synchronize()
    seconds = time.perf_counter() - start
    if before is None:
        return seconds / steps, None, None
    after = meter.read()
    return seconds / steps, (after[0] - before[0]) / 1e3 / steps, min(1.0, (after[1] - before[1]) / 1e9 / seconds)


def loss_curve(mode, corpus, cfg, steps):
    losses = []
    for x, y in batches(corpus, cfg["batch"], cfg["block"], steps, seed=7):
        losses.append(mode.step(*mode.tensors(x, y)))
    return [float(loss.item()) for loss in losses]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="a 2-layer, 128-wide model for a quick check")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--modes", default="tl,eager,amp,compile")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of every mode, in turn")
    parser.add_argument("--curve-steps", type=int, default=200)
    args = parser.parse_args()
    cfg = dict(vocab=50304, block=1024, layers=12, width=768, heads=12, batch=8, lr=6e-4)
    if args.small:
        cfg.update(vocab=512, block=64, layers=2, width=128, heads=4, batch=4)
    modes = args.modes.split(",")
    weights = init_weights(build_gpt(torch, **{k: cfg[k] for k in ("vocab", "block", "layers", "width", "heads")}), 0)
    params = sum(int(np.prod(v.shape)) for k, v in weights.items() if k != "lm_head.weight")
    corpus = synthetic_corpus(cfg["vocab"], 200_000 if args.small else 2_000_000, seed=1)
    flops = model_flops_per_step(cfg, params)
    meter = PowerMeter.open(tl.cuda.current_device()) if args.device.startswith("cuda") else None
    live, peaks = [], {}
    for name in modes:
        mark = memory_mark(name, args.device)
        mode = Mode(name, cfg, weights, args.device)
        data = [mode.tensors(x, y) for x, y in batches(corpus, cfg["batch"], cfg["block"], args.steps + 5, seed=3)]
        rounds = [time_mode(mode, data, args.steps, 5, meter)]
        peaks[name] = peak_since(name, args.device, mark)
        live.append((name, mode, data, rounds))
    for _ in range(args.rounds - 1):
        for name, mode, data, rounds in live:
            rounds.append(time_mode(mode, data, args.steps, 1, meter))
    rows = []
    for name, mode, data, rounds in live:
        seconds = float(np.median([r[0] for r in rounds]))
        row = {"mode": name, "ms_per_step": seconds * 1e3, "ms_per_step_rounds": [r[0] * 1e3 for r in rounds],
               "model_tflops": flops / seconds / 1e12, "peak_bytes": peaks[name]}
        if meter:  # the step's energy, and how much of each round ran with the clock lowered at the power limit
            row["joules_per_step"] = float(np.median([r[1] for r in rounds]))
            row["power_capped_share_rounds"] = [round(r[2], 3) for r in rounds]
        rows.append(row)
        print(json.dumps(row), flush=True)
    del live
    by_mode = {r["mode"]: r["ms_per_step"] for r in rows}
    ratios = {f"{ours}_vs_{peer}": by_mode[peer] / by_mode[ours] for ours in by_mode if ours.startswith("tl")
              for peer in by_mode if not peer.startswith("tl")}
    curves = {}
    if args.curve_steps and "tl" in modes and "amp" in modes:
        # PyTorch's own f16 run against its AMP run is the tolerance that f16 itself implies
        for name in [m for m in ("tl", "eager", "amp") if m in modes]:
            curves[name] = loss_curve(Mode(name, cfg, weights, args.device), corpus, cfg, args.curve_steps)
        for name in [m for m in ("tl", "eager") if m in curves]:
            diffs = sorted(abs(a - b) / abs(b) for a, b in zip(curves[name], curves["amp"]))
            print(json.dumps({"curve": f"{name}_vs_amp", "first_loss": [curves[name][0], curves["amp"][0]],
                              "last_loss": [curves[name][-1], curves["amp"][-1]],
                              "max_relative_difference": diffs[-1], "median_relative_difference": diffs[len(diffs) // 2]}))
    name = "gpt_step_small" if args.small else "gpt_step"
    device_name = tl.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    path = write_results(f"{name}_{device_name.replace(' ', '_')}", rows,
                         {"config": cfg, "rounds": args.rounds, "ratios_peer_time_over_ours": ratios, "loss_curves": curves,
                          "torch": torch.__version__, "device": device_name})
    print(json.dumps(ratios))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
