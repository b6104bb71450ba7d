"""Several GPUs in one process: ops on cuda:1 match the CPU backend, tensors move between GPUs (peer
copies ordered against both devices' queues), devices never mix silently, and each GPU has its own
memory statistics. Skipped unless at least two CUDA devices are present."""
import functools

import numpy as np
import pytest

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import assert_close_f16

pytestmark = pytest.mark.skipif(tl.cuda.device_count() < 2, reason="needs two CUDA devices")


def rng():
    return np.random.default_rng()


def f16(shape):
    return rng().standard_normal(shape).astype(np.float16)


def on_cpu(x):
    return tl.tensor(x, device="cpu")  # the oracle: the default device is a GPU here


close = functools.partial(assert_close_f16, atol=2e-3)


def test_ops_on_the_second_gpu_match_cpu():
    a, b, w = f16((96, 130)), f16((130, 70)), f16((130,))
    for dev in ("cuda:1", "cuda:0"):
        x, y = tl.tensor(a, device=dev), tl.tensor(b, device=dev)
        assert (x @ y).device == dev
        ca, cb = on_cpu(a), on_cpu(b)
        close(x @ y, ca @ cb, rtol=5e-3, atol=5e-2)
        close(F.softmax(x, -1), F.softmax(ca, -1))
        close(F.layer_norm(x, (130,), weight=tl.tensor(w, device=dev)), F.layer_norm(ca, (130,), weight=on_cpu(w)),
              rtol=5e-3, atol=5e-3)
        close(x.sum(0), ca.sum(0), rtol=5e-3, atol=5e-2)
        close(x.T[::2].exp(), ca.T[::2].exp())
    tl.manual_seed(7)
    r1 = tl.randn(1000, device="cuda:1")
    tl.manual_seed(7)
    r0 = tl.randn(1000, device="cpu")
    np.testing.assert_array_equal(r1.cpu().numpy(), r0.numpy())


def test_peer_copies_in_both_directions_keep_every_bit():
    a = f16((1 << 20,))
    t0 = tl.tensor(a, device="cuda:0")
    t1 = (t0 * 1).to("cuda:1")  # the source is still being written when the copy is queued
    assert t1.device == "cuda:1"
    np.testing.assert_array_equal(t1.cpu().numpy(), a)
    back = t1.to("cuda:0")
    np.testing.assert_array_equal(back.cpu().numpy(), a)
    m = f16((64, 48))
    view = tl.tensor(m, device="cuda:1").T[::3]  # non-contiguous source
    np.testing.assert_array_equal(view.to("cuda:0").cpu().numpy(), m.T[::3])


def test_source_freed_right_after_a_copy_is_not_overwritten_under_it():
    for _ in range(20):
        a = f16((1 << 18,))
        src = tl.tensor(a, device="cuda:0")
        dst = src.to("cuda:1")
        del src
        junk = tl.full((1 << 18,), 3.0, device="cuda:0")  # may reuse src's buffer at once
        np.testing.assert_array_equal(dst.cpu().numpy(), a)
        del junk


def test_devices_never_mix():
    x, y = tl.ones(4, device="cuda:0"), tl.ones(4, device="cuda:1")
    with pytest.raises(tl.DeviceError, match="one device"):
        x + y
    with pytest.raises(tl.DeviceError):
        tl.zeros(2, device=f"cuda:{tl.cuda.device_count()}")


def test_each_gpu_has_its_own_memory_statistics():
    before0, before1 = (tl.memory.stats(d)["active_bytes"] for d in ("cuda:0", "cuda:1"))
    big = tl.empty((1 << 20,), device="cuda:1")
    assert tl.memory.stats("cuda:1")["active_bytes"] >= before1 + (2 << 20)
    assert tl.memory.stats("cuda:0")["active_bytes"] == before0
    del big
    assert tl.memory.stats("cuda:1")["active_bytes"] == before1


def test_properties_and_events_per_gpu():
    for i in range(2):
        props = tl.cuda.get_device_properties(i)
        assert props.total_memory > 0 and props.major >= 7
        e = tl.cuda.Event(enable_timing=True, device=i)
        f = tl.cuda.Event(enable_timing=True, device=i)
        e.record()
        tl.ones((2048, 2048), device=f"cuda:{i}").sum()
        f.record()
        assert e.elapsed_time(f) >= 0.0


def test_training_step_on_the_second_gpu_matches_cpu():
    tl.manual_seed(3)
    cpu_model = tl.nn.Sequential(tl.nn.Linear(32, 64), tl.nn.GELU(), tl.nn.Linear(64, 8)).to("cpu")
    gpu_model = tl.nn.Sequential(tl.nn.Linear(32, 64), tl.nn.GELU(), tl.nn.Linear(64, 8)).to("cuda:1")
    gpu_model.load_state_dict({k: v.to("cuda:1") for k, v in cpu_model.state_dict().items()})
    x, target = f16((16, 32)), rng().integers(0, 8, 16).astype(np.int32)
    for model, dev in ((cpu_model, "cpu"), (gpu_model, "cuda:1")):
        opt = tl.optim.Adam(model.parameters(), lr=1e-2)
        loss = F.cross_entropy(model(tl.tensor(x, device=dev)), tl.tensor(target, device=dev))
        loss.backward()
        opt.step()
    for p, q in zip(cpu_model.parameters(), gpu_model.parameters()):
        assert q.device == "cuda:1"
        close(q, p, rtol=1e-2, atol=1e-2)


def test_dlpack_with_torch_on_the_second_gpu():
    torch = pytest.importorskip("torch")
    if torch.cuda.device_count() < 2:
        pytest.skip("torch sees fewer than two GPUs")
    a = torch.randn(256, 256, device="cuda:1", dtype=torch.float16)
    with torch.cuda.device(1):  # torch exports only tensors of its current device
        t = tl.from_dlpack(a)
    assert t.device == "cuda:1" and t.data_ptr() == a.data_ptr()
    u = torch.from_dlpack(t * 2)
    assert u.device == torch.device("cuda:1")
    np.testing.assert_array_equal(u.cpu().numpy(), (a * 2).cpu().numpy())


def test_data_parallel_over_two_gpus_matches_cpu():
    """nn.DataParallel splits the batch between cuda:0 and cuda:1 and sums the replicas' gradients into the
    module's own on cuda:0; a BatchNorm's running statistics follow the first replica's half, as PyTorch's."""
    def make():
        return tl.nn.Sequential(tl.nn.Linear(32, 64), tl.nn.BatchNorm1d(64), tl.nn.GELU(), tl.nn.Linear(64, 8))

    tl.manual_seed(5)
    cpu_model, gpu_model = make().to("cpu"), make().to("cuda:0")
    gpu_model.load_state_dict({k: v.to("cuda:0") for k, v in cpu_model.state_dict().items()})
    assert tl.nn.DataParallel(gpu_model).device_ids == [f"cuda:{i}" for i in range(tl.cuda.device_count())]
    wrapped = tl.nn.DataParallel(gpu_model, device_ids=[0, 1])
    x, target = f16((16, 32)), rng().integers(0, 8, 16).astype(np.int32)
    out = wrapped(tl.tensor(x, device="cuda:0"))
    assert out.device == "cuda:0" and out.shape == (16, 8)
    F.cross_entropy(out, tl.tensor(target, device="cuda:0")).backward()
    # The CPU reference runs the two halves as the replicas do (batch statistics per half), then sums.
    halves = [cpu_model(tl.tensor(part, device="cpu")) for part in (x[:8], x[8:])]
    close(out, tl.cat(halves), rtol=1e-2, atol=1e-2)
    F.cross_entropy(tl.cat(halves), tl.tensor(target, device="cpu")).backward()
    for p, q in zip(cpu_model.parameters(), gpu_model.parameters()):
        assert q.device == "cuda:0" and q.grad.device == "cuda:0"
        close(q.grad, p.grad, rtol=2e-2, atol=2e-2)
