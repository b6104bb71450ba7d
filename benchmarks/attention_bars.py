"""The attention bars of issue 18 in one run: forward and forward+backward of scaled_dot_product_attention against
PyTorch's (its best backend on the GPU), head dims 64 and 128, causal and full masks, sequence lengths 1k, 4k and
16k, contiguous [B, H, L, d] f16 operands. Each shape holds 16,384 tokens (B = 16384 / L) and a model width of
2,048 (H = 2048 / d), FlashAttention's benchmark convention. Prints one JSON line per case and a table of the
ratios PyTorch time / ours (above 1: we are faster), and writes benchmarks/results/attention_bars_<gpu>.json.

Usage: python3 benchmarks/attention_bars.py [--rounds N] [--dims 64,128] [--lengths 1024,4096,16384]
"""
import argparse

import torch
import torch.nn.functional as F

import tensorlogic as tl
from attention_gpt import compare, dense_cases
from harness import write_results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dims", default="64,128")
    parser.add_argument("--lengths", default="1024,4096,16384")
    args = parser.parse_args()
    rows = []
    for d in map(int, args.dims.split(",")):
        for length in map(int, args.lengths.split(",")):
            for causal in (True, False):
                shape = (16384 // length, 2048 // d, length, d)
                libs = {"torch": (dense_cases(torch, F.scaled_dot_product_attention, *shape, causal),
                                  torch.cuda.synchronize),
                        "tl": (dense_cases(tl, tl.scaled_dot_product_attention, *shape, causal), tl.cuda.synchronize)}
                rows += compare(libs, args.rounds, shape, causal)
                del libs
    print(f"{'d':>4} {'L':>6} {'mask':>7} {'forward':>8} {'fwd+bwd':>8}")
    for i in range(0, len(rows), 2):
        forward, both = rows[i], rows[i + 1]
        b, h, t, d = forward["shape"]
        print(f"{d:4d} {t:6d} {'causal' if forward['causal'] else 'full':>7} {forward['torch_over_tl']:8.3f} "
              f"{both['torch_over_tl']:8.3f}")
    device = tl.cuda.get_device_name()
    print("wrote", write_results("attention_bars_" + device.replace(" ", "_"), rows,
                                 {"device": device, "torch": torch.__version__, "rounds": args.rounds}))


if __name__ == "__main__":
    main()
