"""DataLoader: batches from a dataset through a sampler and a collate function (torch.utils.data.DataLoader).

num_workers > 0 loads the batches of a map-style dataset on that many threads of this process (not
processes), up to num_workers * prefetch_factor batches ahead, handed out in sampler order. Threads help
where __getitem__ waits (files, decoding in numpy or other code that releases the GIL); datasets whose
__getitem__ is pure Python gain nothing. worker_init_fn(worker_id) runs once in each thread, and
get_worker_info() there gives the worker's id. An IterableDataset with num_workers > 0 is iterated once per
worker thread, as PyTorch iterates it once per worker process (each worker batches its own stream: a dataset that
does not split itself by get_worker_info() gives every sample num_workers times, as PyTorch's does), and the
batches are taken from the workers in turn, skipping those whose stream has ended. The workers share the one
dataset object where PyTorch's hold copies of it. timeout > 0 bounds the wait for each batch from the workers, as
PyTorch's: a batch not ready within it raises RuntimeError (the late worker thread finishes its item in the
background, where PyTorch ends the process); it needs num_workers > 0, as PyTorch's. pin_memory, persistent_workers
and multiprocessing_context are accepted and change nothing: there are no worker processes or pinned pages."""
import itertools
import operator
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from ...creation import tensor
from ...generator import host_rng
from .collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class WorkerInfo:
    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 (PyTorch's field name)
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers})"


_worker = threading.local()


def get_worker_info():
    """The WorkerInfo of the loader thread this runs in; None in any other thread."""
    return getattr(_worker, "info", None)


def _tensor_rows(dataset, key):
    """(tensors, row indices) when `dataset` is a TensorDataset, or Subsets of one (random_split's result);
    None otherwise."""
    try:  # operator.index, not int: a sampler's 1.5 must not pick row 1
        key = [operator.index(i) for i in key]
    except TypeError:
        raise TypeError(f"DataLoader: the sampler gave an index that is not an int, in {list(key)[:8]}") from None
    while type(dataset) is Subset:
        key = [int(dataset.indices[i]) for i in key]
        dataset = dataset.dataset
    return (dataset.tensors, key) if type(dataset) is TensorDataset else None


class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader: samples are picked by a sampler (sequential, or
    shuffled with shuffle=True and `generator`), grouped by batch_size (drop_last drops a short last batch) or by a
    batch_sampler, and merged by collate_fn (default_collate: tensors stacked along a new first dimension).
    num_workers > 0 loads map-style batches on threads of this process (see the module's notes), each awaited at
    most `timeout` seconds when timeout > 0; pin_memory, persistent_workers and multiprocessing_context are accepted
    and change nothing."""
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if not timeout >= 0:  # (a NaN too: it would be a wait that times out at once)
            raise ValueError(f"timeout option should be non-negative, got {timeout}")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor if num_workers else None
        self.worker_init_fn, self.timeout, self.pin_memory = worker_init_fn, timeout, pin_memory
        self.persistent_workers, self.in_order = persistent_workers, in_order
        auto = batch_size is not None or batch_sampler is not None
        self.collate_fn = collate_fn if collate_fn is not None else default_collate if auto else default_convert
        self._iterable = iterable

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def __iter__(self):
        if self.timeout and self.num_workers == 0:  # PyTorch's single-process iterator asserts the same
            raise AssertionError(f"DataLoader: timeout={self.timeout} needs num_workers > 0 (the single-process "
                                 "loader requires timeout == 0)")
        if self._iterable:
            return self._iter_stream() if self.num_workers == 0 else self._iter_stream_workers()
        keys = self.batch_sampler if self.batch_sampler is not None else self.sampler
        if self.num_workers == 0:
            return map(self._fetch, keys)
        return self._iter_threads(keys)

    def _fetch(self, key):
        if self.batch_sampler is None:
            return self.collate_fn(self.dataset[key])
        data = self.dataset
        rows = _tensor_rows(data, key) if self.collate_fn is default_collate else None
        if rows is not None and rows[1]:  # (an empty batch goes to collate_fn, which says it is empty)
            # Stacking the rows one by one gives the same tensors; one index_select per tensor is faster.
            tensors, picked = rows
            return [t.index_select(0, tensor(picked, device=t.device)) for t in tensors]
        getitems = getattr(data, "__getitems__", None)
        return self.collate_fn(getitems(key) if getitems is not None else [data[i] for i in key])

    def _iter_stream(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def _start_worker(self, worker_id, seed_base):
        """What a worker thread does first: its WorkerInfo (get_worker_info's answer there) and worker_init_fn."""
        _worker.info = WorkerInfo(worker_id, self.num_workers, seed_base + worker_id, self.dataset)
        if self.worker_init_fn is not None:
            self.worker_init_fn(worker_id)

    def _seed_base(self):
        return int(host_rng(self.generator).integers(1 << 62))  # worker i reports seed_base + i, as in PyTorch

    def _iter_stream_workers(self):
        """Each worker thread iterates the dataset and batches its own stream into a queue of prefetch_factor
        batches; the batches are taken from the workers in turn, a worker dropping out when its stream ends. An
        error in a worker is raised here, as PyTorch re-raises a worker's."""
        seed_base, stop, end = self._seed_base(), threading.Event(), object()
        queues = [queue.Queue(self.prefetch_factor or 2) for _ in range(self.num_workers)]

        def hand_over(out, item):
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    pass
            return False

        def work(worker_id, out):
            try:
                self._start_worker(worker_id, seed_base)
                for batch in self._iter_stream():
                    if not hand_over(out, (batch, None)):
                        return
            except Exception as error:  # handed to the reading thread, which raises it
                hand_over(out, (None, error))
                return
            hand_over(out, (end, None))

        workers = [threading.Thread(target=work, args=(i, q), name=f"tl-dataloader-{i}", daemon=True)
                   for i, q in enumerate(queues)]
        for worker in workers:
            worker.start()
        timed_out = False
        try:
            active = list(queues)
            while active:
                for out in list(active):
                    try:
                        batch, error = out.get(timeout=self.timeout or None)
                    except queue.Empty:
                        timed_out = True
                        raise self._timed_out() from None
                    if error is not None:
                        raise error
                    if batch is end:
                        active.remove(out)
                    else:
                        yield batch
        finally:
            stop.set()
            if not timed_out:  # a late worker stops at its next hand-over; waiting for it would defeat the timeout
                for worker in workers:
                    worker.join()

    def _timed_out(self):
        return RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def _iter_threads(self, keys):
        ids, started = itertools.count(), threading.local()
        seed_base = self._seed_base()

        def fetch(key):
            # A worker's set-up runs with its first fetch, not as the pool's initializer: an error in worker_init_fn
            # then reaches the caller as itself (an initializer's breaks the pool and is only logged).
            if not getattr(started, "done", False):
                self._start_worker(next(ids), seed_base)
                started.done = True
            return self._fetch(key)

        def next_batch():
            try:
                return pending.popleft().result(timeout=self.timeout or None)
            except FutureTimeout:
                nonlocal timed_out
                timed_out = True
                raise self._timed_out() from None

        depth = self.num_workers * (self.prefetch_factor or 2)
        pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="tl-dataloader")
        pending, timed_out = deque(), False
        try:
            for key in keys:
                pending.append(pool.submit(fetch, key))
                if len(pending) >= depth:
                    yield next_batch()
            while pending:
                yield next_batch()
        finally:
            # After a timeout the late fetch finishes in the background; the queued ones are dropped.
            pool.shutdown(wait=not timed_out, cancel_futures=timed_out)
