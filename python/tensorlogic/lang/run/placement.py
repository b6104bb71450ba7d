"""How the right side's result of an equation lands in the left side's tensor: plain indices,
pooling (`x / 2`), shifts (`x + 1`), constants and arbitrary index expressions, with the projection
of `=`, `max=`, `min=` or `avg=` where several positions meet one cell."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..check.contraction import var_names
from ..syntax import nodes as N
from .labelled import (Labelled, broadcast_pair, expand_to, gather_axis, einsum, onehot, permuted,
                       project, selection)

from ..engine import tl


# ---- left sides ---------------------------------------------------------------------------------
PROJECTION = {"=": "sum", "max=": "max", "min=": "min", "avg=": "avg"}
# The identity of a min or max projection: a cell no position reaches (a semiring's zero).
IDENTITY = {"min": float("inf"), "max": float("-inf")}


@dataclass
class LhsAxis:
    kind: str            # "var", "div", "shift", "const", "general"
    var: str | None = None
    c: int = 0
    expr: object = None


def classify_lhs(items, domains, value_of_index):
    """Kinds of the left side's axes.  `value_of_index(expr, domain)` gives the position of a
    constant or bound index on an axis of that domain (None: a plain integer)."""
    exprs = [i.expr for i in items]
    counts = {}
    for e in exprs:
        for v in var_names(e):
            counts[v] = counts.get(v, 0) + 1
    axes = []
    for k, e in enumerate(exprs):
        vs = var_names(e)
        if not vs:
            dom = domains[k] if domains and k < len(domains) else None
            axes.append(LhsAxis("const", c=value_of_index(e, dom)))
        elif isinstance(e, N.Name) and counts[e.id] == 1:
            axes.append(LhsAxis("var", var=e.id))
        elif len(vs) == 1 and counts[vs[0]] == 1 and isinstance(e, N.BinChain) and len(e.ops) == 1 \
                and isinstance(e.operands[0], N.Name) and isinstance(e.operands[1], N.Num) \
                and e.operands[1].is_int and e.ops[0] in "/+-" and \
                (e.ops[0] != "/" or e.operands[1].value > 0):
            c = e.operands[1].value
            axes.append(LhsAxis("div", var=vs[0], c=c) if e.ops[0] == "/"
                        else LhsAxis("shift", var=vs[0], c=c if e.ops[0] == "+" else -c))
        else:
            axes.append(LhsAxis("general", expr=e))
    return axes


def extent(axis: LhsAxis, sizes) -> int:
    """The smallest left-side size that holds every position this axis writes."""
    if axis.kind == "const":
        return axis.c + 1
    if axis.kind == "var":
        return sizes[axis.var]
    n = sizes[axis.var] if axis.var else 0
    if axis.kind == "div":
        return (n - 1) // axis.c + 1 if n else 0
    if axis.kind == "shift":
        return max(0, n + axis.c)
    return None


def place(r: Labelled, axes, out_shape, op, grids, fill=0.0):
    """Lays the right side's result `r` (labelled by left-side variables) into a tensor of
    `out_shape`, projecting with `op` where several positions meet one cell; cells no position
    reaches hold `fill` (0, or a min/max lattice's identity).  `grids[k]` is the integer grid of a
    "general" axis over its variables."""
    proj = PROJECTION[op]
    out_labels = [f"#{k}" for k in range(len(axes))]
    general = []
    for k, (axis, n_out) in enumerate(zip(axes, out_shape)):
        label = out_labels[k]
        if axis.kind == "var" and axis.var in r.labels and label not in r.labels:
            if r.size(axis.var) != n_out:
                r = _fit(r, axis.var, n_out, 0, fill)
            r = Labelled(r.t, [label if l == axis.var else l for l in r.labels])
        elif axis.kind == "var":
            r = _extend(r, label, n_out)
        elif axis.kind == "div":
            r = _pool(r, axis.var, axis.c, n_out, proj, label)
        elif axis.kind == "shift":
            r = _fit(r, axis.var, n_out, axis.c, fill)
            r = Labelled(r.t, [label if l == axis.var else l for l in r.labels])
        elif axis.kind == "const" and fill == 0:
            r = einsum([r, Labelled(onehot(n_out, axis.c), [label])], r.labels + (label,))
        elif axis.kind == "const":      # a product with the one-hot would make inf * 0 = nan
            t, at, union = broadcast_pair(r, Labelled(onehot(n_out, axis.c), [label]))
            r = Labelled(tl.where(tl.gt(at, 0), t, tl.full((), fill, dtype=t.dtype)), union)
        else:
            general.append((label, n_out, axis, grids[k]))
    if general:
        r = _general(r, general, proj, fill)
    return Labelled(permuted(r, out_labels), out_labels)


def _extend(r, label, n):
    return expand_to(r, r.labels + (label,), {**r.sizes(), label: n})


def _fit(r, var, n_out, shift, fill):
    """Moves axis `var` by `shift` positions and crops it, or pads it with `fill`, to `n_out`."""
    axis = r.labels.index(var)
    n = r.t.shape[axis]
    idx = np.arange(n_out) - shift
    t = gather_axis(r.t, axis, idx, n, fill)
    return Labelled(t, r.labels)


def _pool(r, var, c, n_out, proj, label):
    """Axis `var` of size n grouped by `var / c` into n_out groups: reshape and reduce."""
    axis = r.labels.index(var)
    n = r.t.shape[axis]
    total = n_out * c
    t = r.t
    if total != n:
        fill = IDENTITY.get(proj, 0.0)
        if total > n:
            pad_shape = list(t.shape)
            pad_shape[axis] = total - n
            t = tl.cat([t, tl.full(tuple(pad_shape), fill, dtype=t.dtype)], dim=axis)
        else:
            t = t.index_select(axis, tl.tensor(np.arange(total, dtype=np.int32), dtype=tl.int32))
    shape = list(t.shape)
    shape[axis:axis + 1] = [n_out, c]
    t = t.reshape(*shape)
    labels = list(r.labels)
    labels[axis:axis + 1] = [label, "#pool"]
    grouped = Labelled(t, labels)
    if proj == "avg" and total > n:
        counts = np.full(n_out, c, dtype=np.float32)
        counts[-1] = n - (n_out - 1) * c
        s = project(grouped, {"#pool"}, "sum")
        inv = tl.tensor((1.0 / counts).astype(np.float16), dtype=tl.float16)
        return Labelled(s.t * _along(inv, s.labels.index(label), len(s.labels)), s.labels)
    return project(grouped, {"#pool"}, proj)


def _along(v, axis, ndim):
    shape = [1] * ndim
    shape[axis] = v.shape[0]
    return v.reshape(*shape)


def _general(r, general, proj, fill=0.0):
    """Left-side axes with arbitrary index expressions: a 0/1 selection tensor per axis; a cell no
    position selects holds `fill` (a sum's or a mean's is 0)."""
    if proj in ("sum", "avg"):
        factors = [r]
        for label, n_out, axis, grid in general:
            factors.append(Labelled(selection(n_out, grid.values), (label,) + tuple(grid.labels)))
        keep = [l for l in r.labels if l.startswith("#")] + [g[0] for g in general]
        out = einsum(factors, keep)
        if proj == "sum" and fill == 0:
            return out
        ones = Labelled(tl.ones(*r.t.shape, dtype=r.t.dtype), r.labels)
        hits = _general(ones, general, "sum")
        if proj == "avg":
            out = _div(out, hits)
        if fill == 0:
            return out
        hits_t = permuted(hits, out.labels)
        return Labelled(tl.where(tl.gt(hits_t, 0), out.t, tl.full((), fill, dtype=out.t.dtype)), out.labels)
    mask = None
    for label, n_out, axis, grid in general:
        m = Labelled(selection(n_out, grid.values), (label,) + tuple(grid.labels))
        mask = m if mask is None else einsum([mask, m], mask.labels + tuple(l for l in m.labels if l not in mask.labels))
    a, b, union = broadcast_pair(r, mask)
    big = tl.full((), IDENTITY[proj], dtype=r.t.dtype)
    t = tl.where(tl.gt(b, 0), a, big)
    vals = Labelled(t, union)
    drop = {l for l in union if not l.startswith("#")}
    out = project(vals, drop, proj)
    hit = project(Labelled(b, union), drop, "max")
    out_t = tl.where(tl.gt(hit.t, 0), out.t, tl.full((), fill, dtype=out.t.dtype))
    return Labelled(out_t, out.labels)


def _div(a, b):
    bt = permuted(b, a.labels)
    safe = tl.where(tl.gt(bt, 0), bt, tl.ones((), dtype=bt.dtype))
    return Labelled(a.t / safe, a.labels)
