"""Bulk data into a running program without the parser: `load NAME from "file"` and, from Python,
`Program.add_facts` / `Program.set`.  Facts arrive as columns of constants; each column is mapped
to its domain's indices at once (a domain that grows takes new constants in order of first
appearance, as facts written in the program do) and kept as rows of indices on the relation."""
from __future__ import annotations

import itertools

import numpy as np

from ..datafiles import DataFileError, data_path, read_table, read_tensor
from ..engine import tl


def load_into(rt, node):
    path = data_path(rt.model.filename, node)
    try:
        if node.name in rt.model.relations:
            add_rows(rt, node.name, read_table(path), node.span)
        else:
            rt.set_var(node.name, tl.tensor(read_tensor(path, node.name)), None, node.span)
    except DataFileError as err:
        raise rt.error(str(err), node.span) from None


def add_rows(rt, name, columns, span=None):
    """Adds facts given as one array of constants per argument."""
    rel = rt.model.relations[name]
    if len(columns) != rel.arity:
        raise rt.error(f"relation '{name}' takes {rel.arity} arguments but the data has "
                       f"{len(columns)} columns", span)
    if not len(columns) or not len(columns[0]):
        return
    if len({len(c) for c in columns}) != 1:
        raise rt.error(f"the columns for '{name}' have different lengths", span)
    codes = [_codes(rt, dom, col, name, k, span) for k, (dom, col) in enumerate(zip(rel.domains, columns))]
    rel.rows.append(np.stack(codes, axis=1))
    rt.data_changed()


def _codes(rt, dom, col, name, k, span):
    """Indices of a column's constants in `dom`, adding new ones where the domain grows."""
    if not isinstance(col, np.ndarray) and all(isinstance(c, int) and not isinstance(c, bool) for c in col[:64]):
        col = np.asarray(col)
    if isinstance(col, np.ndarray) and col.dtype.kind in "iu":
        if dom.kind == "range":
            lo, hi = int(col.min()), int(col.max())
            if hi >= dom.stop and not dom.declared and lo >= 0:
                dom.stop = hi + 1
            if lo < dom.start or hi >= dom.stop:
                bad = int(col[(col < dom.start) | (col >= dom.stop)][0])
                raise rt.error(f"{bad} (argument {k} of {name}) is not in domain {dom.name}", span)
            return col.astype(np.int64) - dom.start
        if dom.kind == "inferred" and not dom.members:
            dom.kind, dom.start, dom.stop = "range", min(0, int(col.min())), int(col.max()) + 1
            return col.astype(np.int64) - dom.start
        col = col.tolist()
    elif isinstance(col, np.ndarray):
        col = col.astype(str).tolist()
    index = dom._index
    if dom.grows:
        # New constants get the next indices in order of first appearance (dicts keep order).
        before = len(index)
        codes = np.fromiter((index.setdefault(c, len(index)) for c in col), dtype=np.int64, count=len(col))
        dom.members.extend(itertools.islice(index, before, None))
        return codes
    missing = next((c for c in col if c not in index), None)
    if missing is not None:
        raise rt.error(f"'{missing}' (argument {k} of {name}) is not in domain {dom.name}", span)
    return np.fromiter((index[c] for c in col), dtype=np.int64, count=len(col))
