"""The Hopper attention backward's variants (cuda/attention_backward_sm90a.cu, TL_SM90A_BWD) beside PyTorch's
F.scaled_dot_product_attention, forward + backward over contiguous [B, H, L, d] operands, in one process: each
round times PyTorch and then every variant (the environment variable set between calls; the launcher reads it
at each launch), and the median of each is kept. Prints one JSON line per shape with PyTorch time / ours per
variant (above 1: we are faster). Shapes: the GPT shape (B 8, H 12, L 1024, d 64) and B 2, H 16, L 4096, d 128,
each causal and full.
Usage: python3 benchmarks/attention_bwd_variants.py [--rounds N] [--variants 0,3,4,5]
"""
import argparse
import json
import os
import statistics

import torch
import torch.nn.functional as F

import tensorlogic as tl
from harness import measure

SHAPES = [(8, 12, 1024, 64, True), (8, 12, 1024, 64, False), (2, 16, 4096, 128, True), (2, 16, 4096, 128, False)]


def closure(lib, b, h, t, d, causal):
    """Forward + backward of one library's attention over fresh random operands."""
    kw = {"device": "cuda"} if lib is tl else {"device": "cuda", "dtype": torch.float16}
    leaves = [lib.randn(b, h, t, d, **kw).requires_grad_() for _ in range(3)]
    grad = lib.randn(b, h, t, d, **kw)
    sdpa = tl.scaled_dot_product_attention if lib is tl else F.scaled_dot_product_attention
    return lambda: sdpa(*leaves, is_causal=causal).backward(grad)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default="0,3,4,5")
    args = parser.parse_args()
    variants = args.variants.split(",")
    for b, h, t, d, causal in SHAPES:
        theirs, ours = closure(torch, b, h, t, d, causal), closure(tl, b, h, t, d, causal)
        times = {"torch": [], **{v: [] for v in variants}}
        for _ in range(args.rounds):
            times["torch"].append(measure(theirs, repeat=1, number=10, warmup=2, sync=torch.cuda.synchronize))
            for v in variants:
                os.environ["TL_SM90A_BWD"] = v
                times[v].append(measure(ours, repeat=1, number=10, warmup=2, sync=tl.cuda.synchronize))
        torch_ms = statistics.median(times["torch"]) * 1e3
        row = {"shape": [b, h, t, d], "causal": causal, "torch_ms": round(torch_ms, 4)}
        for v in variants:
            ms = statistics.median(times[v]) * 1e3
            row[f"v{v}_ms"], row[f"v{v}_torch_over_tl"] = round(ms, 4), round(torch_ms / ms, 3)
        print(json.dumps(row), flush=True)
    os.environ.pop("TL_SM90A_BWD", None)
    print(json.dumps({"device": tl.cuda.get_device_name(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
