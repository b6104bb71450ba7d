"""Tensors whose axes are named by index variables, and the tensor ops of index notation on them:
einsum, elementwise combination broadcast by name, projection (sum, max, min, mean) and
gathers for index arithmetic.  Every op here is an engine op on the default device."""
from __future__ import annotations

import string

import numpy as np

from ..engine import tl

LETTERS = string.ascii_letters


class Labelled:
    """`t` with one distinct label per axis."""
    __slots__ = ("t", "labels")

    def __init__(self, t, labels):
        self.t = t
        self.labels = tuple(labels)

    def __repr__(self):
        return f"Labelled({list(self.labels)}, shape={tuple(self.t.shape)})"

    def size(self, label):
        return self.t.shape[self.labels.index(label)]

    def sizes(self) -> dict:
        return dict(zip(self.labels, self.t.shape))


def is_tensor(x) -> bool:
    return isinstance(x, tl.Tensor)


def letters_for(labels):
    uniq = list(dict.fromkeys(labels))
    if len(uniq) > len(LETTERS):
        raise ValueError(f"more than {len(LETTERS)} distinct indices in one equation")
    return {l: LETTERS[i] for i, l in enumerate(uniq)}


def einsum(factors, out_labels, scale=None):
    """Product of labelled factors over shared labels, summing labels absent from `out_labels`
    (one einsum).  `scale` is a Python number or 0-d tensor multiplied in."""
    out_labels = tuple(out_labels)
    if not factors:
        raise ValueError("einsum of no factors")
    if len(factors) == 1 and tuple(factors[0].labels) == out_labels:
        t = factors[0].t
    else:
        letter = letters_for([l for f in factors for l in f.labels] + list(out_labels))
        eq = ",".join("".join(letter[l] for l in f.labels) for f in factors)
        eq += "->" + "".join(letter[l] for l in out_labels)
        t = tl.einsum(eq, *[f.t for f in factors])
    if scale is not None:
        t = t * scale
    return Labelled(t, out_labels)


def permuted(x: Labelled, order) -> "tl.Tensor":
    """The tensor with axes in `order` (a permutation of its labels)."""
    order = tuple(order)
    if order == x.labels:
        return x.t
    return x.t.permute(*[x.labels.index(l) for l in order])


def broadcast_pair(a: Labelled, b: Labelled):
    """Both tensors laid out on the union of labels (size-1 axes where absent), ready for an
    elementwise op, and the union."""
    (ta, tb), union = broadcast_all([a, b])
    return ta, tb, union


def broadcast_all(xs):
    """Every tensor laid out on the union of their labels (in order of first appearance), and the union."""
    union = ()
    for x in xs:
        union += tuple(l for l in x.labels if l not in union)
    return [_lay_out(x, union) for x in xs], union


def _lay_out(x: Labelled, union):
    present = [l for l in union if l in x.labels]
    t = permuted(x, present)
    if len(present) == len(union):
        return t
    sizes = x.sizes()
    return t.reshape(*[sizes[l] if l in sizes else 1 for l in union])


def expand_to(x: Labelled, labels, sizes) -> Labelled:
    """`x` broadcast to exactly `labels` (new labels take their size from `sizes`)."""
    t = _lay_out(x, tuple(labels))
    full = [sizes[l] for l in labels]
    if list(t.shape) != full:
        t = t.expand(*full)
    return Labelled(t, labels)


def project(x: Labelled, drop, op: str) -> Labelled:
    """Removes the labels in `drop` by sum, max, min or mean."""
    drop = [l for l in x.labels if l in drop]
    if not drop:
        return x
    keep = tuple(l for l in x.labels if l not in drop)
    if op == "sum":
        return einsum([x], keep)
    dims = tuple(x.labels.index(l) for l in drop)
    t = x.t
    if op == "max":
        t = t.amax(dim=dims)
    elif op == "min":
        t = t.amin(dim=dims)
    elif op == "avg":
        t = t.mean(dim=dims)
    else:
        raise ValueError(op)
    return Labelled(t, keep)


def diagonal(x: Labelled, labels_with_repeats) -> Labelled:
    """Labels given per axis may repeat (`X[i, i]`): take the diagonal."""
    labels = tuple(labels_with_repeats)
    uniq = tuple(dict.fromkeys(labels))
    if uniq == labels:
        return Labelled(x.t, labels)
    letter = letters_for(labels)
    eq = "".join(letter[l] for l in labels) + "->" + "".join(letter[l] for l in uniq)
    return Labelled(tl.einsum(eq, x.t), uniq)


def int_index(values) -> "tl.Tensor":
    return tl.tensor(np.ascontiguousarray(values, dtype=np.int32), dtype=tl.int32)


def gather_axis(t, axis, index_grid: np.ndarray, n: int, pad: float = 0.0):
    """Replaces axis `axis` of `t` (size n) by the axes of `index_grid`, reading t at those
    positions; positions outside [0, n) read `pad`."""
    flat = np.asarray(index_grid, dtype=np.int64).reshape(-1)
    outside = (flat < 0) | (flat >= n)
    if outside.any():
        pad_shape = list(t.shape)
        pad_shape[axis] = 1
        t = tl.cat([t, tl.full(tuple(pad_shape), pad, dtype=t.dtype)], dim=axis)
        flat = np.where(outside, n, flat)
    picked = t.index_select(axis, int_index(flat))
    shape = list(t.shape)
    shape[axis:axis + 1] = list(index_grid.shape)
    return picked.reshape(*shape)


def onehot(n: int, k: int):
    v = np.zeros(n, dtype=np.float16)
    if 0 <= k < n:
        v[k] = 1
    return tl.tensor(v, dtype=tl.float16)


def selection(n_out: int, grid: np.ndarray):
    """0/1 tensor S[k, grid axes...] = (grid == k)."""
    ks = np.arange(n_out).reshape((n_out,) + (1,) * grid.ndim)
    return tl.tensor((grid[None, ...] == ks).astype(np.float16), dtype=tl.float16)
