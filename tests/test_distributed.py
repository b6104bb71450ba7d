"""tl.distributed, DistributedDataParallel and DistributedSampler with 2-4 processes on this machine
(loopback MPI through tensorlogic.distributed.run): collectives against numpy, DDP training against
single-process training on the concatenated batch, a dead rank giving the others a typed error."""
import pathlib
import re
import sys
import time

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic.distributed import run
from dist_workers import ddp_worker
from dist_workers.checks import check_collectives, check_overlap, launch, ranks

if not tl.distributed.is_mpi_available():
    pytest.skip("tl.distributed's MPI engine needs mpi4py and an MPI library (pip install "
                "'tensorlogic[distributed]')", allow_module_level=True)

def test_collectives_match_numpy(tmp_path, rng):
    got = check_collectives(tmp_path, int(rng.integers(2 ** 30)), 4, "gloo")
    np.testing.assert_array_equal(got[0]["senders"], np.arange(1, 4))


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
    if "cuda" not in tl.available_devices():
        with pytest.raises(tl.distributed.DistError, match="nccl backend needs a CUDA device"):
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
    check_overlap(tmp_path, int(rng.integers(2 ** 30)), nproc, "gloo")
