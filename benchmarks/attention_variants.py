"""The Hopper attention forward's variants (cuda/attention_sm90a.cu, TL_SM90A_FWD_VARIANT 0-6) beside PyTorch's
F.scaled_dot_product_attention, in one process: for each shape, the variants and PyTorch are timed alternately
for several rounds (device time from events around a batch of queued calls; the median round kept), and one
line per shape and mask gives PyTorch's time and PyTorch's time over each variant's (above 1: ours is faster);
the rows go to benchmarks/results/attention_variants_<gpu>.json.

Forward only, contiguous [B, H, L, d] f16 operands, causal and full. Shapes: the GPT-2 small training shape
(B 8, H 12, L 1024, d 64) and attention_bars.py's (issue 18's bars: d 64 and 128, L 1k, 4k and 16k, 16,384
tokens and a width of 2,048 each).
Usage: python3 benchmarks/attention_variants.py [--rounds N] [--variants 0,1,2,3,4,5,6] [--quick]
(--quick: the GPT shape and d 64 L 1024 only). Needs a compute capability 9.0 GPU (else the variants do not run).
"""
import argparse
import os
import statistics

import torch
import torch.nn.functional as F

import tensorlogic as tl
from harness import write_results

# The GPT-2 small shape, then attention_bars.py's (16,384 tokens and a model width of 2,048 a shape).
SHAPES = [(8, 12, 1024, 64)] + [(16384 // n, 2048 // d, n, d) for d in (64, 128) for n in (1024, 4096, 16384)]


def event_ms(lib, fn, calls):
    """Device milliseconds per call of fn over `calls` queued calls, between two events of lib's stream."""
    start, end = lib.cuda.Event(enable_timing=True), lib.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / calls


def time_shape(shape, causal, variants, rounds):
    """{'torch': ms, variant: ms, ...}, each the median of `rounds` alternated rounds."""
    gen = torch.Generator().manual_seed(0)
    host = [torch.randn(*shape, generator=gen).half() for _ in range(3)]
    theirs = [a.cuda() for a in host]
    ours = [tl.tensor(a.numpy(), device="cuda") for a in host]
    calls = max(5, int(2e5 / (shape[0] * shape[1] * shape[2] * shape[2] * shape[3] / 1e6)))  # ~2-10 ms a timing
    calls = min(calls, 200)
    fns = {"torch": (torch, lambda: F.scaled_dot_product_attention(*theirs, is_causal=causal))}
    for v in variants:
        fns[v] = (tl, lambda: tl.scaled_dot_product_attention(*ours, is_causal=causal))
    times = {name: [] for name in fns}
    for _ in range(rounds + 1):  # the first round warms up
        for name, (lib, fn) in fns.items():
            if name != "torch":
                os.environ["TL_SM90A_FWD_VARIANT"] = str(name)
            times[name].append(event_ms(lib, fn, calls))
    return {name: statistics.median(t[1:]) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default="0,1,2,3,4,5,6")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    variants = [int(v) for v in args.variants.split(",")]
    shapes = SHAPES[:2] if args.quick else SHAPES
    device = tl.cuda.get_device_name()
    print(device, "torch", torch.__version__, flush=True)
    rows = []
    for shape in shapes:
        for causal in (True, False):
            ms = time_shape(shape, causal, variants, args.rounds)
            row = {"shape": shape, "causal": causal, "torch_ms": round(ms["torch"], 4)}
            row.update({f"v{v}_ms": round(ms[v], 4) for v in variants})
            row.update({f"torch_over_v{v}": round(ms["torch"] / ms[v], 3) for v in variants})
            rows.append(row)
            ratios = " ".join(f"v{v} {ms['torch'] / ms[v]:.3f}" for v in variants)
            print("B{} H{} L{} d{}".format(*shape), "causal" if causal else "full", f"torch {ms['torch']:.4f} ms;",
                  ratios, flush=True)
    name = "attention_variants_" + device.replace(" ", "_")
    print("wrote", write_results(name, rows, {"device": device, "torch": torch.__version__, "rounds": args.rounds}))
    os.environ.pop("TL_SM90A_FWD_VARIANT", None)


if __name__ == "__main__":
    main()
