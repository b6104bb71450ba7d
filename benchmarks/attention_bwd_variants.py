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
from attention_gpt import dense_cases, timed

SHAPES = [(8, 12, 1024, 64, True), (8, 12, 1024, 64, False), (2, 16, 4096, 128, True), (2, 16, 4096, 128, False)]
CASE = "forward+backward, contiguous"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default="0,3,4,5")
    args = parser.parse_args()
    variants = args.variants.split(",")
    for b, h, t, d, causal in SHAPES:
        theirs = dense_cases(torch, F.scaled_dot_product_attention, b, h, t, d, causal)[CASE]
        ours = dense_cases(tl, tl.scaled_dot_product_attention, b, h, t, d, causal)[CASE]
        times = {"torch": [], **{v: [] for v in variants}}
        for _ in range(args.rounds):
            times["torch"].append(timed(theirs, 10, torch.cuda.synchronize))
            for v in variants:
                os.environ["TL_SM90A_BWD"] = v
                times[v].append(timed(ours, 10, tl.cuda.synchronize))
        torch_ms = statistics.median(times["torch"])
        row = {"shape": [b, h, t, d], "causal": causal, "torch_ms": round(torch_ms, 4)}
        for v in variants:
            ms = statistics.median(times[v])
            row[f"v{v}_ms"], row[f"v{v}_torch_over_tl"] = round(ms, 4), round(torch_ms / ms, 3)
        print(json.dumps(row), flush=True)
    os.environ.pop("TL_SM90A_BWD", None)
    print(json.dumps({"device": tl.cuda.get_device_name(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
