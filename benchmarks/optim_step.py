"""AdamW's step over a GPT-2-small's 148 parameters (124 M elements, f16): TensorLogic's one native call for
the whole group (on CUDA a few multi-tensor launches) beside one call per parameter (the path before it),
and beside PyTorch's AdamW on the same f16 parameters (fused=True on CUDA, and its default foreach
implementation), in one process on one device.

Run: python benchmarks/optim_step.py [--small] [--device cuda]   (--small: a 2-layer, 128-wide model)"""
import argparse

import numpy as np
import torch

import tensorlogic as tl
from harness import measure_pair, write_results
from tensorlogic import _core


def gpt_shapes(vocab, block, layers, width):
    """The parameter shapes of nanoGPT's GPT (tied embedding): 4 + 12 per layer."""
    per_layer = [(width,), (width,), (3 * width, width), (3 * width,), (width, width), (width,), (width,), (width,),
                 (4 * width, width), (4 * width,), (width, 4 * width), (width,)]
    return [(vocab, width), (block, width)] + per_layer * layers + [(width,), (width,)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--device", default="cuda" if tl.cuda.is_available() else "cpu")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    shapes = gpt_shapes(512, 64, 2, 128) if args.small else gpt_shapes(50304, 1024, 12, 768)
    rng = np.random.default_rng(0)
    starts = [(rng.standard_normal(s) * 0.02).astype(np.float16) for s in shapes]
    grads = [(rng.standard_normal(s) * 1e-3).astype(np.float16) for s in shapes]
    dev = args.device
    ours = [tl.Tensor(x, device=dev).requires_grad_() for x in starts]
    for p, g in zip(ours, grads):
        p.grad = tl.Tensor(g, device=dev)
    opt = tl.optim.AdamW(ours, lr=1e-4)
    opt.step()  # makes the state

    def one_call_per_parameter():  # the per-parameter path: the same update, one native call each
        native = opt._native_params(opt.param_groups[0])
        for p in ours:
            st = opt.state[p]
            st["step"] += 1
            native.step = st["step"]
            _core.optimizer_step(_core.OptimizerKind.adamw, native, p._a, p.grad._a, st["slots"])

    tdev = "cuda" if dev.startswith("cuda") else "cpu"
    theirs = [torch.tensor(x, device=tdev, requires_grad=True) for x in starts]
    for p, g in zip(theirs, grads):
        p.grad = torch.tensor(g, device=tdev)
    peers = {"foreach": torch.optim.AdamW(theirs, lr=1e-4, foreach=True)}
    if tdev == "cuda":
        peers["fused"] = torch.optim.AdamW(theirs, lr=1e-4, fused=True)

    def sync():
        if dev.startswith("cuda"):
            tl.cuda.synchronize()
            torch.cuda.synchronize()

    rows = []
    n = sum(int(np.prod(s)) for s in shapes)
    ours_s, before_s = measure_pair(opt.step, one_call_per_parameter, repeat=args.repeat, sync=sync)
    rows.append({"what": "one call per group / one call per parameter", "ours_ms": ours_s * 1e3,
                 "peer_ms": before_s * 1e3, "ratio": before_s / ours_s})
    for name, peer in peers.items():
        ours_s, peer_s = measure_pair(opt.step, peer.step, repeat=args.repeat, sync=sync)
        rows.append({"what": f"one call per group / PyTorch AdamW {name}", "ours_ms": ours_s * 1e3,
                     "peer_ms": peer_s * 1e3, "ratio": peer_s / ours_s})
    print(f"AdamW step, {len(shapes)} parameters, {n / 1e6:.1f} M elements, on {dev} (ratio: peer time / ours)")
    for r in rows:
        print(f"  {r['what']:50s} {r['ours_ms']:8.3f} ms  {r['peer_ms']:8.3f} ms  {r['ratio']:.2f}")
    write_results("optim_step" + ("_small" if args.small else "") + f"_{tdev}", rows,
                  {"parameters": len(shapes), "elements": n})


if __name__ == "__main__":
    main()
