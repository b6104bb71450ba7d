"""Time of tl.compile's replay against the same module run eagerly, in the same run (timed alternately, best of
several): inference of a small MLP (batch 8, per-op Python overhead dominates), of a GPT-style block and of a
small GPT at batch 1 (gpt_step.py's model, 2 layers, 64 wide, 4 heads, 32 tokens), on CUDA also the CUDA-graph
replay (mode="reduce-overhead") against eager and against the plain replay, and a training step (forward with
its loss, backward, AdamW) of the small GPT at batch 4. The ratio is the peer's time / ours (higher is better).

Run: python benchmarks/compile_replay.py [--device cpu|cuda]"""
import argparse
import os
import sys

import numpy as np

import tensorlogic as tl
from gpt_step import build_gpt
from harness import measure_pair, write_results

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests")
from test_compile import Block  # noqa: E402  (the test suite's nanoGPT-style block)


def graph_rows(name, model, x, compiled, sync):
    """CUDA only: the CUDA-graph replay (mode="reduce-overhead") against eager and against the plain replay."""
    graphed = tl.compile(model, mode="reduce-overhead")
    rows = []
    with tl.no_grad():
        graphed(x)  # capture
        graphed(x)  # the graph's warm-up and capture
        assert graphed.cudagraph_reasons == [], graphed.cudagraph_reasons
        for peer_name, peer_fn in (("eager", lambda: model(x)), ("replay", lambda: compiled(x))):
            ours, peer = measure_pair(lambda: graphed(x), peer_fn, repeat=7, number=200, sync=sync)
            rows.append({"what": f"{name}, graph replay vs {peer_name}", "ours_s": ours, "peer_s": peer,
                         "ratio": peer / ours})
            print(f"{rows[-1]['what']}: {ours * 1e6:.1f} us vs {peer * 1e6:.1f} us, ratio {peer / ours:.2f}")
    return rows


def cases(device):
    mlp = tl.nn.Sequential(tl.nn.Linear(64, 128), tl.nn.ReLU(), tl.nn.Linear(128, 128), tl.nn.ReLU(),
                           tl.nn.Linear(128, 10))
    yield "MLP 64-128-128-10, batch 8", mlp, tl.randn(8, 64, device=device)
    yield "GPT block d=64, 4 heads, 1x32 tokens", Block(64, 4), tl.randn(1, 32, 64, device=device)
    gpt = build_gpt(tl, 256, 32, 2, 64, 4)
    gpt.positions = tl.arange(32, dtype=tl.int32, device=device)
    idx = tl.tensor(np.random.default_rng(1).integers(0, 256, (1, 32)).astype(np.int32), device=device)
    yield "small GPT forward with its loss (2x64, 4 heads), batch 1x32", _WithTargets(gpt, idx), idx


class _WithTargets(tl.nn.Module):
    """gpt_step's model takes (idx, targets): the targets fixed, so that the case takes one input like the others."""

    def __init__(self, gpt, targets):
        super().__init__()
        self.gpt, self.targets = gpt, targets

    def forward(self, idx):
        return self.gpt(idx, self.targets)


def train_step_times(device, sync):
    """Seconds per training step of the compiled model and of its eager twin (the same initial weights, batch)."""
    rng = np.random.default_rng(0)
    idx, targets = (tl.tensor(rng.integers(0, 256, (4, 32)).astype(np.int32), device=device) for _ in range(2))
    forwards, steps = [], []
    for compiled in (True, False):
        tl.manual_seed(0)
        model = build_gpt(tl, 256, 32, 2, 64, 4).to(device)
        model.positions = tl.arange(32, dtype=tl.int32, device=device)
        opt = tl.optim.AdamW(model.parameters(), lr=1e-3)
        forwards.append(tl.compile(model) if compiled else model)
        steps.append(_trainer(forwards[-1], opt, idx, targets))
    steps[0]()  # capture
    assert forwards[0].eager_reasons == [], forwards[0].eager_reasons
    return measure_pair(steps[0], steps[1], repeat=7, number=10, sync=sync)


def _trainer(forward, opt, idx, targets):
    def step():
        opt.zero_grad()
        forward(idx, targets).backward()
        opt.step()
    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    sync = (lambda: tl.accelerator.synchronize()) if args.device != "cpu" else None
    rows = []
    for name, model, x in cases(args.device):
        model = model.to(args.device).eval()
        compiled = tl.compile(model)
        with tl.no_grad():
            compiled(x)  # capture
            ours, peer = measure_pair(lambda: compiled(x), lambda: model(x), repeat=7, number=200, sync=sync)
        assert compiled.eager_reasons == [], compiled.eager_reasons
        rows.append({"what": f"{name}, replay vs eager", "ours_s": ours, "peer_s": peer, "ratio": peer / ours})
        print(f"{rows[-1]['what']}: {ours * 1e6:.1f} us vs {peer * 1e6:.1f} us, ratio {peer / ours:.2f}")
        if args.device.startswith("cuda"):
            rows.extend(graph_rows(name, model, x, compiled, sync))
    ours, peer = train_step_times(args.device, sync)
    rows.append({"what": "small GPT training step (2x64, 4 heads, 4x32 tokens, AdamW), replay vs eager",
                 "ours_s": ours, "peer_s": peer, "ratio": peer / ours, "load_average": os.getloadavg()[0]})
    print(f"{rows[-1]['what']}: {ours * 1e3:.2f} ms vs {peer * 1e3:.2f} ms, ratio {peer / ours:.2f} "
          f"(load average {os.getloadavg()[0]:.1f})")
    print("wrote", write_results(f"compile_{args.device.split(':')[0]}", rows))


if __name__ == "__main__":
    main()
