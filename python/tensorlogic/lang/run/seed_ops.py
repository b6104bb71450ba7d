"""Built-ins of the seed language that PyTorch does not have under these names, written with
engine ops (so they run on every device and are differentiable where it makes sense).

- `positional_encoding(n, d)`: the Transformer's sinusoidal table [n, d]:
  PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
- `rope(x, offset=0, base=10000)`: rotary position embedding of x [..., seq, heads, head_dim]
  (or [seq, dim]): each pair (2i, 2i+1) of the last axis at position p is rotated by the angle
  (offset + p) * base^(-2i/head_dim).
- `tan(x)`; `random_normal(mean, std, *shape)` (in a declaration `tensor w: T[n, m] =
  random_normal(0.0, 0.1)` the shape is the declared one, as for `zeros()`, `ones()`, `randn()`).
- `transe_score(h, r, t, p=2)`: TransE's plausibility -||h + r - t||_p over the last axis.
- `relational_aggregate(emb, adj, weights=None)`: messages summed over neighbours per relation,
  sum_r adj[r] @ emb @ weights[r] (adj [R, N, N] or [N, N]; weights [R, d, d'] or [d, d'],
  or none).
- `transpose(x)`: one argument swaps the last two axes; `layer_norm(x, eps)`: over the last axis.
- `causal_mask(n)` (lower-triangular ones), `apply_mask(scores, mask)` (masked scores become
  -10000, `apply_attention_mask` -inf), `padding_mask(lengths, max_len)`, `combine_masks(a, b)`.
- `vec(x)`: the values of x as a 1-D tensor; `from_vec(values, shape)`: those values in `shape`;
  `slice_last(x, axis)`: the last slice of x along `axis` (one axis fewer).
"""
from __future__ import annotations

import math

import numpy as np

from ..engine import tl


def positional_encoding(n, d):
    n, d = int(n), int(d)
    pos = np.arange(n, dtype=np.float64)[:, None]
    rate = np.power(10000.0, -(np.arange(0, d, 2, dtype=np.float64) / d))
    table = np.zeros((n, d), dtype=np.float64)
    table[:, 0::2] = np.sin(pos * rate)
    table[:, 1::2] = np.cos(pos * rate)[:, : d // 2]
    return tl.tensor(table.astype(np.float32), dtype=tl.float16)


def rope(x, offset=0, base=10000.0):
    if x.ndim < 2 or x.shape[-1] % 2:
        raise ValueError(f"rope takes [..., seq, heads, head_dim] or [seq, dim] with an even last "
                         f"axis, not {list(x.shape)}")
    seq_axis = x.ndim - 3 if x.ndim >= 3 else 0
    seq, dim = x.shape[seq_axis], x.shape[-1]
    angle = (int(offset) + np.arange(seq, dtype=np.float64))[:, None] * \
        np.power(float(base), -np.arange(0, dim, 2, dtype=np.float64) / dim)[None, :]
    shape = [1] * (x.ndim + 1)
    shape[seq_axis], shape[-2] = seq, dim // 2
    cos = tl.tensor(np.cos(angle).astype(np.float32).reshape(shape), dtype=x.dtype)
    sin = tl.tensor(np.sin(angle).astype(np.float32).reshape(shape), dtype=x.dtype)
    pairs = x.reshape(*x.shape[:-1], dim // 2, 2)
    even, odd = tl.chunk(pairs, 2, dim=-1)
    rotated = tl.cat([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
    return rotated.reshape(*x.shape)


def random_normal(mean=0.0, std=1.0, *shape):
    return tl.randn(*[int(s) for s in shape]) * float(std) + float(mean)


def layer_norm(x, *rest, **kwargs):
    """PyTorch's layer_norm, and the seed's `layer_norm(x, eps)` over the last axis."""
    if len(rest) == 1 and isinstance(rest[0], (int, float)) and not isinstance(rest[0], bool):
        return tl.layer_norm(x, (x.shape[-1],), eps=float(rest[0]))
    return tl.layer_norm(x, *rest, **kwargs)


# The score a masked position gets from apply_mask (softmax turns it into ~0).
MASKED_SCORE = -10000.0


def causal_mask(n):
    """Lower-triangular ones [n, n]: position i sees positions 0..i."""
    return tl.tril(tl.ones(int(n), int(n)))


def apply_mask(scores, mask, fill=MASKED_SCORE):
    """`scores` where `mask` is nonzero, `fill` where it is 0."""
    return tl.where(mask == 0, tl.full(tuple(scores.shape), float(fill)), scores)


def apply_attention_mask(scores, mask):
    return apply_mask(scores, mask, float("-inf"))


def padding_mask(lengths, max_len):
    """[batch, max_len]: 1 for the first lengths[b] positions of row b, 0 after."""
    lengths = np.asarray(lengths.numpy() if hasattr(lengths, "numpy") else lengths, dtype=np.int64)
    return tl.tensor((np.arange(int(max_len))[None, :] < lengths.reshape(-1, 1)).astype(np.float16))


def combine_masks(a, b):
    """1 where both masks are nonzero."""
    return (a != 0) * (b != 0) * 1.0


def tan(x):
    return tl.sin(x) / tl.cos(x)


def transe_score(h, r, t, p=2):
    diff = h + r - t
    if p in (1, "L1", "l1"):
        return -tl.abs(diff).sum(dim=-1)
    if p in (2, "L2", "l2"):
        return -tl.sqrt((diff * diff).sum(dim=-1))
    raise ValueError(f"transe_score takes p = 1 or 2 (or 'L1', 'L2'), not {p!r}")


def relational_aggregate(emb, adj, weights=None):
    if adj.ndim == 2:
        adj = adj.unsqueeze(0)
    if weights is not None and weights.ndim == 2:
        weights = weights.unsqueeze(0).expand(adj.shape[0], *weights.shape)
    out = None
    for k in range(adj.shape[0]):
        msg = tl.matmul(adj[k], emb)
        if weights is not None:
            msg = tl.matmul(msg, weights[k])
        out = msg if out is None else out + msg
    return out


def transpose(x, dim0=None, dim1=None):
    if dim0 is None:
        return x if x.ndim < 2 else x.transpose(-2, -1)
    return x.transpose(int(dim0), int(dim1))


def vec(x):
    return x.reshape(-1)


def from_vec(values, shape):
    shape = [int(s) for s in shape]
    if math.prod(shape) != values.numel():
        raise ValueError(f"{values.numel()} values do not fill shape {shape}")
    return values.reshape(*shape)


def slice_last(x, axis):
    axis = int(axis)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for {x.ndim} axes")
    axis %= x.ndim
    return x[(slice(None),) * axis + (x.shape[axis] - 1,)]


SEED_OPS = {"positional_encoding": positional_encoding, "rope": rope, "tan": tan,
            "random_normal": random_normal, "layer_norm": layer_norm, "causal_mask": causal_mask,
            "apply_mask": apply_mask, "apply_attention_mask": apply_attention_mask,
            "padding_mask": padding_mask, "combine_masks": combine_masks,
            "transe_score": transe_score, "relational_aggregate": relational_aggregate,
            "transpose": transpose, "vec": vec, "from_vec": from_vec, "slice_last": slice_last}
# Arguments that are tensors (the others are numbers, shapes or strings).
TENSOR_ARGS = {"layer_norm": (0,), "apply_mask": (0, 1), "apply_attention_mask": (0, 1),
               "combine_masks": (0, 1), "rope": (0,), "tan": (0,), "transe_score": (0, 1, 2), "relational_aggregate": (0, 1, 2),
               "transpose": (0,), "vec": (0,), "from_vec": (0,), "slice_last": (0,)}
