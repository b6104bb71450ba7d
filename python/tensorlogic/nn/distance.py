"""cosine_similarity, pairwise_distance and pdist (torch.nn.functional) and the modules CosineSimilarity and
PairwiseDistance, composed of public ops (so they have gradients). eps values below f16's smallest
positive value are raised to it, as in normalize."""
import numbers

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from ..ops.reduction import sum as _sum
from .module import Module

_F16_TINY = 2.0**-24


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) over dim, after broadcasting x1 and x2."""
    eps = max(eps, _F16_TINY)
    a = x1 / x1.norm(2, dim, keepdim=True).clamp(min=eps)
    b = x2 / x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return _sum(a * b, dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return (x1 - x2 + max(eps, _F16_TINY)).norm(p, -1, keepdim=keepdim)


def pdist(input, p=2):
    """The p-norm distances between the rows of input [N, M], for each pair i < j in row-major order (N (N - 1) / 2
    of them), as scipy's condensed distance matrix; a pair of equal rows gets a zero gradient."""
    if input.ndim != 2:
        raise ShapeMismatchError(f"pdist: only 2-d tensors are supported, got {input.ndim}-d")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 0:
        raise ValueError(f"pdist: p must be a non-negative number, got {p!r}")
    rows, cols = (tensor(i, device=input.device) for i in np.triu_indices(input.shape[0], 1))
    return (input[rows] - input[cols]).norm(p, -1)


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along dim (default 1), eps bounding each norm from below, as
    torch.nn.CosineSimilarity (eps below f16's smallest positive value is raised to it)."""
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        """cosine_similarity(x1, x2, dim, eps): x1 and x2 broadcast, dim reduced."""
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm distance ||x1 - x2 + eps||_p over the last dim, as torch.nn.PairwiseDistance (p default 2,
    eps default 1e-6, raised to f16's smallest positive value if below it; keepdim keeps the reduced dim)."""
    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        """pairwise_distance(x1, x2, p, eps, keepdim)."""
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


__all__ = ["cosine_similarity", "pairwise_distance", "pdist", "CosineSimilarity", "PairwiseDistance"]
