"""Samplers: which indices a DataLoader visits, in what order, and how they group into batches."""
import numpy as np

from ...generator import host_rng
from ...tensor import Tensor


class Sampler:
    """An iterable of dataset indices (or of lists of indices, for a batch sampler)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


def _permutation(rng, n):
    try:
        return rng.permutation(n)
    except (ValueError, MemoryError):  # numpy's "array is too big; `arr.size * arr.dtype.itemsize` is larger ..."
        raise MemoryError(f"RandomSampler: a permutation of {n} indices does not fit in memory (replacement=True "
                          "draws indices without one)") from None


class SequentialSampler(Sampler):
    """The indices 0 .. len(data_source) - 1 in order, as torch.utils.data.SequentialSampler."""
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation each pass (or num_samples draws with replacement), from `generator` or, without
    one, from a host stream seeded by the global tl stream."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """How many indices one pass yields: num_samples if given, else len(data_source)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        # Drawn lazily, a chunk or a permutation at a time: num_samples may be huge (an "infinite" loader).
        n, rng, left = len(self.data_source), host_rng(self.generator), self.num_samples
        if n == 0 and self.replacement:
            raise ValueError(f"RandomSampler: cannot draw {left} samples with replacement from an empty dataset")
        while left > 0:
            chunk = rng.integers(0, n, min(left, 32)) if self.replacement else _permutation(rng, n)[:left]
            left -= len(chunk)
            yield from chunk.tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in host_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probability proportional to `weights`."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        w = np.asarray(weights.numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("weights must be a 1-d sequence of finite non-negative numbers with a positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError("WeightedRandomSampler: num_samples exceeds the nonzero weights (without replacement)")
        self.weights, self.num_samples, self.replacement, self.generator = w, num_samples, replacement, generator

    def __iter__(self):
        rng, p = host_rng(self.generator), self.weights / self.weights.sum()
        if not self.replacement:
            yield from rng.choice(len(self.weights), self.num_samples, False, p).tolist()
            return
        left = self.num_samples  # with replacement drawn a chunk at a time, as RandomSampler: num_samples may be huge
        while left > 0:
            chunk = rng.choice(len(self.weights), min(left, 4096), True, p)
            left -= len(chunk)
            yield from chunk.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
