"""DistributedSampler: each rank's share of a dataset's indices (torch.utils.data.distributed's semantics)."""
import math

import numpy as np

from ...distributed import get_rank, get_world_size
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Rank r visits indices r, r + R, r + 2R, ... of one order shared by all R ranks: a permutation seeded
    by seed + epoch (call set_epoch each epoch) or the dataset order; padded by repeating the first indices
    to a multiple of R, or cut to one with drop_last."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas = get_world_size() if num_replicas is None else num_replicas
        rank = get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        indices = order.tolist()
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            pad = self.total_size - n
            indices += (indices * math.ceil(pad / n))[:pad] if pad else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch that seeds the shuffle (with the sampler's seed), so every rank draws the same permutation
        each epoch and a new one the next: call it before each epoch, as in PyTorch."""
        self.epoch = epoch
