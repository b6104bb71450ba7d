"""Bulk data into a running program without the parser: `load NAME from "file"` and, from Python,
`Program.add_facts` / `Program.set`.  Facts arrive as columns of constants; each column is mapped
at once to what the tuple engine holds at its position: the integers of an integer domain (its
indices move when it grows downwards), the indices of a domain of names (a domain that grows takes
new constants in order of first appearance, as facts written in the program do); the relation keeps
these rows. A text value is the constant a program would write for it: a name where the text is one
(`ann`), else a string (`"New York"`, which no name can spell), so that a program can refer to every
loaded value."""
from __future__ import annotations

import itertools

import numpy as np

from ..constants import NAME, Text, constant_key, constant_kind, constant_of
from ..datafiles import DataFileError, data_path, read_table_once, read_tensor
from ..engine import tl
from ..syntax.grammar import spells_name


def load_into(rt, node):
    path = data_path(rt.model.filename, node)
    try:
        if node.name in rt.model.relations:
            columns = read_table_once(path, rt.model.loaded_tables)
            rt.model.loaded_tables.pop(path, None)      # held no longer than needed (a run again reads anew)
            add_rows(rt, node.name, columns, node.span)
        else:
            rt.set_var(node.name, tl.tensor(read_tensor(path, node.name)), None, node.span)
    except DataFileError as err:
        raise rt.error(str(err), node.span) from None


def add_rows(rt, name, columns, span=None, facts=0):
    """Adds facts given as one array of constants per argument (`facts` counts those of a relation
    without arguments, which has no column to count them)."""
    rel = rt.model.relations[name]
    if len(columns) != rel.arity:
        raise rt.error(f"relation '{name}' takes {rel.arity} arguments but the data has "
                       f"{len(columns)} columns", span)
    if not len(columns) and facts:
        rel.rows.append(np.zeros((1, 0), dtype=np.int64))
        rt.data_changed()
    if not len(columns) or not len(columns[0]):
        return
    if len({len(c) for c in columns}) != 1:
        raise rt.error(f"the columns for '{name}' have different lengths", span)
    codes = [_codes(rt, dom, col, name, k, span) for k, (dom, col) in enumerate(zip(rel.domains, columns))]
    rel.rows.append(np.stack(codes, axis=1))
    rt.data_changed()


def _codes(rt, dom, col, name, k, span):
    """A column's constants as `dom` holds them (integers of a range, else indices), adding new
    ones where the domain grows."""
    if not isinstance(col, np.ndarray) and all(isinstance(c, int) and not isinstance(c, bool) for c in col[:64]):
        col = np.asarray(col)
    if isinstance(col, np.ndarray) and col.dtype.kind in "iu":
        lo, hi = int(col.min()), int(col.max())
        if dom.kind == "inferred" and not dom.members:
            # As for written facts: 0..max+1, or min..max+1 with negative integers.
            dom.kind, dom.start, dom.stop = "range", min(lo, 0), hi + 1
        if dom.kind == "range":
            if not dom.declared:
                dom.start, dom.stop = min(dom.start, lo), max(dom.stop, hi + 1)
            if lo < dom.start or hi >= dom.stop:
                bad = int(col[(col < dom.start) | (col >= dom.stop)][0])
                raise rt.error(f"{bad} (argument {k} of {name}) is not in domain {dom.name}", span)
            return col.astype(np.int64)
        col = col.tolist()
    elif isinstance(col, np.ndarray):
        # (an object array keeps its constants: a `Text` is a string, a `str` a name)
        col = col.tolist() if col.dtype == object else col.astype(str).tolist()
    unnamed = {c for c in set(col) if type(c) is str and not spells_name(c)}
    if unnamed:
        col = [Text(c) if type(c) is str and c in unnamed else c for c in col]
    # Names of loaded facts are constants in what is read later (queries), as written facts' are.
    rt.model.constants.update(c for c in col if constant_kind(c) == NAME)
    index = dom._index
    if dom.grows:
        # New constants get the next indices in order of first appearance (dicts keep order).
        before = len(index)
        codes = np.fromiter((index.setdefault(constant_key(c), len(index)) for c in col), dtype=np.int64, count=len(col))
        dom.members.extend(map(constant_of, itertools.islice(index, before, None)))
        return codes
    missing = next((c for c in col if constant_key(c) not in index), None)
    if missing is not None:
        raise rt.error(f"'{missing}' (argument {k} of {name}) is not in domain {dom.name}", span)
    return np.fromiter((index[constant_key(c)] for c in col), dtype=np.int64, count=len(col))

