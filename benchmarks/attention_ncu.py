"""One causal attention forward and backward at GPT-2 small's shape (B 8, H 12, L 1024, d 64) for a profiler to
catch: run under `ncu -k regex:sm90a --launch-count 2 --set full python3 benchmarks/attention_ncu.py`, it sees the
Hopper forward (keeping the log-sum-exps) and backward kernels once each. Options: --batch --heads --length --dim."""
import argparse

import tensorlogic as tl


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--dim", type=int, default=64)
    args = parser.parse_args()
    shape = (args.batch, args.heads, args.length, args.dim)
    q, k, v = (tl.randn(*shape, device="cuda").requires_grad_() for _ in range(3))
    tl.scaled_dot_product_attention(q, k, v, is_causal=True).backward(tl.randn(*shape, device="cuda"))
    tl.cuda.synchronize()


if __name__ == "__main__":
    main()
