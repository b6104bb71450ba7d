"""CPU suite: TensorLogic float16 against numpy and PyTorch CPU in the same process.

Run: python benchmarks/cpu_bench.py  -> benchmarks/results/cpu.json and cpu.png"""
import argparse
import sys

import numpy as np

import tensorlogic as tl
from harness import measure_pair, plot_ratios, write_results

try:
    import torch
except ImportError:  # PyTorch columns are skipped without it
    torch = None


def row(name, ours, peer, peer_name, target, unit="s", higher_is_better=False):
    """ratio > 1 means TensorLogic is better (faster, or more GFLOP/s)."""
    ratio = (ours / peer) if higher_is_better else (peer / ours)
    r = {"name": name, "tensorlogic": ours, peer_name: peer, "unit": unit, "peer": peer_name, "ratio": ratio,
         "target": target}
    r["meets_target"] = target is None or ratio >= target
    return r


def bench_matmul(rows, sizes, quick):
    for n in sizes:
        rng = np.random.default_rng(n)
        a16 = rng.standard_normal((n, n)).astype(np.float16)
        b16 = rng.standard_normal((n, n)).astype(np.float16)
        a32, b32 = a16.astype(np.float32), b16.astype(np.float32)
        ta, tb = tl.from_numpy(a16), tl.from_numpy(b16)
        flops = 2.0 * n ** 3
        repeat = 3 if quick else (5 if n >= 1024 else 9)
        ours, numpy_f32 = (flops / t / 1e9 for t in measure_pair(lambda: ta @ tb, lambda: a32 @ b32, repeat))
        target = 0.85 if n >= 1024 else None
        rows.append(row(f"matmul {n} GFLOP/s vs numpy f32", ours, numpy_f32, "numpy_float32", target, "GFLOP/s", True))
        if torch is not None:
            t32a, t32b = torch.from_numpy(a32), torch.from_numpy(b32)
            ours, torch_f32 = (flops / t / 1e9 for t in measure_pair(lambda: ta @ tb, lambda: t32a @ t32b, repeat))
            rows.append(row(f"matmul {n} GFLOP/s vs torch f32", ours, torch_f32, "torch_float32", None, "GFLOP/s", True))


def bench_elementwise(rows, n):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n).astype(np.float16)
    y = rng.standard_normal(n).astype(np.float16)
    tx, ty = tl.from_numpy(x), tl.from_numpy(y)
    cases = {"add": (lambda: tx + ty), "mul": (lambda: tx * ty), "exp": (lambda: tx.exp())}
    for op, ours_fn in cases.items():
        if torch is not None:
            px, py = torch.from_numpy(x), torch.from_numpy(y)
            peer = {"add": lambda: px + py, "mul": lambda: px * py, "exp": lambda: px.exp()}[op]
            rows.append(row(f"{op} 16M f16 vs torch f16", *measure_pair(ours_fn, peer), "torch_float16", 2.0))
        npeer = {"add": lambda: x + y, "mul": lambda: x * y, "exp": lambda: np.exp(x)}[op]
        rows.append(row(f"{op} 16M f16 vs numpy f16", *measure_pair(ours_fn, npeer), "numpy_float16", None))


def bench_ternary(rows, n):
    """The ternary kernel (where, fused affine) against PyTorch's own fused forms of the same ops."""
    if torch is None:
        return
    rng = np.random.default_rng(5)
    x, a, b = (rng.standard_normal(n).astype(np.float16) for _ in range(3))
    c = (rng.uniform(size=n) > 0.5).astype(np.float16)
    tx, ta, tb, tc = (tl.from_numpy(v) for v in (x, a, b, c))
    px, pa, pb = (torch.from_numpy(v) for v in (x, a, b))
    pc = torch.from_numpy(c) != 0
    rows.append(row("affine x*a+b 1M f16 vs torch addcmul f16",
                    *measure_pair(lambda: tl.fused.affine(tx, ta, tb), lambda: torch.addcmul(pb, px, pa), repeat=15),
                    "torch_float16", None))
    rows.append(row("where 1M f16 vs torch f16", *measure_pair(lambda: tl.where(tc, tx, ta), lambda: torch.where(pc, px, pa),
                                                              repeat=15), "torch_float16", None))


def bench_rows(rows):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4096, 4096)).astype(np.float16)
    tx = tl.from_numpy(x)
    x32 = x.astype(np.float32)
    rows.append(row("sum 4096x4096 vs numpy f32", *measure_pair(lambda: tx.sum(), lambda: x32.sum()),
                    "numpy_float32", None))

    def np_softmax():
        e = np.exp(x32 - x32.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    rows.append(row("softmax 4096x4096 vs numpy f32", *measure_pair(lambda: tl.softmax(tx, dim=1), np_softmax),
                    "numpy_float32", None))
    if torch is not None:
        px = torch.from_numpy(x)
        rows.append(row("sum 4096x4096 vs torch f16", *measure_pair(lambda: tx.sum(), lambda: px.sum()),
                        "torch_float16", None))
        rows.append(row("softmax 4096x4096 vs torch f16",
                        *measure_pair(lambda: tl.softmax(tx, dim=1), lambda: torch.softmax(px, dim=1)),
                        "torch_float16", None))


def bench_latency(rows):
    a = tl.from_numpy(np.random.default_rng(3).standard_normal(16).astype(np.float16))
    b = tl.from_numpy(np.random.default_rng(4).standard_normal(16).astype(np.float16))
    if torch is not None:
        pa, pb = torch.from_numpy(a.numpy().copy()), torch.from_numpy(b.numpy().copy())
        ours, peer = measure_pair(lambda: a + b, lambda: pa + pb, repeat=15, number=20000)
        # target: ours <= 1.5 x torch, i.e. ratio torch/ours >= 1/1.5
        rows.append(row("small add latency (16 elements) vs torch", ours, peer, "torch_float16", 1 / 1.5))


def memory_flat():
    """100,000 small ops in a loop: active bytes before and after must match."""
    a = tl.from_numpy(np.ones(8, np.float16))
    before = tl.memory.stats()["active_bytes"]
    x = a
    for _ in range(100_000):
        x = x + a
        x = x * 0.5
    del x
    after = tl.memory.stats()["active_bytes"]
    return {"active_bytes_before": before, "active_bytes_after": after, "flat": before == after}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (a smoke run)")
    args = parser.parse_args(argv)
    rows = []
    bench_matmul(rows, [256, 512] if args.quick else [256, 512, 1024, 2048], args.quick)
    bench_elementwise(rows, 1 << 20 if args.quick else 1 << 24)
    bench_ternary(rows, 1 << 20)
    bench_rows(rows)
    bench_latency(rows)
    mem = memory_flat()
    name = "cpu-quick" if args.quick else "cpu"
    path = write_results(name, rows, {"memory_100k_small_ops": mem, "torch": torch.__version__ if torch else None})
    plot = plot_ratios(name, rows, "TensorLogic CPU (float16) against peers, same run")
    for r in rows:
        mark = "" if r["target"] is None else ("  ok" if r["meets_target"] else "  BELOW TARGET")
        print(f"{r['name']:<45} ratio {r['ratio']:6.2f}{mark}")
    print(f"memory after 100k small ops: {mem}")
    print(f"wrote {path} and {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
