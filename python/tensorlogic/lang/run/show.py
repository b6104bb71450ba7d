"""How values print: tensors like numpy arrays, booleans as true/false, relations as their tuples,
query answers as bindings (a string constant in quotes, a name bare)."""
from __future__ import annotations

import numpy as np

from ..constants import shown
from .labelled import Labelled, is_tensor


def plain(v: Labelled):
    """An indexed value as an ordinary tensor (axes in the order its indices first appeared)."""
    return v.t


# The most items a printed list shows (its nested lists' included); the rest print as "...". A list can share
# its items ([x, x] doubled 40 times holds 2^40 numbers in 40 steps).
MAX_SHOWN_ITEMS = 10_000


def show(v, budget=None) -> str:
    """How value v prints; `budget`: a one-element list counting the list items still to show."""
    if isinstance(v, Labelled):
        v = plain(v)
    if is_tensor(v):
        arr = v.detach().numpy() if hasattr(v, "detach") else v.numpy()
        if arr.dtype == np.float16:
            arr = _shortest(arr)
        if arr.dtype.kind == "f":
            arr = arr + 0.0         # -0.0 (round(-0.2)) prints as 0, as a reader expects
        if arr.ndim == 0:
            return _scalar(arr.item())
        return np.array2string(arr, separator=", ", precision=4, suppress_small=True)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _scalar(v)
    if isinstance(v, (list, tuple)):
        budget = [MAX_SHOWN_ITEMS] if budget is None else budget
        parts = []
        for x in v:
            if budget[0] <= 0:
                parts.append("...")
                break
            budget[0] -= 1
            parts.append(show(x, budget))
        inner = ", ".join(parts)
        return f"[{inner}]" if isinstance(v, list) else f"({inner}{',' if len(v) == 1 else ''})"
    if v is None:
        return "none"
    return str(v)


def _shortest(arr):
    """f16 values as the shortest decimals that read back as the same f16 (the value a program
    rounded to 1.4 prints as 1.4, not as its f16 neighbour 1.40039); integers stay exact (65504).
    A large array prints only its edges, so it is converted as float32 instead of value by value."""
    if arr.size > np.get_printoptions()["threshold"]:
        return arr.astype(np.float32)
    flat = [float(x) if not np.isfinite(x) or float(x).is_integer() else float(str(x))
            for x in arr.reshape(-1)]
    return np.array(flat, dtype=np.float64).reshape(arr.shape)


def _scalar(x) -> str:
    if isinstance(x, float):
        return f"{x + 0.0:.6g}"
    return str(x)


def show_rows(rows) -> str:
    if isinstance(rows, bool):
        return "true" if rows else "false"
    if not rows:
        return "false"
    return "\n".join(", ".join(f"{k} = {shown(v)}" for k, v in row.items()) for row in rows)


def show_relation(rel, t) -> str:
    """A relation's tuples from its dense 0/1 tensor, in index order."""
    arr = t.detach().numpy() if hasattr(t, "detach") else t.numpy()
    if rel.arity == 0:
        return "true" if arr.item() > 0 else "false"
    return _tuples(rel, zip(*np.nonzero(arr > 0)), [d.start if d.kind == "range" else 0 for d in rel.domains])


def show_table(rel, table, lows) -> str:
    """A relation's tuples from its rows (int64 [n, arity] as the tuple engine holds them: an integer
    domain's values, a domain of names' indices offset by `lows`), in the order show_relation
    prints: the dense form of a large relation may not fit in memory."""
    if rel.arity == 0:
        return "true" if len(table) else "false"
    rows = np.asarray(table, dtype=np.int64)
    rows = rows[np.lexsort(rows.T[::-1])] if len(rows) else rows
    return _tuples(rel, rows, [0 if d.kind == "range" else -lo for d, lo in zip(rel.domains, lows)])


def _tuples(rel, rows, shifts):
    """Lines of tuples: column k plus shifts[k] is the constant of an integer domain k, or the index
    of the constant of a domain of names (an integer domain's constants are never listed: a range
    of ids up to 10^9 would fill the memory to print a few tuples)."""
    names = [None if d.kind == "range" else d.constants() for d in rel.domains]
    lines = []
    for row in rows:
        args = (int(v) + s if c is None else c[int(v) + s] for c, v, s in zip(names, row, shifts))
        lines.append(f"{rel.name}({', '.join(map(shown, args))})")
    return "\n".join(lines) if lines else f"{rel.name}: no tuples"
