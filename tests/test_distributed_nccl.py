"""tl.distributed on the nccl backend (CUDA tensors through NCCL, loaded with ctypes): the library itself, a
world of one in this process on one GPU, and two processes with a GPU each. Each test says why it is
skipped where NCCL, CUDA, a second GPU or MPI (the launcher) is missing."""
import datetime
import re
import shutil
import time

import numpy as np
import pytest

import tensorlogic as tl
import tensorlogic.distributed as dist
from tensorlogic.distributed import nccl
from tensorlogic.distributed.nccl_collectives import exact_f16_all_reduce
from tensorlogic.distributed.process_group import default_group
from tensorlogic.distributed.run import find_mpiexec
from tensorlogic.nn.parallel import DistributedDataParallel
from dist_workers.checks import check_collectives, check_overlap, launch

HAS_CUDA = "cuda" in tl.available_devices()
needs_library = pytest.mark.skipif(not nccl.is_loadable(), reason="libnccl.so.2 not found (pip install "
                                   "nvidia-nccl-cu12, as PyTorch's CUDA build does)")
needs_nccl = pytest.mark.skipif(not (HAS_CUDA and nccl.is_loadable()),
                                reason="needs a CUDA device and libnccl.so.2")


def _mpiexec():
    try:
        return find_mpiexec()
    except FileNotFoundError:
        return shutil.which("mpiexec")


@needs_library
def test_library_loads_and_makes_ids():
    assert nccl.version() >= (2, 10, 0)  # ncclAvg
    a, b = nccl.unique_id(), nccl.unique_id()
    assert len(a) == len(b) == 128 and a != b


def test_stream_of_a_device():
    if not HAS_CUDA:
        with pytest.raises(tl.DeviceError):
            tl.cuda.current_stream().cuda_stream
        return
    stream = tl.cuda.current_stream(0)
    assert stream.device == tl.device("cuda:0") and stream.cuda_stream != 0
    assert tl.cuda.default_stream(0).cuda_stream == stream.cuda_stream  # one stream per device
    stream.synchronize()


@pytest.fixture
def nccl_world(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    dist.init_process_group("nccl")
    yield "cuda:0"
    dist.destroy_process_group()


@needs_nccl
def test_world_of_one_on_one_gpu(nccl_world, rng):
    dev = nccl_world
    assert (dist.get_backend(), dist.get_rank(), dist.get_world_size()) == ("nccl", 0, 1)
    a = tl.tensor(rng.standard_normal((1024, 1024)).astype(np.float16), device=dev)
    b = a @ a  # still running when the gather is queued: the stream must order them
    out = tl.empty(1024, 1024, device=dev)
    pointer = b.data_ptr()
    dist.all_gather_into_tensor(out, b)
    dist.all_reduce(b, op=dist.ReduceOp.AVG)
    assert b.data_ptr() == pointer  # in place, zero-copy
    np.testing.assert_array_equal(out.numpy(), b.numpy())
    np.testing.assert_allclose(b.numpy().astype(np.float64), (a.numpy().astype(np.float64) @ a.numpy()), rtol=2e-2,
                               atol=0.5)
    for dtype, values in ((tl.float16, rng.standard_normal(7)), (tl.int32, rng.integers(-9, 9, 7))):
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX, dist.ReduceOp.MIN, dist.ReduceOp.PRODUCT):
            t = tl.tensor(values, dtype=dtype, device=dev)
            work = dist.all_reduce(t, op=op, async_op=True)
            assert work.wait(datetime.timedelta(seconds=30))  # the host waits (torch's blocking wait)
            np.testing.assert_array_equal(t.numpy(), tl.tensor(values, dtype=dtype).numpy())
            tl.cuda.synchronize(dev)
            assert work.is_completed()
    outs = [tl.zeros(3, device=dev)]
    src = tl.tensor(rng.standard_normal(3), device=dev)
    dist.all_gather(outs, src)
    dist.broadcast(src, 0)
    rs = tl.zeros(3, device=dev)
    dist.reduce_scatter(rs, [src])
    np.testing.assert_array_equal(outs[0].numpy(), src.numpy())
    np.testing.assert_array_equal(rs.numpy(), src.numpy())
    dist.barrier()
    values = rng.standard_normal(7).astype(np.float16)
    odd = tl.tensor(values, device=dev)  # the >2-rank float16 path, on one rank
    exact_f16_all_reduce(default_group(), odd, "avg")
    np.testing.assert_array_equal(odd.numpy(), values)
    with pytest.raises(tl.DeviceError, match="takes tensors on cuda:0"):
        dist.all_reduce(tl.zeros(2, device="cpu"))
    with pytest.raises(ValueError, match="AVG needs a floating"):
        dist.all_reduce(tl.zeros(2, dtype=tl.int32, device=dev), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="needs src"):
        dist.recv(tl.zeros(2, device=dev))


@needs_nccl
def test_ddp_on_one_gpu_equals_plain_backward(nccl_world, rng):
    dev = nccl_world
    tl.manual_seed(int(rng.integers(2 ** 30)))
    plain = tl.nn.Sequential(tl.nn.Linear(8, 16), tl.nn.Tanh(), tl.nn.Linear(16, 4)).to(dev)
    model = DistributedDataParallel(tl.nn.Sequential(tl.nn.Linear(8, 16), tl.nn.Tanh(), tl.nn.Linear(16, 4)).to(dev),
                                    bucket_cap_mb=2 ** -20)
    model.module.load_state_dict(plain.state_dict())
    x = tl.tensor(rng.standard_normal((5, 8)).astype(np.float16), device=dev)
    for net in (model, plain):
        net(x).square().sum().backward()
    for p, q in zip(model.module.parameters(), plain.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())  # the average of one rank is itself


needs_two = pytest.mark.skipif(not (HAS_CUDA and nccl.is_loadable() and tl.cuda.device_count() >= 2
                                    and dist.is_mpi_available() and _mpiexec() is not None),
                               reason="needs two CUDA devices, libnccl.so.2, mpi4py and the mpich wheel (the "
                                      "launcher's mpiexec, the NCCL id's broadcast)")


@needs_two
def test_collectives_on_two_gpus(tmp_path, rng):
    check_collectives(tmp_path, int(rng.integers(2 ** 30)), 2, "nccl")


@needs_two
def test_ddp_overlap_on_two_gpus(tmp_path, rng):
    check_overlap(tmp_path, int(rng.integers(2 ** 30)), 2, "nccl")


@needs_two
def test_dead_rank_gives_typed_error_on_gpus(tmp_path):
    start = time.monotonic()
    done = launch(2, "dead_rank_worker.py", "nccl", timeout=120)
    assert time.monotonic() - start < 60
    assert done.returncode != 0
    assert re.findall(r"rank (\d): DistBackendError", done.stdout) == ["0"], (done.stdout, done.stderr[-3000:])
