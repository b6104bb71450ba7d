"""What test_distributed and test_distributed_nccl share: the launcher run of a worker script and the checks
of the collectives and DDP-overlap workers' results (against numpy and the non-overlapped path)."""
import pathlib
import subprocess
import sys

import numpy as np

from dist_workers.collectives_worker import inputs

WORKERS = pathlib.Path(__file__).parent


def launch(nproc, script, *args, timeout=60):
    """Runs `script` on nproc ranks through the launcher; returns the CompletedProcess."""
    cmd = [sys.executable, "-m", "tensorlogic.distributed.run", "--nproc-per-node", str(nproc),
           str(WORKERS / script)] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ranks(out, nproc):
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(nproc)]


def f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


def check_collectives(tmp_path, seed, nproc, backend):
    """Runs collectives_worker on nproc ranks of `backend` and checks every result against numpy."""
    done = launch(nproc, "collectives_worker.py", seed, tmp_path, backend)
    assert done.returncode == 0, done.stderr[-3000:]
    got = ranks(tmp_path, nproc)
    xs = [inputs(seed, r) for r in range(nproc)]
    wide = {k: np.stack([x[k].astype(np.float64) for x in xs]) for k in xs[0]}
    expected = {
        "all_reduce_f16_SUM": f16(wide["f"].sum(0)), "all_reduce_f16_AVG": f16(wide["f"].mean(0)),
        "all_reduce_f16_MAX": f16(wide["f"].max(0)), "all_reduce_f16_MIN": f16(wide["f"].min(0)),
        "all_reduce_f16_PRODUCT": f16(wide["near1"].prod(0)), "all_reduce_async": f16(wide["f"].sum(0)),
        "broadcast": xs[-1]["f"], "all_gather": np.stack([x["f"] for x in xs]),
        "all_gather_into_tensor": np.concatenate([x["f"] for x in xs]),
    }
    ints = np.stack([x["i"] for x in xs]).astype(np.int64)
    for name, fn in (("SUM", np.sum), ("MAX", np.max), ("MIN", np.min), ("PRODUCT", np.prod)):
        expected[f"all_reduce_i32_{name}"] = fn(ints, 0).astype(np.int32)  # wraps like int32 arithmetic
    rs = wide["rs"]
    for r in range(nproc):
        rows = slice(r * 8 // nproc, (r + 1) * 8 // nproc)
        want = dict(expected, ring=xs[(r - 1) % nproc]["f"],
                    reduce_scatter=f16(sum((x["f"] * np.float16(r + 1)).astype(np.float64) for x in xs)),
                    reduce_scatter_tensor_SUM=f16(rs.sum(0)[rows]), reduce_scatter_tensor_AVG=f16(rs.mean(0)[rows]),
                    reduce_scatter_tensor_MAX=f16(rs.max(0)[rows]))
        for name, value in want.items():
            exact = value.dtype == np.int32 or name in ("broadcast", "all_gather", "all_gather_into_tensor", "ring")
            tol = 0 if exact else 2e-3
            np.testing.assert_allclose(got[r][name].astype(np.float64), value.astype(np.float64), rtol=tol,
                                       atol=tol, err_msg=f"{name} on rank {r}")
            assert got[r][name].dtype == value.dtype, name
        # 1 + (n-1) * 2^-12 rounded once (4 ranks: 1 + 2^-10); float16 partial sums would stay at 1
        assert got[r]["all_reduce_small"][0] == np.float16(1 + (nproc - 1) * 2 ** -12)
        if backend == "nccl":
            assert got[r]["exact_small"][0] == np.float16(1 + (nproc - 1) * 2 ** -12)
            np.testing.assert_allclose(got[r]["exact_f16_SUM"].astype(np.float64), expected["all_reduce_f16_SUM"],
                                       rtol=2e-3, atol=2e-3)
    return got


def check_overlap(tmp_path, seed, nproc, backend):
    """Runs overlap_worker: DDP's buckets go out in order while backward runs, and its gradients equal plain
    backward followed by one all-reduce per gradient."""
    done = launch(nproc, "overlap_worker.py", seed, tmp_path, backend)
    assert done.returncode == 0, done.stderr[-3000:]
    for r, got in enumerate(ranks(tmp_path, nproc)):
        events = list(got["events"])
        launches = [i for i, e in enumerate(events) if e.startswith("launch")]
        # one bucket per parameter, in reverse order: fc3's bias (4), fc3's weight (128), ... fc1's weight (256)
        assert [events[i] for i in launches] == [f"launch {n}" for n in (4, 128, 32, 1024, 32, 256)], events
        hidden, end = events.index("hidden"), events.index("backward returned")
        assert launches[3] < hidden < launches[4] < launches[5] < end, events  # fc2, fc3 went out before fc1 ran
        for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"):
            np.testing.assert_allclose(got[f"ddp/{name}"].astype(np.float64), got[f"plain/{name}"].astype(np.float64),
                                       rtol=1e-3, atol=1e-7, err_msg=f"{name} on rank {r}")
