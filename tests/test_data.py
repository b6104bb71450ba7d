"""tl.utils.data against torch.utils.data: the same batches in the same order for deterministic samplers,
the same structure from default_collate, and the same argument errors."""
import collections
import threading

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import tensorlogic as tl
from tensorlogic.utils import data as tldata

from oracle import host


class Squares(tldata.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "y": i * i, "name": f"s{i}"}


class Stream(tldata.IterableDataset):
    def __iter__(self):
        return iter(range(11))


class TorchStream(tdata.IterableDataset):
    def __iter__(self):
        return iter(range(11))


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (7, True)])
def test_sequential_batches_match_torch(device, rng, batch_size, drop_last):
    x = rng.standard_normal((10, 3)).astype(np.float16)
    y = rng.integers(0, 5, 10).astype(np.int32)
    ours = tldata.DataLoader(tldata.TensorDataset(tl.tensor(x, device=device), tl.tensor(y, device=device)),
                             batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=batch_size,
                              drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want):
        assert gx.device == tl.device(device)
        np.testing.assert_array_equal(host(gx), wx.numpy())
        np.testing.assert_array_equal(host(gy), wy.numpy())


def test_subsets_of_tensor_datasets_batch_like_torch(device, rng):
    x = rng.standard_normal((20, 2)).astype(np.float16)
    ours = tldata.Subset(tldata.Subset(tldata.TensorDataset(tl.tensor(x, device=device)), list(range(19, -1, -1))),
                         [3, 0, 7, 7, 12])
    theirs = tdata.Subset(tdata.Subset(tdata.TensorDataset(torch.tensor(x)), list(range(19, -1, -1))), [3, 0, 7, 7, 12])
    for (got,), (want,) in zip(tldata.DataLoader(ours, batch_size=2), tdata.DataLoader(theirs, batch_size=2)):
        np.testing.assert_array_equal(host(got), want.numpy())


def test_default_collate_structure_matches_torch():
    ds = Squares(5)
    ours = next(iter(tldata.DataLoader(ds, batch_size=3)))
    theirs = next(iter(tdata.DataLoader(ds, batch_size=3)))
    assert set(ours) == set(theirs)
    np.testing.assert_array_equal(host(ours["x"]), theirs["x"].numpy())
    np.testing.assert_array_equal(host(ours["y"]), theirs["y"].numpy())
    assert ours["name"] == theirs["name"]
    Point = collections.namedtuple("Point", "a b")
    batch = [Point(1.5, (2, 3)), Point(2.5, (4, 5))]
    ours, theirs = tldata.default_collate(batch), tdata.default_collate(batch)
    assert type(ours) is Point and isinstance(ours.b, list) and isinstance(theirs.b, list)
    np.testing.assert_array_equal(host(ours.a), theirs.a.numpy())
    np.testing.assert_array_equal(host(ours.b[1]), theirs.b[1].numpy())


def test_shuffle_is_a_permutation_and_generator_reproduces(rng):
    ds = tldata.TensorDataset(tl.arange(23))
    seed = int(rng.integers(1 << 30))
    runs = [[int(v) for (b,) in tldata.DataLoader(ds, batch_size=5, shuffle=True,
                                                  generator=tl.Generator().manual_seed(seed)) for v in b.tolist()]
            for _ in range(2)]
    assert runs[0] == runs[1] and sorted(runs[0]) == list(range(23))
    tl.manual_seed(seed)
    a = [v for (b,) in tldata.DataLoader(ds, batch_size=5, shuffle=True) for v in b.tolist()]
    tl.manual_seed(seed)
    b = [v for (b,) in tldata.DataLoader(ds, batch_size=5, shuffle=True) for v in b.tolist()]
    assert a == b and sorted(a) == list(range(23))


def test_random_split_lengths_and_fractions(rng):
    g = tl.Generator().manual_seed(int(rng.integers(1 << 30)))
    parts = tldata.random_split(range(30), [0.3, 0.3, 0.4], generator=g)
    assert [len(p) for p in parts] == [len(p) for p in tdata.random_split(range(30), [0.3, 0.3, 0.4])]
    assert sorted(v for p in parts for v in p) == list(range(30))
    parts = tldata.random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    assert [len(p) for p in tldata.random_split(range(10), [3, 7])] == [3, 7]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        tldata.random_split(range(10), [3, 8])


def test_subset_concat_and_samplers():
    ds = tldata.ConcatDataset([list(range(3)), list(range(10, 14))])
    assert len(ds) == 7 and [ds[i] for i in range(7)] == [0, 1, 2, 10, 11, 12, 13] and ds[-1] == 13
    sub = tldata.Subset(list(range(100)), [5, 7, 9])
    assert [sub[i] for i in range(3)] == [5, 7, 9]
    assert list(tldata.BatchSampler(tldata.SequentialSampler(range(7)), 3, False)) == \
        list(tdata.BatchSampler(tdata.SequentialSampler(range(7)), 3, False))
    assert len(tldata.BatchSampler(range(7), 3, True)) == 2
    assert sorted(tldata.SubsetRandomSampler([4, 8, 15])) == [4, 8, 15]
    picks = list(tldata.WeightedRandomSampler([0.0, 1.0, 0.0], 6))
    assert picks == [1] * 6
    drawn = list(tldata.RandomSampler(range(5), replacement=True, num_samples=12))
    assert len(drawn) == 12 and all(0 <= v < 5 for v in drawn)
    loader = tldata.DataLoader(list(range(10)), batch_sampler=[[0, 1], [5, 6, 7]])
    assert [b.tolist() for b in loader] == [[0, 1], [5, 6, 7]]
    assert [b for b in tldata.DataLoader(list(range(3)), batch_size=None)] == [0, 1, 2]


def test_iterable_dataset_and_workers():
    assert [b.tolist() for b in tldata.DataLoader(Stream(), batch_size=4)] == \
        [b.tolist() for b in tdata.DataLoader(TorchStream(), batch_size=4)]
    assert [b.tolist() for b in tldata.DataLoader(Stream(), batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    seen = []
    loader = tldata.DataLoader(Squares(9), batch_size=2, num_workers=3, worker_init_fn=seen.append)
    assert [b["y"].tolist() for b in loader] == [[0, 1], [4, 9], [16, 25], [36, 49], [64]]
    assert sorted(seen) == [0, 1, 2][:len(seen)] and seen
    assert tldata.get_worker_info() is None

    class WhoLoads(tldata.Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, i):
            info = tldata.get_worker_info()
            return info.id * 100 + i

    ids = [v // 100 for b in tldata.DataLoader(WhoLoads(), batch_size=3, num_workers=2) for v in b.tolist()]
    assert set(ids) <= {0, 1} and len(ids) == 12


def sharded_stream(data, n):
    """An IterableDataset class of `data` (torch's or ours) whose workers take every num_workers-th of range(n)."""
    class Sharded(data.IterableDataset):
        def __iter__(self):
            info = data.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, n, step))

    return Sharded


def whole_stream(data, n):
    class Whole(data.IterableDataset):
        def __iter__(self):
            return iter(range(n))

    return Whole


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # torch's, on a machine of 2 cores
@pytest.mark.parametrize("make,n,workers,batch_size", [(sharded_stream, 19, 2, 4), (sharded_stream, 7, 3, 2),
                                                       (sharded_stream, 2, 3, 2), (whole_stream, 5, 2, 2)])
def test_iterable_dataset_with_workers_batches_as_torch(make, n, workers, batch_size):
    """Each worker iterates the dataset and batches its own stream; the batches come from the workers in turn, a
    worker whose stream ended dropping out (PyTorch's order). A dataset that does not split itself by
    get_worker_info gives each sample once per worker, as PyTorch's does."""
    seen = []
    got = [b.tolist() for b in tldata.DataLoader(make(tldata, n)(), batch_size=batch_size, num_workers=workers,
                                                 worker_init_fn=seen.append)]
    want = [b.tolist() for b in tdata.DataLoader(make(tdata, n)(), batch_size=batch_size, num_workers=workers)]
    assert got == want and sorted(seen) == list(range(workers))


def test_iterable_dataset_workers_raise_and_stop():
    class Failing(tldata.IterableDataset):
        def __iter__(self):
            yield 1
            raise KeyError("bad record")

    with pytest.raises(KeyError, match="bad record"):
        list(tldata.DataLoader(Failing(), batch_size=None, num_workers=2))
    loader = iter(tldata.DataLoader(whole_stream(tldata, 10 ** 6)(), batch_size=2, num_workers=2))
    assert next(loader).tolist() == [0, 1]
    loader.close()  # leaving early stops the workers, which wait on their full queues
    assert not [t for t in threading.enumerate() if t.name.startswith("tl-dataloader")]


class Stalls(tldata.Dataset):
    """Items in order, except that item `late` waits until the test releases it (5 s at most): its batch is late."""
    def __init__(self, n, late, release):
        self.n, self.late, self.release = n, late, release

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.late:
            self.release.wait(5)
        return i


class StallingStream(tldata.IterableDataset):
    def __init__(self, release):
        self.release = release

    def __iter__(self):
        yield 0
        self.release.wait(5)
        yield 1


@pytest.mark.parametrize("iterable", [False, True])
def test_timeout_raises_when_a_batch_is_late(iterable):
    """A batch not ready within `timeout` seconds raises PyTorch's RuntimeError; the batches before it come out."""
    release = threading.Event()
    data = StallingStream(release) if iterable else Stalls(6, 2, release)
    loader = iter(tldata.DataLoader(data, batch_size=None, num_workers=1 if iterable else 2, timeout=0.05))
    try:
        assert [next(loader) for _ in range(1 if iterable else 2)] == ([0] if iterable else [0, 1])
        with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0\.05 seconds$"):
            next(loader)
    finally:
        release.set()


def test_timeout_changes_nothing_when_batches_are_in_time():
    """Batches in time are the same batches; without workers a timeout is refused at iter, as PyTorch refuses it."""
    data = Stalls(9, None, None)
    for workers in (1, 3):
        assert [b.tolist() for b in tldata.DataLoader(data, batch_size=2, num_workers=workers, timeout=30)] == \
            [b.tolist() for b in tdata.DataLoader(list(range(9)), batch_size=2)]
    for lib in (tdata, tldata):
        with pytest.raises(AssertionError, match="timeout == 0"):
            iter(lib.DataLoader(list(range(3)), timeout=1))


def test_argument_errors_match_torch():
    for kwargs in [dict(sampler=[0], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
                   dict(batch_size=None, drop_last=True), dict(num_workers=-1), dict(prefetch_factor=2),
                   dict(persistent_workers=True), dict(num_workers=1, prefetch_factor=-1)]:
        with pytest.raises(ValueError):
            tdata.DataLoader(list(range(3)), **kwargs)
        with pytest.raises(ValueError):
            tldata.DataLoader(list(range(3)), **kwargs)
    with pytest.raises(ValueError):
        tldata.DataLoader(Stream(), shuffle=True)
    with pytest.raises(ValueError, match="Size mismatch"):
        tldata.TensorDataset(tl.zeros(3), tl.zeros(4))


class WorkerSetupFailed(Exception):
    pass


@pytest.mark.parametrize("dataset", [Squares(6), Stream()])
def test_an_error_in_worker_init_fn_reaches_the_caller_as_itself(dataset, capfd):
    """It was the thread pool's initializer: the pool broke (BrokenThreadPool) and logged the user's traceback."""
    def init(worker_id):
        raise WorkerSetupFailed(f"worker {worker_id}")
    with pytest.raises(WorkerSetupFailed, match=r"worker \d"):
        list(tldata.DataLoader(dataset, batch_size=2, num_workers=2, worker_init_fn=init))
    assert "Traceback" not in capfd.readouterr().err


def test_a_nan_timeout_is_refused_where_the_loader_is_made():
    with pytest.raises(ValueError, match="timeout option should be non-negative, got nan"):
        tldata.DataLoader(Squares(3), num_workers=1, timeout=float("nan"))
