"""float16 all-reduce on MPI: float32 on the wire (what tl.distributed does: each rank widens, MPI sums
float32 buffers, the result is rounded once) against float16 on the wire with float32 arithmetic in the
reduction (a user-defined MPI op that widens both operands, adds and rounds, so every partial sum that
travels between ranks is rounded to float16). Accuracy and time, each rank timing both alternately.

Run: python -m tensorlogic.distributed.run --nproc-per-node N benchmarks/allreduce_f16_wire.py
     -> benchmarks/results/allreduce_f16_wire_<N>ranks.json (rank 0 writes it)"""
import os

import numpy as np
from mpi4py import MPI

import tensorlogic as tl
import tensorlogic.distributed as dist

from harness import measure_pair, write_results


def _f16_sum(inbuf, inoutbuf, datatype):
    a = np.frombuffer(inbuf, np.float16)
    b = np.frombuffer(inoutbuf, np.float16)
    np.add(a, b, out=b, dtype=np.float32, casting="unsafe")  # float32 arithmetic, float16 result


F16_SUM = None


def f16_wire(values, comm):
    out = np.empty_like(values)
    comm.Allreduce(values.view(np.uint16), out.view(np.uint16), op=F16_SUM)
    return out


def f32_wire(values):
    t = tl.from_numpy(values.copy())
    dist.all_reduce(t)
    return t.numpy()


def gradients(rng, n, elements):
    """n ranks' gradients: normal values scaled by 10^-4..1 per element, as gradients of layers differ."""
    return [(rng.standard_normal(elements) * 10.0 ** rng.uniform(-4, 0, elements)).astype(np.float16)
            for _ in range(n)]


def accuracy(fn, per_rank, rank):
    exact = np.sum([g.astype(np.float64) for g in per_rank], axis=0).astype(np.float16)
    got = fn(per_rank[rank])
    ulps = np.abs(got.view(np.int16).astype(np.int64) - exact.view(np.int16).astype(np.int64))
    return {"wrong_fraction": float(np.mean(ulps > 0)), "max_ulps": int(ulps.max())}


def main():
    global F16_SUM
    tl.set_default_device("cpu")
    dist.init_process_group("mpi")
    comm, rank, n = MPI.COMM_WORLD, dist.get_rank(), dist.get_world_size()
    F16_SUM = MPI.Op.Create(_f16_sum, commute=True)
    rows = []
    small = np.full(8, 2.0 ** -12, np.float16) if rank else np.ones(8, np.float16)  # 1 + (n-1) * 2^-12
    small_f32, small_f16 = f32_wire(small)[0], f16_wire(small, comm)[0]
    rng = np.random.default_rng(1234)
    for elements in (2 ** 16, 2 ** 20, 2 ** 22):
        per_rank = gradients(rng, n, elements)
        mine = per_rank[rank]
        t32, t16 = measure_pair(lambda: f32_wire(mine), lambda: f16_wire(mine, comm), repeat=5)
        rows.append({"name": f"all_reduce float16 x{elements} ({elements * 2 // 1024} KiB), {n} ranks",
                     "f32_wire": t32, "f16_wire_f32_reduction": t16, "unit": "s", "peer": "f16_wire_f32_reduction",
                     "ratio": t16 / t32, "target": None, "meets_target": True,
                     "accuracy_f32_wire": accuracy(f32_wire, per_rank, rank),
                     "accuracy_f16_wire": accuracy(lambda v: f16_wire(v, comm), per_rank, rank)})
    if rank == 0:
        extra = {"load_average": os.getloadavg()[0], "ranks": n,
                 "small_gradients": {"exact": float(np.float16(1 + (n - 1) * 2 ** -12)), "f32_wire": float(small_f32),
                                     "f16_wire": float(small_f16)}}
        write_results(f"allreduce_f16_wire_{n}ranks", rows, extra)
        print(extra)
        for r in rows:
            print(f"{r['name']}: f32 wire {r['f32_wire'] * 1e3:.2f} ms, "
                  f"f16 wire {r['f16_wire_f32_reduction'] * 1e3:.2f} ms; "
                  f"wrong elements f32 wire {r['accuracy_f32_wire']}, f16 wire {r['accuracy_f16_wire']}")
    F16_SUM.Free()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
