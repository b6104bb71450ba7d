"""One rank of test_distributed's collectives run: random inputs from seed + rank, every collective, the
results saved to OUT/rank<r>.npz for the test to check against numpy. BACKEND (default gloo, CPU tensors)
may be nccl: tensors on cuda:LOCAL_RANK."""
import os
import sys

import numpy as np

import tensorlogic as tl
import tensorlogic.distributed as dist
from tensorlogic.distributed import ReduceOp
from tensorlogic.distributed.nccl_collectives import exact_f16_all_reduce
from tensorlogic.distributed.process_group import default_group


def inputs(seed, rank):
    """This rank's inputs (the test regenerates every rank's with the same function)."""
    rng = np.random.default_rng(seed + rank)
    return {"f": rng.standard_normal((3, 5)).astype(np.float16),
            "near1": rng.uniform(0.9, 1.1, (3, 5)).astype(np.float16),
            "i": rng.integers(-50, 50, (3, 5)).astype(np.int32),
            "rs": rng.standard_normal((4 * 2, 3)).astype(np.float16)}


def any_sender(rank, size, got):
    """Rank 0 receives an int32 from every other rank with src=None; recv returns who sent it."""
    if rank == 0:
        senders = []
        for _ in range(size - 1):
            t = tl.zeros(1, dtype=tl.int32)
            senders.append(dist.recv(t))
            assert int(t.numpy()[0]) == senders[-1], (t, senders)
        got["senders"] = np.array(sorted(senders))
    else:
        dist.send(tl.tensor([rank], dtype=tl.int32), dst=0)


def main(seed, out_dir, backend="gloo"):
    tl.set_default_device("cpu" if backend == "gloo" else f"cuda:{os.environ.get('LOCAL_RANK', '0')}")
    dist.init_process_group(backend, init_method="env://")
    rank, size = dist.get_rank(), dist.get_world_size()
    x, got = inputs(seed, rank), {}
    for op in ReduceOp:
        source = x["near1"] if op is ReduceOp.PRODUCT else x["f"]
        t = tl.tensor(source.copy())
        dist.all_reduce(t, op=op)
        got[f"all_reduce_f16_{op.name}"] = t.numpy().copy()
        if op is not ReduceOp.AVG:
            t = tl.tensor(x["i"].copy())
            dist.all_reduce(t, op=op)
            got[f"all_reduce_i32_{op.name}"] = t.numpy().copy()
    t = tl.tensor(x["f"].copy())
    work = dist.all_reduce(t, async_op=True)
    work.wait()
    got["all_reduce_async"] = t.numpy().copy()
    small = np.array([1.0 if rank == 0 else 2.0 ** -12], np.float16)  # below half of float16's step at 1.0
    t = tl.tensor(small)
    dist.all_reduce(t)
    got["all_reduce_small"] = t.numpy().copy()
    if backend == "nccl":  # the path of float16 SUM/AVG over more than 2 GPUs, run on as many as there are
        for name, source in (("exact_f16_SUM", x["f"]), ("exact_small", small)):
            t = tl.tensor(source.copy())
            exact_f16_all_reduce(default_group(), t, "sum")
            got[name] = t.numpy().copy()
    t = tl.tensor(x["f"].copy())
    dist.broadcast(t, src=size - 1)
    got["broadcast"] = t.numpy().copy()
    outs = [tl.zeros(3, 5) for _ in range(size)]
    dist.all_gather(outs, tl.tensor(x["f"].copy()))
    got["all_gather"] = np.stack([o.numpy() for o in outs])
    out = tl.zeros(size * 3, 5)
    dist.all_gather_into_tensor(out, tl.tensor(x["f"].copy()), async_op=True).wait()
    got["all_gather_into_tensor"] = out.numpy().copy()
    for op in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX):
        out = tl.zeros(8 // size, 3)
        dist.reduce_scatter_tensor(out, tl.tensor(x["rs"].copy()), op=op)
        got[f"reduce_scatter_tensor_{op.name}"] = out.numpy().copy()
    out = tl.zeros(3, 5)
    dist.reduce_scatter(out, [tl.tensor(x["f"] * np.float16(k + 1)) for k in range(size)])
    got["reduce_scatter"] = out.numpy().copy()
    t = tl.zeros(3, 5)
    if backend == "nccl":  # NCCL's send waits for the matching recv on one stream: even ranks send first
        for step in range(2):
            if (rank + step) % 2 == 0:
                dist.send(tl.tensor(x["f"].copy()), dst=(rank + 1) % size)
            else:
                dist.recv(t, src=(rank - 1) % size)
    else:
        request = dist.irecv(t, src=(rank - 1) % size)
        dist.send(tl.tensor(x["f"].copy()), dst=(rank + 1) % size)
        request.wait()
    got["ring"] = t.numpy().copy()
    if backend != "nccl":  # recv from any sender reports who sent (NCCL has no receive from any sender)
        any_sender(rank, size, got)
    dist.barrier()
    np.savez(f"{out_dir}/rank{rank}.npz", **got)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:])
