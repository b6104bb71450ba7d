"""How a product (juxtaposed labelled factors, some labels summed) runs.

By default one einsum.  A product of some tensor D with a sparse binary relation S[c, o] that sums c
(the shape of every step of a linear recursion such as `Path(x, z) <- Path(x, y), Edge(y, z)`) runs
instead as a gather of D's c-slices at S's tuples and an accumulating scatter into o: work
proportional to S's tuples rather than to |c| x |o|.  When the tuple engine stores S (a relation
too large to hold densely), its tuples are read directly and S is never densified
(`Agg[n, d] = Neig(n, n') Z[n', d]` over a million nodes); D may require gradients.
"""
from __future__ import annotations

import numpy as np

from ..engine import tl
from ..syntax import nodes as N
from ..check.indices import snippet
from .builtins import step
from .labelled import Labelled, einsum, project

# A relation is sparse when at most this fraction of its cells hold a tuple.
SPARSE_DENSITY = 1 / 64


class _Sparse:
    def __init__(self, t, coords):
        self.t = t                                  # the tensor this describes (identity check)
        self.coords = coords                        # numpy [nnz, 2]
        self.index = {}                             # axis -> int32 tensor of coordinates


class Products:
    def __init__(self, rt):
        self.rt = rt
        self.sparse = {}                            # relation name -> _Sparse or None

    def product(self, factors, out_labels, scale, factor_nodes, overrides, exists=False):
        """`factor_nodes[k]` is the expression factor k came from; `overrides` maps the atoms read
        from a semi-naive delta (never treated as sparse: they change every round); `exists`: the
        product is only tested for > 0 (a rule's body), so a relation's labels that nothing else
        reads are projected first (exists): `P(x) <- A(x), B(y, z), C(u)` joins A with two small
        projections, where one einsum would span x, y, z and u at once (found by the logic fuzzer:
        a 13 GB request)."""
        if exists:
            projected = [self._exists(f, k, factors, out_labels) if _is_relation(node, self.rt.model) else f
                         for k, (f, node) in enumerate(zip(factors, factor_nodes))]
            if any(p is not f for p, f in zip(projected, factors)):
                return einsum(projected, out_labels, scale)
        if len(factors) == 2:
            done = self._sparse_product(factors, out_labels, scale, factor_nodes, overrides)
            if done is not None:
                return done
        return einsum(factors, out_labels, scale)

    @staticmethod
    def _exists(f, k, factors, out_labels):
        """A relation's factor with the labels nothing else reads projected away: 1 where some
        tuple has the others' values (a sum then a step: a max has no value over an empty domain)."""
        others = set(out_labels).union(*[g.labels for j, g in enumerate(factors) if j != k])
        drop = [l for l in f.labels if l not in others]
        return Labelled(step(project(f, drop, "sum").t), tuple(l for l in f.labels if l not in drop)) if drop else f

    # ---- sparse relations -----------------------------------------------------------------------
    def _relation_atom(self, node):
        """The relation name when `node` is a whole binary relation read with two distinct index
        variables (so its labelled value is the relation tensor itself)."""
        if isinstance(node, N.Call) and node.kind == "relation":
            name, args = node.name, node.args
        elif isinstance(node, N.Index) and isinstance(node.base, N.Name) and \
                node.base.id in self.rt.model.relations and len(node.groups) == 1:
            name, args = node.base.id, [i.expr for i in node.groups[0]]
        else:
            return None
        if len(args) != 2 or not all(isinstance(a, N.Name) and a.role == "var" and a.id != "_"
                                     for a in args) or args[0].id == args[1].id:
            return None
        return name

    def _describe(self, name, t):
        got = self.sparse.get(name)
        if got is not None and got.t is t:
            return got if got.coords is not None else None
        nnz_fraction = None
        coords = None
        if t.numel() > 0:
            arr = t.numpy()
            nz = np.argwhere(arr != 0)
            nnz_fraction = len(nz) / arr.size
            if nnz_fraction <= SPARSE_DENSITY and np.all(arr[tuple(nz.T)] == 1):
                coords = nz.astype(np.int32)
        self.sparse[name] = _Sparse(t, coords)
        return self.sparse[name] if coords is not None else None

    def tuple_product(self, ev, e, fr):
        """`S(c, o) D[..]` (either order) with S a binary relation the tuple engine stores and c
        summed: the product without densifying S; None when the product is not of that shape."""
        if len(e.factors) != 2 or fr.plan is None:
            return None
        here = fr.plan.sum_at.get(e, set())
        for s_pos in (0, 1):
            node, other = e.factors[s_pos], e.factors[1 - s_pos]
            name = self._relation_atom(node)
            if name is None or node in fr.overrides or not self.rt.logic.is_sparse(name):
                continue
            labels = [a.id for a in (node.args if isinstance(node, N.Call) else
                                     [i.expr for i in node.groups[0]])]
            d_vars = _plain_vars(other)
            for c_axis in (0, 1):
                c, o = labels[c_axis], labels[1 - c_axis]
                if c in here and c in d_vars and o not in here and o not in d_vars:
                    return self._tuple_run(ev, fr, node, name, labels, c_axis, other, e, s_pos)
        return None

    def _tuple_run(self, ev, fr, node, name, labels, c_axis, other, e, s_pos):
        logic = self.rt.logic
        ext = logic.extents(name)
        where = snippet(self.rt.model.sources, node.span, "this relation")
        for v, (_, n) in zip(labels, ext):
            fr.env.bind(v, n, node.span, where)
        d = ev.eval(other, fr)
        table = logic.table(name)
        desc = self.sparse.get(name)
        if desc is None or desc.t is not table:
            coords = table - np.array([lo for lo, _ in ext], dtype=np.int64) if len(table) else \
                np.zeros((0, 2), dtype=np.int64)
            desc = self.sparse[name] = _Sparse(table, coords)
        c, o = labels[c_axis], labels[1 - c_axis]
        out = [l for l in (labels + list(d.labels) if s_pos == 0 else list(d.labels) + labels)
               if l not in fr.plan.sum_at.get(e, set())]
        return self._run(desc, c_axis, d, c, o, list(dict.fromkeys(out)), None, ext[1 - c_axis][1])

    def _sparse_product(self, factors, out_labels, scale, factor_nodes, overrides):
        if any(getattr(f.t, "requires_grad", False) for f in factors):
            return None
        for s_pos in (0, 1):
            node = factor_nodes[s_pos]
            name = self._relation_atom(node)
            if name is None or node in overrides:
                continue
            s, d = factors[s_pos], factors[1 - s_pos]
            for c_axis in (0, 1):
                c, o = s.labels[c_axis], s.labels[1 - c_axis]
                if c in out_labels or c not in d.labels or o in d.labels or o not in out_labels:
                    continue
                desc = self._describe(name, s.t)
                if desc is None:
                    return None
                return self._run(desc, c_axis, d, c, o, out_labels, scale, desc.t.shape[1 - c_axis])
        return None

    def _run(self, desc, c_axis, d, c, o, out_labels, scale, n_o):
        summed_elsewhere = {l for l in d.labels if l != c and l not in out_labels}
        if summed_elsewhere:
            d = project(d, summed_elsewhere, "sum")
        rest = [l for l in d.labels if l != c]
        sizes = d.sizes()
        n_c = sizes[c]
        rows = int(np.prod([sizes[l] for l in rest])) if rest else 1
        dt = d.t.permute(*[d.labels.index(l) for l in [c] + rest]).reshape(n_c, rows)
        src = self._index(desc, c_axis)
        dst = self._index(desc, 1 - c_axis)
        gathered = dt.index_select(0, src)
        out = tl.zeros(n_o, rows, dtype=dt.dtype)
        if getattr(dt, "requires_grad", False):
            out = tl.scatter_add(out, 0, dst.long().reshape(-1, 1).expand(len(dst), rows), gathered)
        else:
            out.index_put_((dst,), gathered, accumulate=True)
        out = out.reshape(*([n_o] + [sizes[l] for l in rest]))
        result = Labelled(out, [o] + rest)
        if scale is not None:
            result = Labelled(result.t * scale, result.labels)
        order = tuple(out_labels)
        if result.labels != order:
            result = Labelled(result.t.permute(*[result.labels.index(l) for l in order]), order)
        return result

    def _index(self, desc, axis):
        got = desc.index.get(axis)
        if got is None:
            got = desc.index[axis] = tl.tensor(np.ascontiguousarray(desc.coords[:, axis]), dtype=tl.int32)
        return got


def _plain_vars(node):
    """The index variables of `X[a, b]` or `R(a, b)` when every index is a plain variable."""
    if isinstance(node, N.Index) and len(node.groups) == 1 and \
            all(isinstance(i, N.Idx) for i in node.groups[0]):
        args = [i.expr for i in node.groups[0]]
    elif isinstance(node, N.Call) and node.kind == "relation":
        args = node.args
    else:
        return set()
    if not all(isinstance(a, N.Name) and a.role == "var" and a.id != "_" for a in args):
        return set()
    return {a.id for a in args}


def _is_relation(node, model):
    """Whether a factor is a relation's atom (a 0/1 tensor)."""
    if isinstance(node, N.Call):
        return node.kind == "relation"
    return isinstance(node, N.Index) and isinstance(node.base, N.Name) and node.base.id in model.relations
