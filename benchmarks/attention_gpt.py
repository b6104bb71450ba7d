"""scaled_dot_product_attention at GPT-2 small's training shape (B 8, H 12, L 1024, d 64, causal), beside
PyTorch's F.scaled_dot_product_attention (its best backend on the GPU) in one process.

q, k and v are made as the model makes them (benchmarks/gpt_step.py): split from one [B, L, 3C] projection,
viewed as [B, L, H, d] and transposed to [B, H, L, d] (batch and head strides that do not nest). Timed:
  forward          the attention alone, no graph recorded
  forward+backward the model's attention block from the projection on: split, view, transpose,
                   attention, transpose back, contiguous, view, then the backward to the projection
and the same two for contiguous [B, H, L, d] operands (the layout most attention benchmarks use). With
--dropout P both libraries run with dropout_p=P (training's attention dropout: ours in the mma.sync kernels
with Philox, PyTorch's in its flash kernel), and the results file's name says so.
Each library is timed with a host clock around many queued calls, synchronised at both ends; the libraries
alternate for several rounds and the median of each is kept. Prints one JSON line per case with the ratio
PyTorch time / ours (above 1: we are faster) and writes benchmarks/results/attention_gpt_<shape>_<gpu>.json.
With --full the attention is unmasked (else causal, as the model's); the result's name then says full_.
Usage: python3 benchmarks/attention_gpt.py [--rounds N] [--batch B] [--heads H] [--length L] [--dim d] [--full]
       [--dropout P]
"""
import argparse
import functools
import json
import statistics

import torch
import torch.nn.functional as F

import tensorlogic as tl
from harness import measure, write_results


def timed(fn, iters, sync):
    """Milliseconds per call over one timing of `iters` calls, after 2 warm-up calls."""
    return measure(fn, repeat=1, number=iters, warmup=2, sync=sync) * 1e3


def dense_cases(lib, sdpa, b, h, t, d, causal):
    """Forward and forward+backward over contiguous [B, H, L, d] operands (fresh random values)."""
    kw = {"device": "cuda"} if lib is tl else {"device": "cuda", "dtype": torch.float16}
    dense = [lib.randn(b, h, t, d, **kw) for _ in range(3)]
    dense_leaves = [z.clone().requires_grad_() for z in dense]
    dense_grad = lib.randn(b, h, t, d, **kw)
    return {
        "forward, contiguous": lambda: sdpa(*dense, is_causal=causal),
        "forward+backward, contiguous": lambda: sdpa(*dense_leaves, is_causal=causal).backward(dense_grad),
    }


def cases(lib, sdpa, b, h, t, d, causal):
    """The four timed closures of one library over the same shapes (fresh random values)."""
    kw = {"device": "cuda"} if lib is tl else {"device": "cuda", "dtype": torch.float16}
    c = h * d
    x = lib.randn(b, t, 3 * c, **kw)
    grad = lib.randn(b, t, c, **kw)

    def heads(z):
        return [part.view(b, t, h, d).transpose(1, 2) for part in z.split(c, dim=2)]

    q, k, v = heads(x)
    leaf = x.clone().requires_grad_()

    def block():
        y = sdpa(*heads(leaf), is_causal=causal)
        y.transpose(1, 2).contiguous().view(b, t, c).backward(grad)

    return {"forward, split views": lambda: sdpa(q, k, v, is_causal=causal),
            "forward+backward, split views (model block)": block,
            **dense_cases(lib, sdpa, b, h, t, d, causal)}


def compare(libs, rounds, shape, causal, dropout_p=0.0):
    """Times each library's closures alternating for `rounds` rounds; one row per case with the medians and the
    ratio PyTorch time / ours. libs: {"torch" | "tl": (closures, synchronize)}."""
    times = {name: {case: [] for case in libs[name][0]} for name in libs}
    for _ in range(rounds):
        for name, (closures, sync) in libs.items():
            for case, fn in closures.items():
                times[name][case].append(timed(fn, 20 if case.startswith("forward,") else 10, sync))
    b, h, t, d = shape
    flops = 4 * b * h * t * t * d / (2 if causal else 1)  # causal: half the score matrix
    rows = []
    for case in times["tl"]:
        ours, theirs = statistics.median(times["tl"][case]), statistics.median(times["torch"][case])
        work = flops * (3.5 if "backward" in case else 1.0)  # the backward's five products: 2.5 times the forward
        rows.append({"case": case, "shape": shape, "causal": causal, "dropout_p": dropout_p, "tl_ms": round(ours, 4),
                     "torch_ms": round(theirs, 4),
                     "torch_over_tl": round(theirs / ours, 3), "tl_tflops": round(work / ours / 1e9, 1),
                     "torch_tflops": round(work / theirs / 1e9, 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--full", action="store_true", help="no causal mask")
    parser.add_argument("--dropout", type=float, default=0.0)
    args = parser.parse_args()
    causal = not args.full
    shape = (args.batch, args.heads, args.length, args.dim)
    torch_sdpa = functools.partial(F.scaled_dot_product_attention, dropout_p=args.dropout)
    tl_sdpa = functools.partial(tl.scaled_dot_product_attention, dropout_p=args.dropout)
    libs = {"torch": (cases(torch, torch_sdpa, *shape, causal), torch.cuda.synchronize),
            "tl": (cases(tl, tl_sdpa, *shape, causal), tl.cuda.synchronize)}
    rows = compare(libs, args.rounds, shape, causal, args.dropout)
    device = tl.cuda.get_device_name()
    print(json.dumps({"device": device, "torch": torch.__version__}))
    name = "attention_gpt_B{}_H{}_L{}_d{}_".format(*shape) + ("" if causal else "full_")
    name += (f"dropout{args.dropout}_" if args.dropout else "") + device.replace(" ", "_")
    print("wrote", write_results(name, rows, {"device": device, "torch": torch.__version__, "rounds": args.rounds}))


if __name__ == "__main__":
    main()
