"""CPU all-reduce: tl.distributed (MPI, float16 summed in float32) against torch.distributed's gloo on the same
ranks, sizes and float16 tensors; each rank times both, alternately (harness.measure_pair).

Run: python -m tensorlogic.distributed.run --nproc-per-node 2 benchmarks/allreduce_cpu.py
     -> benchmarks/results/allreduce_cpu.json (rank 0 writes it)"""
import os

import numpy as np
import torch
import torch.distributed as torch_dist

import tensorlogic as tl
import tensorlogic.distributed as dist

from harness import measure_pair, write_results


def main():
    tl.set_default_device("cpu")
    dist.init_process_group("mpi")
    torch_dist.init_process_group("gloo")  # MASTER_ADDR/MASTER_PORT from the launcher
    n, rows = dist.get_world_size(), []
    for elements in (2 ** 14, 2 ** 18, 2 ** 22):
        values = np.random.default_rng(elements).standard_normal(elements).astype(np.float16)
        ours, theirs = tl.from_numpy(values.copy()), torch.from_numpy(values.copy())
        t_ours, t_torch = measure_pair(lambda: dist.all_reduce(ours), lambda: torch_dist.all_reduce(theirs),
                                       repeat=5)
        bus = 2 * (n - 1) / n * elements * 2  # bytes of float16 a ring moves per rank (nccl-tests' bus bandwidth)
        rows.append({"name": f"all_reduce float16 x{elements} ({elements * 2 // 1024} KiB), {n} ranks",
                     "tensorlogic": t_ours, "torch_gloo": t_torch, "unit": "s", "peer": "torch_gloo",
                     "ratio": t_torch / t_ours, "target": None, "meets_target": True,
                     "bus_GBps_tensorlogic": bus / t_ours / 1e9, "bus_GBps_torch_gloo": bus / t_torch / 1e9})
    if dist.get_rank() == 0:
        write_results("allreduce_cpu", rows, {"torch": torch.__version__, "load_average": os.getloadavg()[0]})
        for r in rows:
            print(f"{r['name']}: tensorlogic {r['tensorlogic'] * 1e3:.2f} ms, gloo {r['torch_gloo'] * 1e3:.2f} ms, "
                  f"ratio {r['ratio']:.2f}")
    torch_dist.destroy_process_group()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
