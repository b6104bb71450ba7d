"""tl.distributed, DistributedDataParallel and DistributedSampler with 2-4 processes on this machine
(loopback MPI through tensorlogic.distributed.run): collectives against numpy, DDP training against
single-process training on the concatenated batch, a dead rank giving the others a typed error."""
import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="tl.distributed needs mpi4py (pip install 'tensorlogic[distributed]')")

import tensorlogic as tl  # noqa: E402
from tensorlogic.distributed import run  # noqa: E402
from dist_workers import ddp_worker  # noqa: E402
from dist_workers.collectives_worker import inputs  # noqa: E402

WORKERS = pathlib.Path(__file__).parent / "dist_workers"


def launch(nproc, script, *args, timeout=60):
    """Runs `script` on nproc ranks through the launcher; returns the CompletedProcess."""
    cmd = [sys.executable, "-m", "tensorlogic.distributed.run", "--nproc-per-node", str(nproc),
           str(WORKERS / script)] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ranks(out, nproc):
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(nproc)]


def f16(x):
    return np.asarray(x, np.float64).astype(np.float16)


def test_collectives_match_numpy(tmp_path, rng):
    nproc, seed = 4, int(rng.integers(2 ** 30))
    done = launch(nproc, "collectives_worker.py", seed, tmp_path)
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
        # 1 + 3 * 2^-12 summed in float32 and rounded once is 1 + 2^-10; float16 partial sums would stay at 1
        assert got[r]["all_reduce_small"][0] == np.float16(1 + 2 ** -10)
    np.testing.assert_array_equal(got[0]["senders"], np.arange(1, nproc))


def test_ddp_equals_single_process_training(tmp_path, rng, cpu_default):
    nproc, seed = 4, int(rng.integers(2 ** 30))
    done = launch(nproc, "ddp_worker.py", seed, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    got = ranks(tmp_path, nproc)
    tl.manual_seed(seed)  # rank 0's initialisation, which DDP broadcasts
    model = ddp_worker.MLP(unused=True)
    xs, ys = ddp_worker.data(seed)

    def step(s, x, y):
        tl.nn.functional.mse_loss(model(tl.from_numpy(x.copy())), tl.from_numpy(y.copy())).backward()
    history = ddp_worker.train(model, xs, ys, step)
    for s, want in enumerate(history):
        for name, value in want.items():
            for r in range(nproc):
                np.testing.assert_array_equal(got[r][f"{s}/{name}"], got[0][f"{s}/{name}"])  # replicas agree
            np.testing.assert_allclose(got[0][f"{s}/{name}"].astype(np.float64), value.astype(np.float64),
                                       rtol=2e-3, atol=1e-3, err_msg=f"step {s} {name}")  # local-only: 4e-2 off
    np.testing.assert_array_equal(got[0]["extra_grad"], 0)  # find_unused_parameters: reduced as zeros
    assert "find_unused_parameters=True" in str(got[0]["strict_error"])


def test_distributed_sampler_matches_torch(rng):
    torch = pytest.importorskip("torch")
    n = int(rng.integers(5, 40))
    for replicas in (1, 3, 4):
        for drop_last in (False, True):
            theirs = [list(torch.utils.data.DistributedSampler(range(n), replicas, r, shuffle=False,
                                                               drop_last=drop_last)) for r in range(replicas)]
            ours = [list(tl.utils.data.DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
                    for r in range(replicas)]
            assert ours == theirs
            shuffled = [tl.utils.data.DistributedSampler(range(n), replicas, r, seed=7, drop_last=drop_last)
                        for r in range(replicas)]
            first = [list(s) for s in shuffled]
            assert [len(s) for s in shuffled] == [len(t) for t in theirs] == [len(f) for f in first]
            visited = sorted(sum(first, []))
            if drop_last:
                assert len(set(visited)) == len(visited) == len(theirs[0]) * replicas
            else:
                assert set(visited) == set(range(n))
            for s in shuffled:
                s.set_epoch(1)
            assert [list(s) for s in shuffled] != first or n < 3
    with pytest.raises(ValueError, match="Invalid rank"):
        tl.utils.data.DistributedSampler(range(4), num_replicas=2, rank=2)


def test_dead_rank_gives_typed_error(tmp_path):
    start = time.monotonic()
    done = launch(3, "dead_rank_worker.py", timeout=60)
    elapsed = time.monotonic() - start
    assert elapsed < 30, elapsed
    assert done.returncode != 0
    failed = sorted(re.findall(r"rank (\d): DistBackendError", done.stdout))  # the ranks' lines may interleave
    assert failed == ["0", "2"], (done.stdout, done.stderr[-3000:])


def test_uninitialized_group_raises():
    with pytest.raises(tl.distributed.DistError, match="not been initialized"):
        tl.distributed.get_rank()
    with pytest.raises(ValueError, match="unknown backend"):
        tl.distributed.init_process_group("carrier-pigeon")
    with pytest.raises(tl.distributed.DistError, match="nccl backend is not implemented"):
        tl.distributed.init_process_group("nccl")


def test_world_of_one_checks_arguments(cpu_default, monkeypatch):
    """A process started alone is a world of one (MPI's singleton): collectives work, bad input is typed."""
    dist = tl.distributed
    for name in ("WORLD_SIZE", "RANK"):
        monkeypatch.delenv(name, raising=False)
    dist.init_process_group("gloo")
    try:
        assert dist.is_initialized() and (dist.get_rank(), dist.get_world_size()) == (0, 1)
        t = tl.tensor([1.5, -2.0])
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        np.testing.assert_array_equal(t.numpy(), np.float16([1.5, -2.0]))
        with pytest.raises(dist.DistError, match="already initialized"):
            dist.init_process_group("mpi")
        with pytest.raises(TypeError, match="expected a Tensor"):
            dist.all_reduce(np.ones(2))
        with pytest.raises(ValueError, match="AVG needs a floating"):
            dist.all_reduce(tl.tensor([1, 2], dtype=tl.int32), op=dist.ReduceOp.AVG)
        with pytest.raises(ValueError, match="must hold 1 tensors"):
            dist.all_gather([tl.zeros(2), tl.zeros(2)], tl.zeros(2))
        with pytest.raises(ValueError, match="must hold 1 inputs"):
            dist.all_gather_into_tensor(tl.zeros(3), tl.zeros(2))
        with pytest.raises(ValueError, match="contiguous"):
            dist.broadcast(tl.zeros(3, 2).t(), 0)
        if "cuda" in tl.available_devices():
            with pytest.raises(tl.DeviceError, match="CPU tensors"):
                dist.all_reduce(tl.zeros(2, device="cuda"))
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(dist.DistError, match="MPI's world has 1"):
        dist.init_process_group("mpi")


def test_launcher_takes_torchruns_flags():
    args = run.parse_args(["--nproc_per_node", "3", "--master-port", "1234", "-m", "pkg.train", "--lr", "0.1"])
    cmd = run.command(args)
    assert pathlib.Path(cmd[0]).name.startswith("mpiexec") and cmd[1:4] == ["-disable-auto-cleanup", "-n", "3"]
    assert cmd[4:] == [sys.executable, "-m", "tensorlogic.distributed.worker", "-m", "pkg.train", "--lr", "0.1"]
    with pytest.raises(SystemExit):
        run.parse_args(["--nnodes", "2", "train.py"])


@pytest.mark.parametrize("nproc", [2, 3])
def test_ddp_buckets_start_during_backward_and_equal_the_plain_path(tmp_path, rng, nproc):
    seed = int(rng.integers(2 ** 30))
    done = launch(nproc, "overlap_worker.py", seed, tmp_path)
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
