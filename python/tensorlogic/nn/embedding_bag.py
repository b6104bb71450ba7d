"""F.embedding_bag and nn.EmbeddingBag: the sum, mean or max of the embeddings of each bag of indices, with
PyTorch's arguments (2-d input of equal bags, or 1-d input cut by offsets, include_last_offset,
per_sample_weights for 'sum', padding_idx left out of every bag). The bags are laid out on the host as a
dense [bags, longest bag] table of positions (a fill row stands in for the gaps: zeros, or -inf for max), so
the reduction is one gather and one sum/amax, and the gradient is embedding's and gather's."""
import math

import numpy as np

from .. import _core
from ..creation import empty, full, tensor, zeros
from ..errors import ShapeMismatchError
from ..ops.elementwise import where
from ..ops.indexing import embedding
from ..ops.shape import cat
from . import init
from .module import Module
from .parameter import Parameter
from .sparse_rows import recorded

_MODES = ("sum", "mean", "max")


def _bags(input, offsets, include_last_offset):
    """(flat indices [T], bag boundaries [B + 1]) as numpy int64."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for 2-d input (each row is a bag)")
        bags, length = input.shape
        return input.cpu().numpy().reshape(-1).astype(np.int64), np.arange(bags + 1, dtype=np.int64) * length
    if input.ndim != 1:
        raise ShapeMismatchError(f"embedding_bag: input must be 1-d or 2-d, got {list(input.shape)}")
    if offsets is None or offsets.ndim != 1:
        raise ValueError("embedding_bag: 1-d input needs 1-d offsets (the start of each bag)")
    flat = input.cpu().numpy().astype(np.int64)
    starts = offsets.cpu().numpy().astype(np.int64)
    if starts.size and (starts[0] != 0 or (np.diff(starts) < 0).any() or starts[-1] > flat.size):
        raise ValueError(f"embedding_bag: offsets must start at 0 and increase up to the input's length {flat.size}")
    bounds = starts if include_last_offset else np.append(starts, flat.size)
    return flat, bounds


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """[bags, dim]: each bag's embeddings (rows of weight) summed, averaged or maximised (an empty bag gives
    zeros). max_norm is not supported (ValueError), as in embedding."""
    if mode not in _MODES:
        raise ValueError(f"embedding_bag: mode must be one of {_MODES}, got {mode!r}")
    if max_norm is not None:
        raise ValueError("embedding_bag: max_norm is not supported")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ShapeMismatchError(f"embedding_bag: per_sample_weights {list(per_sample_weights.shape)} must have the "
                                 f"input's shape {list(input.shape)}")
    flat, bounds = _bags(input, offsets, include_last_offset)
    rows = weight.shape[0]
    if flat.size and (flat.min() < 0 or flat.max() >= rows):
        raise IndexError(f"embedding_bag: indices must be in [0, {rows}), got values in [{flat.min()}, {flat.max()}]")
    if padding_idx is not None:
        padding_idx = padding_idx % rows
    bags, dim = len(bounds) - 1, weight.shape[1]
    lengths = np.diff(bounds)
    longest = int(lengths.max()) if bags else 0
    # positions[b, j]: the j-th counted index of bag b in `flat`, or len(flat) (the fill row) past its end
    positions = np.full((bags, max(longest, 1)), flat.size, np.int64)
    counts = np.zeros(bags, np.int64)
    for b in range(bags):
        members = np.arange(bounds[b], bounds[b + 1])
        if padding_idx is not None:
            members = members[flat[members] != padding_idx]
        positions[b, :members.size] = members
        counts[b] = members.size
    vectors = embedding(weight, tensor(flat, device=weight.device)) if flat.size else empty((0, dim),
                                                                                             device=weight.device)
    if sparse and flat.size:  # the rows of PyTorch's sparse gradient, for optim.SparseAdam
        vectors = recorded(vectors, weight, tensor(flat if padding_idx is None else flat[flat != padding_idx],
                                                   device=weight.device))
    if per_sample_weights is not None:
        vectors = vectors * per_sample_weights.reshape(-1, 1)
    fill = full((1, dim), -math.inf if mode == "max" else 0.0, device=weight.device)
    table = cat([vectors, fill], 0)[tensor(positions, device=weight.device)]  # [bags, longest, dim]
    if mode == "max":  # the first maximum takes the whole gradient, as in PyTorch (amax would share it on ties)
        out = table.gather(1, table.argmax(1, keepdim=True)).squeeze(1)
        return where(tensor(counts.reshape(-1, 1) > 0, device=weight.device), out, 0.0)
    out = table.sum(1)
    if mode == "mean":
        out = out / tensor(np.maximum(counts, 1).reshape(-1, 1).astype(np.float16), device=weight.device)
    return out


class EmbeddingBag(Module):
    """A table of num_embeddings vectors of embedding_dim (weight initialised N(0, 1)), each bag of indices
    reduced by mode ('mean' by default, 'sum' or 'max'), as torch.nn.EmbeddingBag."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {_MODES}, got {mode!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"EmbeddingBag: padding_idx must be within [-{num_embeddings}, {num_embeddings})")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        if _weight is None:
            self.weight = Parameter(zeros((num_embeddings, embedding_dim), device=device))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        """weight ~ N(0, 1), the padding row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            _core.fill_(_core.select(self.weight._a, 0, self.padding_idx), 0.0)

    def forward(self, input, offsets=None, per_sample_weights=None):
        """embedding_bag(input, weight, offsets, ...) with the module's settings: [bags, embedding_dim]."""
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"


__all__ = ["embedding_bag", "EmbeddingBag"]
