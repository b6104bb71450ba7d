"""NCCL all-reduce on GPUs: tl.distributed's nccl backend against torch.distributed's on the same GPUs,
sizes and float16 tensors, and the float16 path that rounds once (exact_f16_all_reduce, which all_reduce
takes over more than two ranks) against NCCL's own all-reduce. Each rank times the pairs alternately,
waiting for both libraries' GPU work around every timing; bus bandwidth as nccl-tests counts it.

Run, one process per GPU: python3 -m tensorlogic.distributed.run --nproc-per-node 2 benchmarks/allreduce_nccl.py
     -> benchmarks/results/allreduce_nccl_<N>gpus.json (rank 0 writes it)"""
import os

import numpy as np
import torch
import torch.distributed as torch_dist

import tensorlogic as tl
import tensorlogic.distributed as dist
from tensorlogic.distributed.nccl_collectives import exact_f16_all_reduce
from tensorlogic.distributed.process_group import default_group

from harness import measure_pair, write_results


def main():
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = f"cuda:{local}"
    tl.set_default_device(dev)
    torch.cuda.set_device(local)
    dist.init_process_group("nccl")
    torch_dist.init_process_group("nccl", device_id=torch.device("cuda", local))  # MASTER_ADDR/PORT: the launcher
    n, rows = dist.get_world_size(), []

    def sync():
        tl.cuda.synchronize(dev)
        torch.cuda.synchronize(local)

    for mib in (1, 16, 256):
        elements = mib * 2 ** 20 // 2
        values = np.random.default_rng(mib).standard_normal(elements).astype(np.float16)  # the same on every rank:
        ours, theirs = tl.tensor(values, device=dev), torch.from_numpy(values).to(dev)  # AVG keeps it unchanged
        t_ours, t_torch = measure_pair(lambda: dist.all_reduce(ours, dist.ReduceOp.AVG),
                                       lambda: torch_dist.all_reduce(theirs, torch_dist.ReduceOp.AVG),
                                       repeat=10, sync=sync)
        def nccl_f16():  # NCCL's own float16 all-reduce, which all_reduce takes for two ranks
            default_group().nccl.all_reduce(ours.data_ptr(), ours.data_ptr(), elements, "float16", "avg",
                                            tl.cuda.current_stream(dev).cuda_stream)
        t_exact, t_nccl = measure_pair(lambda: exact_f16_all_reduce(default_group(), ours, "avg"), nccl_f16,
                                       repeat=10, sync=sync)
        bus = 2 * (n - 1) / n * elements * 2
        rows.append({"name": f"all_reduce float16 x{elements} ({mib} MiB), {n} GPUs", "tensorlogic": t_ours,
                     "torch_nccl": t_torch, "unit": "s", "peer": "torch_nccl", "ratio": t_torch / t_ours,
                     "target": 0.95 if mib == 256 else None, "meets_target": mib != 256 or t_torch / t_ours >= 0.95,
                     "bus_GBps_tensorlogic": bus / t_ours / 1e9, "bus_GBps_torch_nccl": bus / t_torch / 1e9,
                     "rounded_once_s": t_exact, "nccl_f16_s": t_nccl,
                     "bus_GBps_rounded_once": bus / t_exact / 1e9, "bus_GBps_nccl_f16": bus / t_nccl / 1e9})
    if dist.get_rank() == 0:
        name = torch.cuda.get_device_name(local)
        write_results(f"allreduce_nccl_{n}gpus", rows, {"torch": torch.__version__, "gpu": name})
        for r in rows:
            print(f"{r['name']}: tensorlogic {r['bus_GBps_tensorlogic']:.1f} GB/s, torch {r['bus_GBps_torch_nccl']:.1f}"
                  f" GB/s (ratio {r['ratio']:.2f}); rounded once {r['bus_GBps_rounded_once']:.1f} GB/s, "
                  f"nccl float16 {r['bus_GBps_nccl_f16']:.1f} GB/s")
    torch_dist.destroy_process_group()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
