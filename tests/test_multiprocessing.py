"""tl.multiprocessing and shared memory (Tensor.share_memory_, is_shared, Module.share_memory) against PyTorch's
torch.multiprocessing: the same calls on the same f16 data give the same values and the same sharing (a write on
one side of a Queue or a forked process shows on the other), and what cannot cross a process boundary is refused
with PyTorch's errors or a typed one. Processes are forked here (fast); tests/programs/test_programs_scripts.py
spawns them in the mnist_hogwild program."""
import multiprocessing
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic.errors import DeviceError

import mp_workers


def _f16(rng, *shape):
    return rng.standard_normal(shape).astype(np.float16)


def test_share_memory_keeps_the_tensor_and_its_values(rng):
    x = _f16(rng, 3, 4)
    for lib in (torch, tl):
        t = lib.tensor(x)
        version = t._version
        assert not t.is_shared() and t.share_memory_() is t and t.is_shared()
        assert t[1:].is_shared() and t._version == version  # a view of shared memory is shared too
        np.testing.assert_array_equal(np.asarray(t, dtype=np.float16), x)
        assert t.share_memory_() is t  # a no-op the second time
    i = tl.tensor(rng.integers(-5, 5, (2, 3))).share_memory_()
    b = (tl.tensor(x) > 0).share_memory_()
    assert i.dtype == tl.int64 and b.dtype == tl.bool and i.is_shared() and b.is_shared()
    np.testing.assert_array_equal(b.numpy(), x > 0)
    # over numpy's memory, a view made first: the whole storage moves, the view with it, and numpy keeps its copy
    base = x.copy()
    t = tl.from_numpy(base)
    view = t[1:, 2:]
    t.share_memory_()
    assert view.is_shared() and view.data_ptr() == t.data_ptr() + 6 * 2
    t.fill_(0)
    np.testing.assert_array_equal(view.numpy(), 0)
    np.testing.assert_array_equal(base, x)


def test_module_share_memory_moves_parameters_buffers_and_grads_in_place(rng):
    model = tl.nn.Sequential(tl.nn.Linear(4, 3), tl.nn.BatchNorm1d(3))
    model(tl.tensor(_f16(rng, 5, 4))).sum().backward()
    params = list(model.parameters())
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    assert model.share_memory() is model and list(model.parameters()) == params
    assert all(t.is_shared() for t in list(model.parameters()) + list(model.buffers()))
    assert all(p.grad.is_shared() for p in params)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    # an optimizer made afterwards updates the shared memory in place
    weight = model[0].weight
    address = weight.data_ptr()
    tl.optim.SGD(model.parameters(), lr=0.5).step()
    assert weight.data_ptr() == address and weight.is_shared()
    np.testing.assert_allclose(weight.numpy(), before["0.weight"] - 0.5 * weight.grad.numpy(), atol=2e-3)


def _queue_round_trip(lib, tensors):
    """What comes out of a torch.multiprocessing Queue in this process for `tensors` put in."""
    queue = lib.multiprocessing.Queue()
    queue.put(tensors)
    return queue.get(timeout=30)


def test_a_queue_hands_over_the_same_memory(rng):
    x = _f16(rng, 4, 3)
    for lib in (torch, tl):
        t = lib.tensor(x)
        p = lib.nn.Parameter(lib.tensor(x))
        view = t[1:, ::2]
        got_t, got_p, got_view = _queue_round_trip(lib, (t, p, view))
        assert t.is_shared() and p.is_shared()  # moved to shared memory in place by the send, as PyTorch does
        assert type(got_p) is type(p) and got_p.requires_grad and not got_t.requires_grad
        assert got_view.shape == view.shape and got_view.stride() == view.stride()
        np.testing.assert_array_equal(np.asarray(got_view.detach(), dtype=np.float16), x[1:, ::2])
        got_t.mul_(2)  # a write on one side shows on the other
        np.testing.assert_array_equal(np.asarray(view, dtype=np.float16), 2 * x[1:, ::2])
        with lib.no_grad():
            p.add_(1)
        np.testing.assert_array_equal(np.asarray(got_p.detach(), dtype=np.float16), (x + np.float16(1)))


def _add_ones(shared, done):
    with tl.no_grad():
        shared.add_(1)
    done.set()


def test_a_forked_process_writes_into_the_parent_tensor(rng):
    x = _f16(rng, 6)
    t = tl.tensor(x).share_memory_()
    context = multiprocessing.get_context("fork")
    done = context.Event()
    worker = context.Process(target=_add_ones, args=(t, done))
    worker.start()
    worker.join(60)
    assert worker.exitcode == 0 and done.is_set()
    np.testing.assert_array_equal(t.numpy(), x + np.float16(1))


def test_what_cannot_cross_a_process_boundary_is_refused(rng):
    x = tl.tensor(_f16(rng, 3), requires_grad=True)
    for y in (torch.tensor(x.detach().numpy(), requires_grad=True) * 2, x * 2):
        with pytest.raises(RuntimeError, match="non-leaf tensor which requires_grad"):
            ForkingPickler.dumps(y)  # what a Queue's feeder thread does (the error goes to its stderr there)
    assert tl.multiprocessing.get_sharing_strategy() == "file_descriptor"
    assert tl.multiprocessing.get_all_sharing_strategies() == {"file_descriptor"}
    with pytest.raises(ValueError, match="file_system"):
        tl.multiprocessing.set_sharing_strategy("file_system")
    assert tl.multiprocessing.Process is multiprocessing.Process  # every name of multiprocessing is there
    assert set(multiprocessing.__all__) <= set(tl.multiprocessing.__all__)


@pytest.mark.parametrize("what", ["tensor", "module"])
def test_gpu_tensors_are_refused_with_a_typed_error(device, what):
    if device == "cpu":
        pytest.skip("a GPU's memory; CPU tensors are shared")
    t = tl.zeros(3, device=device)
    with pytest.raises(DeviceError, match="only CPU tensors"):
        t.share_memory_() if what == "tensor" else tl.nn.Linear(2, 2).to(device).share_memory()


def test_spawn_runs_each_rank_over_shared_memory():
    """Forked here (spawned processes import the library again: seconds on a loaded machine; the mnist_hogwild
    program spawns its trainers). PyTorch's start_processes is spawn's body (its spawn with fork waits seconds)."""
    for run in (torch.multiprocessing.start_processes, tl.multiprocessing.spawn, tl.multiprocessing.start_processes):
        lib = torch if run is torch.multiprocessing.start_processes else tl
        shared = lib.zeros(2).share_memory_()
        assert run(mp_workers.write_rank, args=(shared,), nprocs=2, start_method="fork") is None
        np.testing.assert_array_equal(np.asarray(shared), [1, 2])
    context = tl.multiprocessing.start_processes(mp_workers.write_rank, args=(tl.zeros(2),), nprocs=2, join=False,
                                                 start_method="fork")
    assert len(context.pids()) == 2
    while not context.join(timeout=30):
        pass


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_spawn_raises_what_failed_in_a_process(how):
    """As torch.multiprocessing.spawn (its messages and attributes; PyTorch itself is not run here: it waits seconds
    for the other processes before raising): the traceback of an exception, or the exit code, and which process."""
    mp = tl.multiprocessing
    expected = mp.ProcessRaisedException if how == "raise" else mp.ProcessExitedException
    with pytest.raises(expected) as info:
        mp.spawn(mp_workers.fail_at, args=(1, how), nprocs=2, start_method="fork")
    assert info.value.error_index == 1 and info.value.error_pid > 0
    if how == "raise":
        assert "-- Process 1 terminated with the following error:" in str(info.value)
        assert "ValueError: process 1 fails" in str(info.value)
    else:
        assert str(info.value) == "process 1 terminated with exit code 3" and info.value.exit_code == 3
