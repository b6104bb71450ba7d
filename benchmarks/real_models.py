"""Training steps of real small models on the CPU: TensorLogic f16 beside PyTorch float32 with the same
thread count, in one process, timed alternately (issue 15). Each model is written once over `lib` (torch or
tl) so both run the same program with the shapes of its original:

- gpt: a nanoGPT-style GPT (2 layers, 64 wide, 4 heads, block 32, vocabulary 65, batch 8), AdamW
- makemore_mlp: makemore's MLP (context 16, embedding 64, hidden 64, vocabulary 27, batch 32), AdamW
- gru: a GRU language model (makemore's sizes: context 16, embedding 64, hidden 64, batch 32), AdamW; skipped
  with the reason printed where tl.nn.GRU does not exist
- mnist_cnn: the MNIST CNN of the PyTorch examples (batch 64), Adam in place of Adadelta (TensorLogic has none)
- vae: the VAE of the PyTorch examples (batch 64), its binary cross-entropy written out so both use one formula
- cifar_cnn: the CIFAR-10 tutorial CNN (batch 4), SGD with momentum 0.9
- makemore_rnn, makemore_bow, makemore_transformer: makemore's RNN, bag-of-words and Transformer (4 layers,
  4 heads, 64 wide) with its defaults (block 16, vocabulary 27, embeddings 64, batch 32, targets padded with
  -1 and ignored, AdamW with weight decay 0.01 and betas 0.9, 0.99)

Ratio = PyTorch's time / ours (above 1: we are faster). Both libraries get PyTorch's thread count, then one
thread: this process re-runs itself with OpenBLAS at one thread (its count is read when it loads) and
`torch.set_num_threads(1)`, `tl.set_num_threads(1)`; that pass also records each side's process CPU time per
step (`cpu_ratio`, `cpu_geomean`), which the loaded machine's preemptions do not inflate. `--profile` prints
tl.profiler's table of one step of each workload and the share of the step's wall time that the profiler's
top-level events account for.

On a machine shared with other work, other processes take the second core at random moments and the
two-thread ratios swing by tens of percent; running the benchmark under the real-time scheduler
(`chrt -f 10 python benchmarks/real_models.py`, as root) keeps both libraries' threads ahead of every
ordinary process. The JSON records the scheduling policy each pass ran under.

Run: python benchmarks/real_models.py [--threads N] [--only gpt,vae] [--profile] [--quick]"""
import argparse
import datetime
import gc
import json
import math
import os
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import tensorlogic as tl
from gpt_step import build_gpt
from harness import RESULTS, machine, measure_pair


def _gpt(lib):
    model = build_gpt(lib, vocab=65, block=32, layers=2, width=64, heads=4)
    model.positions = lib.arange(32, dtype=lib.int32 if lib is tl else torch.int64)
    idx = _tokens(lib, (8, 32), 65)
    targets = _tokens(lib, (8, 32), 65)
    return model, lib.optim.AdamW(model.parameters(), lr=1e-3), lambda: model(idx, targets)


def _makemore_mlp(lib):
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        def __init__(self, vocab=27, block=16, n_embd=64, n_embd2=64):
            super().__init__()
            self.wte = nn.Embedding(vocab + 1, n_embd)  # the extra row is makemore's <BLANK> padding token
            self.mlp = nn.Sequential(nn.Linear(block * n_embd, n_embd2), nn.Tanh(), nn.Linear(n_embd2, vocab))

        def forward(self, idx, targets):
            x = self.wte(idx)
            logits = self.mlp(x.view(x.shape[0], -1))
            return F.cross_entropy(logits, targets)

    model = MLP()
    idx, targets = _tokens(lib, (32, 16), 28), _tokens(lib, (32,), 27)
    return model, lib.optim.AdamW(model.parameters(), lr=5e-4), lambda: model(idx, targets)


def _gru(lib):
    nn, F = lib.nn, lib.nn.functional

    class GRULM(nn.Module):
        def __init__(self, vocab=27, n_embd=64, hidden=64):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.rnn = nn.GRU(n_embd, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx, targets):
            out, _ = self.rnn(self.wte(idx))
            logits = self.head(out)
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    model = GRULM()
    idx, targets = _tokens(lib, (32, 16), 27), _tokens(lib, (32, 16), 27)
    return model, lib.optim.AdamW(model.parameters(), lr=5e-4), lambda: model(idx, targets)


def _mnist_cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
            self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
            self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

        def forward(self, x, target):
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            x = self.dropout1(F.max_pool2d(x, 2))
            x = self.dropout2(F.relu(self.fc1(lib.flatten(x, 1))))
            return F.nll_loss(F.log_softmax(self.fc2(x), dim=1), target)

    model = Net()
    x, target = _images(lib, (64, 1, 28, 28)), _tokens(lib, (64,), 10)
    return model, lib.optim.Adam(model.parameters(), lr=1e-3), lambda: model(x, target)


def _vae(lib):
    nn, F = lib.nn, lib.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
            self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

        def forward(self, x):
            h1 = F.relu(self.fc1(x))
            mu, logvar = self.fc21(h1), self.fc22(h1)
            z = mu + lib.randn_like(mu) * lib.exp(0.5 * logvar)
            recon = lib.sigmoid(self.fc4(F.relu(self.fc3(z))))
            bce = -(x * lib.log(recon + 1e-3) + (1 - x) * lib.log(1 - recon + 1e-3)).sum()
            kld = -0.5 * lib.sum(1 + logvar - mu * mu - lib.exp(logvar))
            return (bce + kld) / x.shape[0]  # per sample, so f16 holds the batch's sum

    model = VAE()
    x = _images(lib, (64, 784)).clamp(0, 1)
    return model, lib.optim.Adam(model.parameters(), lr=1e-3), lambda: model(x)


def _cifar_cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x, target):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = F.relu(self.fc2(F.relu(self.fc1(lib.flatten(x, 1)))))
            return F.cross_entropy(self.fc3(x), target)

    model = Net()
    x, target = _images(lib, (4, 3, 32, 32)), _tokens(lib, (4,), 10)
    return model, lib.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9), lambda: model(x, target)


def _makemore_targets(lib, shape, vocab, seed=2):
    """Next-character targets as makemore pads them: -1 (ignored by the loss) after a word's end."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, vocab, shape)
    ends = rng.integers(3, shape[1] + 1, shape[0])  # each row's word length
    values[np.arange(shape[1]) >= ends[:, None]] = -1
    return tl.tensor(values.astype(np.int32)) if lib is tl else torch.tensor(values, dtype=torch.int64)


def _makemore(lib, model):
    """A makemore model's training step (block 16, vocabulary 27, batch 32, AdamW as makemore sets it)."""
    F = lib.nn.functional
    idx, targets = _tokens(lib, (32, 16), 27), _makemore_targets(lib, (32, 16), 27)

    def loss():
        logits = model(idx)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    opt = lib.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
    return model, opt, loss


def _makemore_rnn(lib, vocab=27, n_embd=64, n_embd2=64):
    """makemore's RNN: its cell, tanh(Linear(cat[x_t, h])), stepped in Python over the 16 positions."""
    nn = lib.nn

    class RNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.start = nn.Parameter(lib.zeros(1, n_embd2))
            self.wte = nn.Embedding(vocab, n_embd)
            self.xh_to_h = nn.Linear(n_embd + n_embd2, n_embd2)
            self.lm_head = nn.Linear(n_embd2, vocab)

        def forward(self, idx):
            b, t = idx.size()
            emb = self.wte(idx)
            hprev = self.start.expand((b, -1))
            hiddens = []
            for i in range(t):
                hprev = lib.tanh(self.xh_to_h(lib.cat([emb[:, i, :], hprev], dim=1)))
                hiddens.append(hprev)
            return self.lm_head(lib.stack(hiddens, 1))

    return _makemore(lib, RNN())


def _makemore_bow(lib, vocab=27, block=16, n_embd=64, n_embd2=64):
    """makemore's bag-of-words: a causal average of the previous embeddings (softmax over a -inf-masked zero
    matrix, then att @ x) and a tanh MLP, each with a residual."""
    nn, F = lib.nn, lib.nn.functional

    class BoW(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("bias", lib.tril(lib.ones(block, block)).view(1, block, block))
            self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(block, n_embd)
            self.c_fc, self.c_proj = nn.Linear(n_embd, n_embd2), nn.Linear(n_embd2, n_embd)
            self.lm_head = nn.Linear(n_embd, vocab)
            self.pos = lib.arange(0, block, dtype=lib.int32 if lib is tl else torch.int64).unsqueeze(0)

        def forward(self, idx):
            b, t = idx.size()
            x = self.wte(idx) + self.wpe(self.pos[:, :t])
            att = lib.zeros((b, t, t)).masked_fill(self.bias[:, :t, :t] == 0, float("-inf"))
            x = x + F.softmax(att, dim=-1) @ x
            x = x + self.c_proj(lib.tanh(self.c_fc(x)))
            return self.lm_head(x)

    return _makemore(lib, BoW())


def _makemore_transformer(lib, vocab=27, block=16, n_layer=4, n_head=4, n_embd=64):
    """makemore's Transformer (GPT-2's blocks written out: attention with an explicit mask and softmax, its
    tanh GELU as a formula, an lm_head without bias), with makemore's defaults: 4 layers, 4 heads, 64 wide."""
    nn, F = lib.nn, lib.nn.functional

    def gelu(x):
        return 0.5 * x * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * lib.pow(x, 3.0))))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
            self.c_attn, self.attn_proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
            self.c_fc, self.mlp_proj = nn.Linear(n_embd, 4 * n_embd), nn.Linear(4 * n_embd, n_embd)
            self.register_buffer("bias", lib.tril(lib.ones(block, block)).view(1, 1, block, block))

        def attention(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = F.softmax(att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf")), dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.attn_proj(y)

        def forward(self, x):
            x = x + self.attention(self.ln_1(x))
            return x + self.mlp_proj(gelu(self.c_fc(self.ln_2(x))))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(block, n_embd)
            self.h = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)
            self.pos = lib.arange(0, block, dtype=lib.int32 if lib is tl else torch.int64).unsqueeze(0)

        def forward(self, idx):
            b, t = idx.size()
            x = self.wte(idx) + self.wpe(self.pos[:, :t])
            for layer in self.h:
                x = layer(x)
            return self.lm_head(self.ln_f(x))

    return _makemore(lib, Transformer())


WORKLOADS = {"gpt": _gpt, "makemore_mlp": _makemore_mlp, "gru": _gru, "mnist_cnn": _mnist_cnn, "vae": _vae,
             "cifar_cnn": _cifar_cnn, "makemore_rnn": _makemore_rnn, "makemore_bow": _makemore_bow,
             "makemore_transformer": _makemore_transformer}


def _tokens(lib, shape, high):
    values = np.random.default_rng(0).integers(0, high, shape)
    return tl.tensor(values.astype(np.int32)) if lib is tl else torch.tensor(values, dtype=torch.int64)


def _images(lib, shape):
    values = np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 0.5 + 0.5
    return tl.tensor(values.astype(np.float16)) if lib is tl else torch.tensor(values)


def training_step(lib, build):
    """One step: zero the gradients, forward to the loss, backward, update."""
    model, opt, loss = build(lib)

    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()

    return step


def skip_reason(name):
    if name == "gru" and not hasattr(tl.nn, "GRU"):
        return "tl.nn.GRU does not exist yet"
    return None


_RANGES = ("module", "autograd")  # events that only enclose others: modules' calls and the backward pass


def _op_level(event):
    """Whether an event is an op, kernel, backward node or optimizer call with only ranges above it."""
    parent = event.cpu_parent
    while parent is not None and parent.kind in _RANGES:
        parent = parent.cpu_parent
    return event.kind not in _RANGES and parent is None


def profile_step(name, step):
    """Prints the profiler's table of one step and returns the shares of its wall time in top-level events
    (modules' calls and the backward pass included), and in op-level events alone (ops, backward nodes and
    optimizer calls: the time between them is Python outside any op)."""
    for _ in range(3):
        step()
    # A full collection of Python's cyclic GC pending from earlier work (the peer's steps, the imports)
    # would otherwise land in this one step: 0.5 s inside the GRU's backward pass once (cpu_notes.md).
    gc.collect()
    with tl.profiler.profile(record_shapes=False) as prof:
        start = time.perf_counter_ns()
        step()
        wall_us = (time.perf_counter_ns() - start) / 1000.0
    top = sum(e.cpu_time_total for e in prof.events() if e.cpu_parent is None)
    ops = sum(e.cpu_time_total for e in prof.events() if _op_level(e))
    print(f"\n== {name}: one step {wall_us / 1000:.2f} ms, the profiler's top-level events cover "
          f"{100 * top / wall_us:.1f}% of it (op-level events alone: {100 * ops / wall_us:.1f}%)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    return top / wall_us, ops / wall_us


def run(names, repeat, profile, cpu_time=False):
    """Times each workload's step beside PyTorch's; with cpu_time, also the process's CPU time per step (at one
    thread it is the step's work without the time other processes held the core: the loaded machine's
    preemptions, which wall time's best of a few repeats does not always escape for steps of a few ms)."""
    rows = []
    for name in names:
        reason = skip_reason(name)
        if reason:
            print(f"{name}: skipped ({reason})")
            rows.append({"name": name, "skipped": reason})
            continue
        ours, peer = training_step(tl, WORKLOADS[name]), training_step(torch, WORKLOADS[name])
        t_ours, t_peer = measure_pair(ours, peer, repeat=repeat, warmup=2)
        row = {"name": name, "tensorlogic_ms": t_ours * 1e3, "torch_f32_ms": t_peer * 1e3, "ratio": t_peer / t_ours}
        if cpu_time:
            c_ours, c_peer = measure_pair(ours, peer, repeat=repeat, warmup=0, clock=time.process_time)
            row.update(tensorlogic_cpu_ms=c_ours * 1e3, torch_f32_cpu_ms=c_peer * 1e3, cpu_ratio=c_peer / c_ours)
        if profile:
            row["profiler_coverage"], row["profiler_op_coverage"] = profile_step(name, ours)
        rows.append(row)
        cpu = f"   CPU time ratio {row['cpu_ratio']:.2f}" if cpu_time else ""
        print(f"{name:14s} ours {t_ours * 1e3:8.2f} ms   torch f32 {t_peer * 1e3:8.2f} ms   ratio {row['ratio']:.2f}{cpu}")
    geomean = _geomean([r["ratio"] for r in rows if "ratio" in r])
    print(f"geometric mean of PyTorch time / ours: {geomean:.3f} (threads: PyTorch {torch.get_num_threads()}, "
          f"TensorLogic {tl.get_num_threads()})")
    if cpu_time:
        print(f"geometric mean of the CPU time ratios: {_geomean([r['cpu_ratio'] for r in rows if 'cpu_ratio' in r]):.3f}")
    return rows, geomean


def _geomean(ratios):
    return math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else None


def _load():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def _scheduling():
    """The scheduling policy of this process, as chrt names it."""
    policy = os.sched_getscheduler(0)
    return {os.SCHED_FIFO: "fifo", os.SCHED_RR: "rr"}.get(policy, "other")


def plot(doc, path):
    plt.switch_backend("Agg")  # a file, never a window
    fig, ax = plt.subplots(figsize=(8, 4))
    runs = doc["runs"]
    names = [r["name"] for r in runs[0]["rows"] if "ratio" in r]
    width = 0.8 / len(runs)
    for i, run_ in enumerate(runs):
        ratios = {r["name"]: r["ratio"] for r in run_["rows"] if "ratio" in r}
        ax.bar([j + i * width for j in range(len(names))], [ratios.get(n, 0) for n in names], width,
               label=f"{run_['threads']} thread(s), geomean {run_['geomean']:.2f}")
    ax.axhline(1.0, color="grey", linestyle=":")
    ax.set_yscale("log")  # ratios above and below 1 alike; an oversubscribed run can reach tens
    ax.set_xticks([j + width * (len(runs) - 1) / 2 for j in range(len(names))], names, rotation=20)
    ax.set_ylabel("PyTorch f32 step time / TensorLogic")
    ax.set_title(f"Training steps on the CPU ({doc['date'][:10]})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", default="both", help="'both' (PyTorch's count, then 1), or a number")
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--json", help="write this run's rows here (used by the one-thread child)")
    args = parser.parse_args()
    names = args.only.split(",")
    repeat = 3 if args.quick else 7
    if args.threads != "both":
        torch.set_num_threads(int(args.threads))
        tl.set_num_threads(int(args.threads))
        one = int(args.threads) == 1
        rows, geomean = run(names, repeat, args.profile, cpu_time=one)
        result = {"threads": torch.get_num_threads(), "rows": rows, "geomean": geomean, "load": _load(),
                  "scheduling": _scheduling()}
        if one:
            result["cpu_geomean"] = _geomean([r["cpu_ratio"] for r in rows if "cpu_ratio" in r])
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f)
        return
    runs = []
    tl.set_num_threads(torch.get_num_threads())
    load_before = _load()
    rows, geomean = run(names, repeat, args.profile)
    runs.append({"threads": torch.get_num_threads(), "rows": rows, "geomean": geomean, "load": load_before,
                 "scheduling": _scheduling()})
    child_json = os.path.join(RESULTS, ".real_models_one_thread.json")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    command = [sys.executable, __file__, "--threads", "1", "--only", args.only, "--json", child_json]
    command += ["--quick"] if args.quick else []
    print("\none thread:")
    subprocess.run(command, env=env, check=True)
    with open(child_json) as f:
        runs.append(json.load(f))
    os.remove(child_json)
    doc = {"suite": "real_models", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "torch": torch.__version__, "runs": runs}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "real_models.json"), "w") as f:
        json.dump(doc, f, indent=2)
    plot(doc, os.path.join(RESULTS, "real_models.png"))
    print(f"wrote {RESULTS}/real_models.json and real_models.png")


if __name__ == "__main__":
    main()
